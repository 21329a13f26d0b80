//===- SeqDialect.cpp - seq dialect registration --------------------------===//
//
// Part of seqc.
//
//===----------------------------------------------------------------------===//

#include "seq/IR/SeqDialect.h"
#include "seq/IR/SeqOps.h"

using namespace mlir;
using namespace mlir::seqc::seq;

#include "seq/IR/SeqDialect.cpp.inc"

void SeqDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "seq/IR/SeqOps.cpp.inc"
      >();
}
