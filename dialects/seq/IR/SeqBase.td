//===- SeqBase.td - seq dialect definition -----------------*- tablegen -*-===//
//
// The `seq` dialect: attention, scans and recurrences as first-class ops with
// exact semantics. The op spec (formulas and constraint ids) is
// dialects/seq/README.md.
//
//===----------------------------------------------------------------------===//

#ifndef SEQ_BASE_TD
#define SEQ_BASE_TD

include "mlir/IR/OpBase.td"

def Seq_Dialect : Dialect {
  let name = "seq";
  let cppNamespace = "::mlir::seqc::seq";
  let summary = "Sequence-model ops: attention, scans, recurrences";
  let description = [{
    The `seq` dialect states the computations of sequence models as single ops
    with exact semantics: softmax attention with masks as index predicates,
    associative scans, diagonal linear recurrences, Mamba's selective scan,
    gated linear attention, general nonlinear recurrences, causal depthwise
    convolution, RMSNorm and rotary embeddings. Ops take and return ranked
    tensors in batch, heads, time, features order (as PyTorch's SDPA);
    bufferization happens in the pipelines.
  }];
  // `seq.in_place` on function results (a result written into an argument's
  // buffer).
  let hasRegionResultAttrVerify = 1;
  let extraClassDeclaration = [{
    /// The result attribute naming the argument a result is written into.
    static constexpr ::llvm::StringLiteral kInPlaceAttrName = "seq.in_place";
  }];
  // Canonicalization materializes arith constants and tensor reshapes.
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

class Seq_Op<string mnemonic, list<Trait> traits = []>
    : Op<Seq_Dialect, mnemonic, traits>;

// Storage types of the floating-point operands: f32 accumulation is the
// lowering's business, the IR only states storage.
def Seq_FloatTensor : RankedTensorOf<[F16, BF16, F32]>;
def Seq_F32Tensor : RankedTensorOf<[F32]>;
def Seq_IntTensor : RankedTensorOf<[I32, I64]>;
// Scans combine integers or floats.
def Seq_ScanTensor : RankedTensorOf<[AnySignlessInteger, AnyFloat]>;

#endif // SEQ_BASE_TD
