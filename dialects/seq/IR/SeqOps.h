//===- SeqOps.h - seq dialect ops -------------------------------*- C++ -*-===//
//
// Part of seqc. Op classes of the `seq` dialect, generated from SeqOps.td.
//
//===----------------------------------------------------------------------===//

#ifndef SEQ_IR_SEQOPS_H
#define SEQ_IR_SEQOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "seq/IR/SeqDialect.h"

#define GET_OP_CLASSES
#include "seq/IR/SeqOps.h.inc"

#endif // SEQ_IR_SEQOPS_H
