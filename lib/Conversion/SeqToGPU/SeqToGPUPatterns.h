//===- SeqToGPUPatterns.h - pieces shared by the seq GPU kernels -*- C++ -*-===//
//
// Part of seqc. The memref plumbing and launch of one kernel (used by every
// seq op's GPU lowering), and the tensor-core attention lowering.
//
//===----------------------------------------------------------------------===//

#ifndef SEQC_LIB_CONVERSION_SEQTOGPU_SEQTOGPUPATTERNS_H
#define SEQC_LIB_CONVERSION_SEQTOGPU_SEQTOGPUPATTERNS_H

#include "../SeqToLinalg/LoweringUtils.h"

#include "seq/IR/SeqOps.h"
#include "seqc/Transforms/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/FunctionInterfaces.h"

namespace mlir::seqc {

/// Builds the memref plumbing and the launch of one kernel.
class GpuKernelBuilder {
public:
  explicit GpuKernelBuilder(ImplicitLocOpBuilder &b) : b(b) {}

  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, v); }

  /// A read-only view of `tensor` with any strides.
  Value buffer(Value tensor, bool unitInnerStride = false) {
    if (!tensor)
      return {};
    auto type = cast<RankedTensorType>(tensor.getType());
    SmallVector<int64_t> strides(type.getRank(), ShapedType::kDynamic);
    auto layout = StridedLayoutAttr::get(b.getContext(), ShapedType::kDynamic,
                                         strides);
    auto memrefType =
        MemRefType::get(type.getShape(), type.getElementType(), layout);
    Value view = bufferization::ToBufferOp::create(b, memrefType, tensor,
                                                   /*read_only=*/true);
    if (!unitInnerStride || strides.empty())
      return view;
    // Kernels that read 16 bytes at a time rely on the unit innermost stride
    // that the runtime passes and bufferization allocates.
    // (A reinterpret_cast, not a memref.cast: canonicalization would fold
    // the cast into the loads and lose the unit stride.)
    auto meta = memref::ExtractStridedMetadataOp::create(b, view);
    SmallVector<OpFoldResult> sizes, newStrides;
    for (int64_t d : type.getShape())
      sizes.push_back(b.getIndexAttr(d));
    for (Value stride : meta.getStrides().drop_back())
      newStrides.push_back(stride);
    newStrides.push_back(b.getIndexAttr(1));
    strides.back() = 1;
    return memref::ReinterpretCastOp::create(
        b,
        MemRefType::get(type.getShape(), type.getElementType(),
                        StridedLayoutAttr::get(b.getContext(),
                                               ShapedType::kDynamic, strides)),
        meta.getBaseBuffer(), OpFoldResult(meta.getOffset()), sizes,
        newStrides);
  }

  /// A new row-major buffer for a result of `type`.
  Value output(RankedTensorType type) {
    return memref::AllocOp::create(
        b, MemRefType::get(type.getShape(), type.getElementType()));
  }

  /// The tensor a kernel wrote into `buffer`.
  Value result(Value buffer, RankedTensorType type) {
    auto op = bufferization::ToTensorOp::create(b, type, buffer);
    op.setRestrict(true);
    op.setWritable(true);
    return op;
  }

  /// `blocks` blocks of `threads` threads; `body(b, blockId, threadId)`.
  /// `sharedFloats` f32 of shared memory are `shared` meanwhile.
  /// `minBlocksPerSM` > 1 asks ptxas to fit that many blocks on a
  /// multiprocessor (its register cap then 65536 / (threads · blocks);
  /// `nvvm.minctasm` on the kernel, by seqc-gpu-kernel-bounds).
  void launch(int64_t blocks, int64_t threads,
              function_ref<void(ImplicitLocOpBuilder &, Value, Value)> body,
              int64_t sharedFloats = 0,
              ArrayRef<Type> extraWorkgroup = {},
              int64_t dynamicSharedBytes = 0, int64_t minBlocksPerSM = 1) {
    launch(index(blocks), threads, body, sharedFloats, extraWorkgroup,
           dynamicSharedBytes, minBlocksPerSM);
  }
  /// The same with a block count computed by the host code (an index).
  void launch(Value blocks, int64_t threads,
              function_ref<void(ImplicitLocOpBuilder &, Value, Value)> body,
              int64_t sharedFloats = 0,
              ArrayRef<Type> extraWorkgroup = {},
              int64_t dynamicSharedBytes = 0, int64_t minBlocksPerSM = 1) {
    Value one = index(1);
    SmallVector<Type> workgroup;
    if (sharedFloats > 0)
      workgroup.push_back(sharedType({sharedFloats}, b.getF32Type()));
    workgroup.append(extraWorkgroup.begin(), extraWorkgroup.end());
    Value dynamicBytes;
    if (dynamicSharedBytes > 0)
      dynamicBytes = arith::ConstantIntOp::create(b, b.getI32Type(),
                                                  dynamicSharedBytes);
    auto launch = gpu::LaunchOp::create(b, blocks, one, one,
                                        index(threads), one, one,
                                        /*dynamicSharedMemorySize=*/dynamicBytes,
                                        /*asyncTokenType=*/nullptr,
                                        /*asyncDependencies=*/{}, workgroup);
    if (minBlocksPerSM > 1)
      launch->setAttr(kMinBlocksPerSMAttr,
                      b.getI32IntegerAttr(static_cast<int32_t>(minBlocksPerSM)));
    // The kernel is named after its function and the op it lowers (the op
    // being rewritten, where the builder inserts): `decode_attention`.
    if (b.getInsertionPoint() != b.getInsertionBlock()->end()) {
      Operation *origin = &*b.getInsertionPoint();
      std::string name = origin->getName().stripDialect().str();
      llvm::replace(name, '.', '_');
      if (auto func = origin->getParentOfType<FunctionOpInterface>())
        name = (func.getName() + "_" + name).str();
      if (!kernelPart.empty())
        name += "_" + kernelPart;
      launch.setFunctionAttr(FlatSymbolRefAttr::get(b.getContext(), name));
    }
    OpBuilder::InsertionGuard guard(b);
    Block &entry = launch.getBody().front();
    b.setInsertionPointToStart(&entry);
    shared = sharedFloats > 0 ? Value(launch.getWorkgroupAttributions()[0])
                              : Value();
    workgroupBuffers.clear();
    for (BlockArgument arg : launch.getWorkgroupAttributions().drop_front(
             sharedFloats > 0 ? 1 : 0))
      workgroupBuffers.push_back(arg);
    body(b, launch.getBlockIds().x, launch.getThreadIds().x);
    gpu::TerminatorOp::create(b);
    shared = Value();
    workgroupBuffers.clear();
  }

  /// Views of the launch's dynamic shared memory (launch's
  /// `dynamicSharedBytes`), one per type, laid out one after the other.
  SmallVector<Value> dynamicShared(ImplicitLocOpBuilder &kb,
                                   ArrayRef<MemRefType> types) {
    auto bytes = MemRefType::get(
        {ShapedType::kDynamic}, kb.getI8Type(), AffineMap(),
        gpu::AddressSpaceAttr::get(kb.getContext(),
                                   gpu::AddressSpace::Workgroup));
    Value base = gpu::DynamicSharedMemoryOp::create(kb, bytes);
    SmallVector<Value> views;
    int64_t offset = 0;
    for (MemRefType type : types) {
      views.push_back(memref::ViewOp::create(kb, type, base, index(offset),
                                             ValueRange{}));
      offset += type.getNumElements() *
                llvm::divideCeil(type.getElementTypeBitWidth(), 8);
    }
    return views;
  }

  /// A shared-memory (workgroup) buffer type.
  MemRefType sharedType(ArrayRef<int64_t> shape, Type elementType) {
    return MemRefType::get(shape, elementType, AffineMap(),
                           gpu::AddressSpaceAttr::get(
                               b.getContext(), gpu::AddressSpace::Workgroup));
  }

  /// The sum of `v` over the block's `threads` threads (a multiple of 32),
  /// in every thread: xor shuffles within each warp, then the warps' sums
  /// through `shared` (one f32 per warp).
  Value blockSum(ImplicitLocOpBuilder &kb, Value v, Value thread,
                 int64_t threads) {
    ScalarMath m(kb);
    Value width = arith::ConstantIntOp::create(kb, kb.getI32Type(), 32);
    for (int64_t offset = 16; offset >= 1; offset /= 2) {
      Value o = arith::ConstantIntOp::create(kb, kb.getI32Type(), offset);
      Value other = gpu::ShuffleOp::create(kb, v, o, width,
                                           gpu::ShuffleMode::XOR)
                        .getShuffleResult();
      v = m.add(v, other);
    }
    Value lane = arith::RemUIOp::create(kb, thread, index(32));
    Value warp = arith::DivUIOp::create(kb, thread, index(32));
    Value first = arith::CmpIOp::create(kb, arith::CmpIPredicate::eq, lane,
                                        index(0));
    scf::IfOp::create(kb, first, [&](OpBuilder &nb, Location loc) {
      memref::StoreOp::create(nb, loc, v, shared, ValueRange{warp});
      scf::YieldOp::create(nb, loc);
    });
    gpu::BarrierOp::create(kb);
    Value total = m.constant(0.0);
    for (int64_t w = 0; w < threads / 32; ++w)
      total = m.add(total, memref::LoadOp::create(kb, shared,
                                                  ValueRange{index(w)}));
    return total;
  }

  /// One thread per index of [0, total): `body(b, index)`.
  void launchFlat(int64_t total,
                  function_ref<void(ImplicitLocOpBuilder &, Value)> body) {
    if (total == 0)
      return;
    int64_t threads = std::min<int64_t>(total, 256);
    launch(llvm::divideCeil(total, threads), threads,
           [&](ImplicitLocOpBuilder &kb, Value block, Value thread) {
             Value i = arith::AddIOp::create(
                 kb, arith::MulIOp::create(kb, block, index(threads)), thread);
             Value inRange = arith::CmpIOp::create(
                 kb, arith::CmpIPredicate::ult, i, index(total));
             scf::IfOp::create(kb, inRange, [&](OpBuilder &nb, Location loc) {
               ImplicitLocOpBuilder ib(loc, nb);
               body(ib, i);
               scf::YieldOp::create(ib);
             });
           });
  }

  /// The indices of `linear` in a row-major space of `shape`.
  SmallVector<Value> delinearize(ImplicitLocOpBuilder &kb, Value linear,
                                 ArrayRef<int64_t> shape) {
    SmallVector<Value> indices(shape.size());
    for (int64_t d = shape.size() - 1; d >= 0; --d) {
      if (d == 0) {
        indices[d] = linear;
        break;
      }
      Value size = index(shape[d]);
      indices[d] = arith::RemUIOp::create(kb, linear, size);
      linear = arith::DivUIOp::create(kb, linear, size);
    }
    return indices;
  }

  /// The element at `indices` in f32 (floats widened, integers as they are).
  Value load(ImplicitLocOpBuilder &kb, Value memref, ValueRange indices) {
    Value v = memref::LoadOp::create(kb, memref, indices);
    if (isa<FloatType>(v.getType()))
      return ScalarMath(kb).f32(v);
    return v;
  }

  /// Stores f32 `v` at `indices`, narrowed to the buffer's element type.
  void store(ImplicitLocOpBuilder &kb, Value v, Value memref,
             ValueRange indices) {
    Type elt = cast<MemRefType>(memref.getType()).getElementType();
    memref::StoreOp::create(kb, ScalarMath(kb).to(v, elt), memref, indices);
  }

  ImplicitLocOpBuilder &b;
  /// Which kernel of a multi-kernel lowering the next launches are
  /// (`combine`: named `<func>_attention_combine`); empty for the main one.
  std::string kernelPart;
  /// The shared memory of the kernel being built, if it asked for some.
  Value shared;
  /// Its extra workgroup buffers (launch's `extraWorkgroup`), in order.
  SmallVector<Value> workgroupBuffers;
};

/// 2^x on the special-function unit (ex2.approx.ftz: relative error about
/// 2^-22; 2^-inf = 0), for the kernels' softmax and decay exponentials.
inline Value nvvmExp2(ImplicitLocOpBuilder &b, Value x) {
  return LLVM::CallIntrinsicOp::create(
             b, b.getF32Type(), b.getStringAttr("llvm.nvvm.ex2.approx.ftz.f"),
             ValueRange{x})
      .getResult(0);
}

/// 2^x on the FMA and integer pipes, for kernels whose special-function
/// unit is the bottleneck (FlashAttention-3 moves part of its softmax
/// exponentials off it the same way): x clamped to [-125, 127], rounded to
/// an integer j by adding 1.5·2^23 (j lands in the low mantissa bits), 2^f
/// of the rest f in [-0.5, 0.5] by a degree-5 polynomial (relative error
/// 2.3e-7 in f32, ex2.approx's 2^-22 is 2.4e-7), then j added to its
/// exponent. Below -125 it returns about 2^-125 where ex2.approx.ftz
/// returns 0 (2.4e-38 either way against any state); NaN is clamped to
/// 127 (minnum/maxnum), so it gives 2^127, not NaN (a scan's NaN Δ still
/// reaches its state through Δ·u); 2^0 is 1 + 2^-23, not exactly 1.
inline Value polyExp2(ImplicitLocOpBuilder &b, Value x) {
  Type f32 = b.getF32Type(), i32 = b.getI32Type();
  auto c = [&](double v) {
    return arith::ConstantOp::create(b, b.getF32FloatAttr(v)).getResult();
  };
  x = arith::MaxNumFOp::create(b, arith::MinNumFOp::create(b, x, c(127.0)),
                                c(-125.0));
  Value shifted = arith::AddFOp::create(b, x, c(12582912.0));
  Value j = arith::SubFOp::create(b, shifted, c(12582912.0));
  Value f = arith::SubFOp::create(b, x, j);
  const double coefficients[] = {1.0000001192092896,   0.6931469440460205,
                                 0.24022121727466583,  0.05550742149353027,
                                 0.009675460867583752, 0.0013267087051644921};
  Value p = c(coefficients[5]);
  for (int i = 4; i >= 0; --i)
    p = math::FmaOp::create(b, p, f, c(coefficients[i]));
  Value exponent = arith::ShLIOp::create(
      b, arith::BitcastOp::create(b, i32, shifted),
      arith::ConstantIntOp::create(b, i32, 23));
  return arith::BitcastOp::create(
      b, f32,
      arith::AddIOp::create(b, arith::BitcastOp::create(b, i32, p), exponent));
}

/// An NVVM f32 intrinsic of one operand by name ("llvm.nvvm.lg2.approx.ftz.f").
inline Value nvvmUnary(ImplicitLocOpBuilder &b, StringRef name, Value x) {
  return LLVM::CallIntrinsicOp::create(b, b.getF32Type(),
                                       b.getStringAttr(name), ValueRange{x})
      .getResult(0);
}

/// softplus(x) = max(x, 0) + log1p(t), t = e^-|x| in (0, 1], on the
/// special-function unit: log1p(t) as lg2.approx(1 + t)·ln 2 where 1 + t
/// keeps t's bits (t >= 1/16), else its series to t^5 (relative error
/// below 2e-7); lg2.approx's absolute error 2^-22 makes at most 3e-6 of
/// log1p(t) >= 0.06. About 15 instructions where the exact log1p
/// polynomial and its division took about 80.
inline Value fastSoftplus(ImplicitLocOpBuilder &b, Value x) {
  ScalarMath m(b);
  Value absX = math::AbsFOp::create(b, x);
  Value t = nvvmExp2(b, m.mul(absX, m.constant(-1.4426950408889634)));
  Value viaLog = m.mul(
      nvvmUnary(b, "llvm.nvvm.lg2.approx.ftz.f", m.add(m.constant(1.0), t)),
      m.constant(0.6931471805599453));
  // t (1 - t/2 + t^2/3 - t^3/4 + t^4/5), by Horner.
  Value p = m.constant(0.2);
  for (double c : {-0.25, 1.0 / 3.0, -0.5, 1.0})
    p = math::FmaOp::create(b, p, t, m.constant(c));
  Value series = m.mul(p, t);
  Value small = m.cmp(arith::CmpFPredicate::OLT, t, m.constant(0.0625));
  return m.add(m.max(x, m.constant(0.0)), m.select(small, series, viaLog));
}

/// silu(x) = x / (1 + e^-x) with ex2.approx and rcp.approx (relative error
/// a few ulps; e^-x overflowing to +inf gives -0, as the exact form's 0).
inline Value fastSilu(ImplicitLocOpBuilder &b, Value x) {
  ScalarMath m(b);
  Value e = nvvmExp2(b, m.mul(x, m.constant(-1.4426950408889634)));
  return m.mul(x, nvvmUnary(b, "llvm.nvvm.rcp.approx.ftz.f",
                            m.add(m.constant(1.0), e)));
}

/// max(x, y) for the GPU kernels' running maxima: llvm.maxnum with the
/// no-NaN flag, one max.f32 (which returns the non-NaN operand). Without
/// the flag LLVM 22's NVPTX backend expands maxnum into two compares and
/// two selects (signalling-NaN semantics), 4 instructions per score in the
/// attention kernels' row maxima. A NaN score still reaches the output: its
/// exponent is NaN.
inline Value gpuMax(ImplicitLocOpBuilder &b, Value x, Value y) {
  return arith::MaxNumFOp::create(b, x, y, arith::FastMathFlags::nnan);
}

/// max (or sum) of `v` over the 4 lanes of a tensor-core fragment row
/// (lanes 4g..4g+3), by xor shuffles.
inline Value quadReduce(ImplicitLocOpBuilder &b, Value v, bool isMax) {
  ScalarMath m(b);
  Value width = arith::ConstantIntOp::create(b, b.getI32Type(), 32);
  for (int64_t offset : {1, 2}) {
    Value o = arith::ConstantIntOp::create(b, b.getI32Type(), offset);
    Value other =
        gpu::ShuffleOp::create(b, v, o, width, gpu::ShuffleMode::XOR)
            .getShuffleResult();
    v = isMax ? gpuMax(b, v, other) : m.add(v, other);
  }
  return v;
}

/// How the tensor-core attention kernels turn raw scores Q·Kᵀ into
/// exponents: 2^(c·s - m) with the row max m taken on the raw scores
/// (c = scale·log2 e > 0 keeps the max), or, with a softcap or a
/// non-positive scale, each score transformed first (in log2 units) and
/// c = 1.
struct AttentionScores {
  explicit AttentionScores(seq::AttentionOp op)
      : scale(op.getEffectiveScale()) {
    if (op.getSoftcap())
      softcap = op.getSoftcap()->convertToDouble();
    transformFirst = softcap || !(scale > 0);
    c = transformFirst ? 1.0 : scale * kLog2E;
  }
  /// `v` as it enters the row max.
  Value transform(ImplicitLocOpBuilder &b, Value v) const {
    ScalarMath m(b);
    if (softcap) {
      v = m.mul(v, m.constant(scale));
      return m.mul(m.constant(*softcap * kLog2E),
                   m.tanh(m.div(v, m.constant(*softcap))));
    }
    if (transformFirst)
      return m.mul(v, m.constant(scale * kLog2E));
    return v;
  }
  static constexpr double kLog2E = 1.4426950408889634;
  double scale;
  std::optional<double> softcap;
  bool transformFirst;
  double c;
};

/// seq.attention's result buffers (O, and the LSE when asked for) and the
/// op's replacement by them once the kernels that write them are built.
struct AttentionOutputs {
  AttentionOutputs(seq::AttentionOp op, GpuKernelBuilder &k)
      : oType(cast<RankedTensorType>(op.getOutput().getType())) {
    out = k.output(oType);
    if (op.getLse()) {
      lseType = cast<RankedTensorType>(op.getLse().getType());
      lse = k.output(lseType);
    }
  }
  void replace(seq::AttentionOp op, PatternRewriter &rewriter,
               GpuKernelBuilder &k) const {
    SmallVector<Value> results = {k.result(out, oType)};
    if (lse)
      results.push_back(k.result(lse, lseType));
    rewriter.replaceOp(op, results);
  }
  RankedTensorType oType, lseType;
  Value out, lse;
};

/// Two f32 as one vector<2 x elt> of 16-bit floats (`lo` first), rounded by
/// one packed conversion: a tensor-core A-fragment register, or a pair of
/// outputs.
inline Value narrowPair(ImplicitLocOpBuilder &b, Type elt, Value lo, Value hi) {
  Value pair = vector::FromElementsOp::create(
      b, VectorType::get({2}, b.getF32Type()), ValueRange{lo, hi});
  return arith::TruncFOp::create(b, VectorType::get({2}, elt), pair);
}

/// Stores (lo, hi) narrowed to `out`'s element type at `at` (two
/// neighbouring columns; 4-byte aligned: even columns of even-length rows)
/// when `valid`.
inline void storeOutputPair(ImplicitLocOpBuilder &b, Value out, ValueRange at,
                            Value valid, Value lo, Value hi) {
  Type elt = cast<MemRefType>(out.getType()).getElementType();
  Value pair = narrowPair(b, elt, lo, hi);
  scf::IfOp::create(b, valid, [&](OpBuilder &tb, Location tl) {
    ImplicitLocOpBuilder ib(tl, tb);
    vector::StoreOp::create(ib, pair, out, at, /*nontemporal=*/false,
                            llvm::MaybeAlign(4));
    scf::YieldOp::create(ib);
  });
}

/// A tensor-core attention row's totals at the end: the sum l of its
/// lanes' partial sums, whether any key was visible (attentionRowSawKeys),
/// 1/l (0 when none), and from them its LSE given the running max m in
/// log2 units (m·ln 2 + ln l; -inf when none).
struct AttentionRowTotals {
  AttentionRowTotals(ImplicitLocOpBuilder &b, Value lanePartialSum) {
    ScalarMath m(b);
    Value zero = m.constant(0.0);
    l = quadReduce(b, lanePartialSum, /*isMax=*/false);
    any = attentionRowSawKeys(m, l);
    inv = m.select(any, m.div(m.constant(1.0), l), zero);
  }
  Value lse(ImplicitLocOpBuilder &b, Value rowMax) const {
    ScalarMath m(b);
    Value safe = m.select(any, l, m.constant(1.0));
    return m.select(any,
                    m.add(m.mul(rowMax, m.constant(0.6931471805599453)),
                          m.log(safe)),
                    m.constant(-INFINITY));
  }
  Value l, any, inv;
};

/// The (batch, q head, row block) that attention block `block` (of
/// batch * qHeads * qTiles) works on. Without a causal band, row blocks of
/// one (batch, head) are neighbours (they share K and V in L2). Under a
/// causal band a later row block sees more keys, so the blocks go heaviest
/// first: the (batch, head) pairs in groups whose K and V fit in about
/// 24 MiB together (a group is whole GQA groups of q heads), and within a
/// group the row blocks in descending order, each across the group's heads.
/// The grid then ends on the lightest blocks (no tail of heavy ones while
/// the rest of the GPU idles), and the blocks running together read the K
/// and V of one group of heads.
inline SmallVector<Value> attentionBlockOrder(ImplicitLocOpBuilder &b,
                                              Value block, int64_t batch,
                                              int64_t qHeads, int64_t group,
                                              int64_t qTiles, int64_t kvBytes,
                                              bool causal) {
  auto idx = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, v);
  };
  int64_t pairs = batch * qHeads;
  if (!causal || qTiles == 1) {
    Value qTile = arith::RemUIOp::create(b, block, idx(qTiles));
    Value bh = arith::DivUIOp::create(b, block, idx(qTiles));
    return {arith::DivUIOp::create(b, bh, idx(qHeads)),
            arith::RemUIOp::create(b, bh, idx(qHeads)), qTile};
  }
  constexpr int64_t kGroupBytes = 24 << 20;
  int64_t kvPerGroup = std::max<int64_t>(1, kGroupBytes / std::max<int64_t>(kvBytes, 1));
  int64_t heads = std::min(pairs, kvPerGroup * group);
  Value span = idx(heads * qTiles);
  Value start = arith::MulIOp::create(
      b, arith::DivUIOp::create(b, block, span), idx(heads));
  Value within = arith::RemUIOp::create(b, block, span);
  // The last group may be smaller.
  Value size = arith::MinUIOp::create(
      b, idx(heads), arith::SubIOp::create(b, idx(pairs), start));
  Value qTile = arith::SubIOp::create(
      b, idx(qTiles - 1), arith::DivUIOp::create(b, within, size));
  Value bh = arith::AddIOp::create(b, start,
                                   arith::RemUIOp::create(b, within, size));
  return {arith::DivUIOp::create(b, bh, idx(qHeads)),
          arith::RemUIOp::create(b, bh, idx(qHeads)), qTile};
}

/// seq.attention's visibility band in a kernel: key j is visible to the
/// query at position p = row + L - Sq (L the clamped kv length) when
/// j < L and (causal) j <= p, (right) j <= p + right, (left) j >= p - left.
/// Positions are i32 (sequence lengths stay far below 2^31; windows are
/// clamped to Sq + Skv, which sees the same keys).
struct AttentionBand {
  AttentionBand(seq::AttentionOp op, int64_t sq, int64_t skv)
      : sq(sq), skv(skv), causal(op.getCausal()) {
    ArrayRef<int64_t> window = op.getWindow();
    left = std::min(window[0], sq + skv);
    right = std::min(window[1], sq + skv);
  }
  Value i32(ImplicitLocOpBuilder &b, int64_t v) const {
    return arith::ConstantIntOp::create(b, b.getI32Type(), v);
  }
  /// L and L - Sq for batch `bIdx` (`lengths` may be null: L = Skv).
  void setup(ImplicitLocOpBuilder &b, Value lengths, Value bIdx) {
    len = i32(b, skv);
    if (lengths) {
      Value l = memref::LoadOp::create(b, lengths, ValueRange{bIdx});
      Type lType = l.getType();
      auto lc = [&](int64_t v) {
        return arith::ConstantIntOp::create(b, lType, v).getResult();
      };
      l = arith::MinSIOp::create(b, arith::MaxSIOp::create(b, l, lc(0)),
                                 lc(skv));
      if (lType != b.getI32Type())
        l = arith::TruncIOp::create(b, b.getI32Type(), l);
      len = l;
    }
    shift = arith::SubIOp::create(b, len, i32(b, sq));
  }
  /// The position (i32) of query row `row` (index).
  Value position(ImplicitLocOpBuilder &b, Value row) const {
    return arith::AddIOp::create(
        b, arith::IndexCastOp::create(b, b.getI32Type(), row), shift);
  }
  /// Whether keys up to jHi (and from jLo) are visible to positions up to
  /// pHi (and from pLo): per element jHi = jLo and pHi = pLo; for a tile,
  /// the corners that bind each bound.
  Value visible(ImplicitLocOpBuilder &b, Value jHi, Value pHi, Value jLo,
                Value pLo) const {
    Value vis = arith::CmpIOp::create(b, arith::CmpIPredicate::slt, jHi, len);
    auto andWith = [&](arith::CmpIPredicate pred, Value x, Value y) {
      vis = arith::AndIOp::create(b, vis, arith::CmpIOp::create(b, pred, x, y));
    };
    if (causal)
      andWith(arith::CmpIPredicate::sle, jHi, pHi);
    if (right >= 0)
      andWith(arith::CmpIPredicate::sle, jHi,
              arith::AddIOp::create(b, pHi, i32(b, right)));
    if (left >= 0)
      andWith(arith::CmpIPredicate::sge, jLo,
              arith::SubIOp::create(b, pLo, i32(b, left)));
    return vis;
  }
  /// `score` if key `key` (index) is visible to position `p`, else -inf.
  Value mask(ImplicitLocOpBuilder &b, Value score, Value key, Value p) const {
    Value j = arith::IndexCastOp::create(b, b.getI32Type(), key);
    return arith::SelectOp::create(
        b, visible(b, j, p, j, p), score,
        arith::ConstantOp::create(b, b.getF32FloatAttr(-INFINITY)));
  }
  /// `scores(b, masked)` under a branch on whether the key tile [key0,
  /// key0 + keys) is wholly visible to positions [pFirst, pLast] (every key
  /// exists and lies in the band of each row: the band's upper bounds are
  /// tightest at (last key, first row), its lower bound at (first key, last
  /// row)); tiles wholly inside skip the masks' index arithmetic.
  SmallVector<Value>
  maskedTile(ImplicitLocOpBuilder &b, Value key0, int64_t keys, Value pFirst,
             Value pLast,
             function_ref<SmallVector<Value>(ImplicitLocOpBuilder &, bool)>
                 scores) const {
    Value keyFirst = arith::IndexCastOp::create(b, b.getI32Type(), key0);
    Value keyLast = arith::AddIOp::create(b, keyFirst, i32(b, keys - 1));
    Value full = visible(b, keyLast, pFirst, keyFirst, pLast);
    auto branch = scf::IfOp::create(
        b, full,
        [&](OpBuilder &tb, Location tl) {
          ImplicitLocOpBuilder pb(tl, tb);
          scf::YieldOp::create(pb, scores(pb, false));
        },
        [&](OpBuilder &eb, Location el) {
          ImplicitLocOpBuilder pb(el, eb);
          scf::YieldOp::create(pb, scores(pb, true));
        });
    return SmallVector<Value>(branch.getResults());
  }
  /// The key tiles [first, last) (index) that rows [row0, row0 + rows)
  /// may see.
  std::pair<Value, Value> tileRange(ImplicitLocOpBuilder &b, Value row0,
                                    int64_t rows, int64_t keysPerTile) const {
    Value pFirst = position(b, row0);
    Value pLast = arith::AddIOp::create(b, pFirst, i32(b, rows - 1));
    Value hi = len, lo = i32(b, 0);
    if (causal)
      hi = arith::MinSIOp::create(b, hi,
                                  arith::AddIOp::create(b, pLast, i32(b, 1)));
    if (right >= 0)
      hi = arith::MinSIOp::create(
          b, hi, arith::AddIOp::create(b, pLast, i32(b, right + 1)));
    if (left >= 0)
      lo = arith::MaxSIOp::create(
          b, lo, arith::SubIOp::create(b, pFirst, i32(b, left)));
    hi = arith::MaxSIOp::create(b, hi, lo);
    Value first = arith::IndexCastOp::create(
        b, b.getIndexType(),
        arith::DivSIOp::create(b, lo, i32(b, keysPerTile)));
    Value last = arith::IndexCastOp::create(
        b, b.getIndexType(),
        arith::DivSIOp::create(
            b, arith::AddIOp::create(b, hi, i32(b, keysPerTile - 1)),
            i32(b, keysPerTile)));
    return {first, last};
  }

  int64_t sq, skv;
  bool causal;
  int64_t left, right;
  Value len, shift;
};

/// Tile-shape overrides of the tensor-core attention (0: the kernel's own
/// choice).
struct MmaAttentionOptions {
  /// Query rows per warp: 16 or 32.
  int64_t rowsPerWarp = 0;
  /// Keys per tile: 16, 32, 64 or 128 (mma.sync); a multiple of 16 up to
  /// 256 (wgmma).
  int64_t keysPerTile = 0;
  /// Query rows per block of the wgmma kernel: 128 or 192.
  int64_t wgmmaRows = 0;
  /// K/V ring stages of the wgmma kernel: 2 to 4.
  int64_t wgmmaStages = 0;
  /// Resident blocks of the wgmma kernel taking its items in turn (0: a
  /// block per item; -1: the kernel's choice, one a multiprocessor under a
  /// window).
  int64_t wgmmaPersistent = -1;
  /// Blocks of the wgmma kernel a multiprocessor: 1 or 2 (0: the kernel's
  /// choice).
  int64_t wgmmaBlocksPerSM = 0;
  /// Blocks the split-key kernel's key splits aim at (0: the kernel's
  /// choice, mmaKeySplits).
  int64_t decodeBlocks = 0;
  /// Stages of the split-key kernel's TMA ring (sm_90; 0: cp.async, no
  /// ring).
  int64_t decodeTmaStages = 0;
};

/// Whether seq.attention can run on the tensor cores (mma.sync): bf16 or
/// f16 storage, head dims multiples of 16 (queries/keys) and 8 (values),
/// tiles within 110 KB of shared memory, no segment ids.
bool canLowerAttentionToMma(seq::AttentionOp op,
                            const MmaAttentionOptions &options);

/// Replaces `op` by a FlashAttention-2 kernel on mma.sync.m16n8k16.
void lowerAttentionToMma(seq::AttentionOp op, PatternRewriter &rewriter,
                         GpuKernelBuilder &k,
                         const MmaAttentionOptions &options);

/// Key splits of the tensor-core split-key kernel (flash-decoding on
/// mma.sync) for `op`, 0 where the one-pass kernels fill the GPU (or the
/// op cannot run on the tensor cores): few (batch, head) pairs of few query
/// rows over many keys.
int64_t mmaKeySplits(seq::AttentionOp op, const MmaAttentionOptions &options);

/// Stages of the split-key kernel's TMA ring on sm_90a for the option
/// attention-decode-tma (-1: the kernel's choice).
int64_t chooseDecodeTmaStages(int64_t option);

/// Replaces `op` by the split-key kernel (a block per batch, KV head, split
/// of the keys and tile of the GQA group's packed query rows) and the
/// combine kernel.
void lowerAttentionToMmaSplitKeys(seq::AttentionOp op,
                                  PatternRewriter &rewriter,
                                  GpuKernelBuilder &k,
                                  const MmaAttentionOptions &options,
                                  int64_t splits);

/// The combine kernel of a split-key attention: `partial` [rows, splits,
/// 2 + Dv] holds each (row, split)'s max m (natural log units), sum l and
/// unnormalized accumulators, rows = (batch, q head, query) flattened from
/// `rows`; writes the normalized rows to `out` (and their LSE to `lse`, if
/// any) and frees `partial`. `dependent` (sm_90 only): a dependent kernel
/// (SEQC_DEPENDENT_KERNEL_SUFFIX), launched while the split-key kernel
/// runs, that waits for it (griddepcontrol.wait) before reading.
void buildAttentionCombine(GpuKernelBuilder &k, Value partial, int64_t splits,
                           ArrayRef<int64_t> rows, int64_t valueDim, Value out,
                           Value lse, bool dependent = false);

/// Columns of one attention TMA box: 128 bytes of 16-bit floats, the span
/// of the 128-byte swizzle (the wgmma kernel's and the split-key ring's).
constexpr int64_t kAttentionBoxCols = 64;

/// A TMA tensor map (host code) of the 16-bit-float `tensor` [B, H, S, D]
/// (unit innermost stride): boxes of [1, 1, rows, kAttentionBoxCols] in the
/// 128-byte swizzle, 256-byte L2 promotion, zeros past the bounds.
Value attentionTensorMap(GpuKernelBuilder &k, Value tensor, int64_t rows);

/// The declaration (made once by `b`, private, at the top of `at`'s
/// module) of a function of seqc's CUDA runtime (lib/Runtime/CudaRuntime.h)
/// that host code calls: no arguments, one `result`. Null where the module
/// already has another symbol of that name.
func::FuncOp cudaRuntimeFunction(OpBuilder &b, Operation *at, StringRef name,
                                 Type result);

/// Whether seq.attention can run on sm_90a's warpgroup MMA: bf16 or f16
/// storage, more than 64 query rows, head dims multiples of 16 (values at
/// most 128), no segment ids, its accumulators within a thread's registers
/// and its tiles within the shared memory.
/// `keysPerTile` and `blockRows` (128 or 192) 0 are the kernel's choice.
bool canLowerAttentionToWgmma(seq::AttentionOp op,
                              const MmaAttentionOptions &options);

/// Replaces `op` by a FlashAttention kernel on wgmma, TMA and mbarriers
/// (sm_90a).
void lowerAttentionToWgmma(seq::AttentionOp op, PatternRewriter &rewriter,
                           GpuKernelBuilder &k,
                           const MmaAttentionOptions &options);

} // namespace mlir::seqc

#endif // SEQC_LIB_CONVERSION_SEQTOGPU_SEQTOGPUPATTERNS_H
