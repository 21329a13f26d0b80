//===- SeqToGPU.cpp - the convert-seq-to-gpu pass -------------------------===//
//
// Part of seqc. Each `seq` op becomes one `gpu.launch` whose body reads its
// operands and writes its results through memrefs:
//
//   %x_buf = bufferization.to_buffer %x read_only   (any strides)
//   %y_buf = memref.alloc()                          (row-major)
//   gpu.launch ... { loads, f32 math, stores }
//   %y     = bufferization.to_tensor %y_buf restrict writable
//
// so One-Shot Bufferize sees ordinary buffers around the kernels:
//
//   attention, bf16/f16    FlashAttention-2 on mma.sync tensor cores
//                          (AttentionMma.cpp)
//   attention, otherwise   a thread per query row, online softmax over the
//                          visible keys, the Dv accumulators in registers
//   linear_recurrence      along the contiguous dim: a block per row scanning
//                          affine maps (shuffles + shared memory); along
//                          others: a thread per column walking time
//   scan                   a thread per sequence
//   selective_scan         one-warp blocks of channels, time in chunks staged
//                          through shared memory, N states in registers
//   gated_linear_attn      a thread per (b, h, value column), a K-long state
//                          column in registers
//   rms_norm               a block per row (shuffle + shared-memory sum)
//   rope, causal_conv1d    a thread per output element
//
// The SIMT kernels are also the correct baseline faster ones are checked
// against (benchmarks/NOTES-gpu.md records each version).
//
// seq.recurrence has no kernel of its own: its body is user linalg code,
// lowered by convert-seq-to-linalg and mapped to the GPU by the pipeline.
//
//===----------------------------------------------------------------------===//

#include "seqc/Conversion/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include "SeqToGPUPatterns.h"

#include "../../Runtime/CudaRuntime.h"
#include "../SeqToLinalg/LoweringUtils.h"

#include "seq/IR/SeqDialect.h"
#include "seq/IR/SeqOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/DialectConversion.h"

#include <cfloat>
#include <cmath>

namespace mlir::seqc {
#define GEN_PASS_DEF_CONVERTSEQTOGPU
#include "seqc/Conversion/Passes.h.inc"
} // namespace mlir::seqc

using namespace mlir;
using namespace mlir::seqc;
using namespace mlir::seqc::seq;

Value mlir::seqc::attentionTensorMap(GpuKernelBuilder &k, Value tensor,
                                     int64_t rows) {
  ImplicitLocOpBuilder &b = k.b;
  Type elt = cast<ShapedType>(tensor.getType()).getElementType();
  Value view = k.buffer(tensor, /*unitInnerStride=*/true);
  Value unranked = memref::CastOp::create(
      b, UnrankedMemRefType::get(elt, /*memorySpace=*/0), view);
  auto type = nvgpu::TensorMapDescriptorType::get(
      b.getContext(), k.sharedType({1, 1, rows, kAttentionBoxCols}, elt),
      nvgpu::TensorMapSwizzleKind::SWIZZLE_128B,
      nvgpu::TensorMapL2PromoKind::L2PROMO_256B,
      nvgpu::TensorMapOOBKind::OOB_ZERO,
      nvgpu::TensorMapInterleaveKind::INTERLEAVE_NONE);
  return nvgpu::TmaCreateDescriptorOp::create(
             b, type, unranked,
             ValueRange{k.index(1), k.index(1), k.index(rows),
                        k.index(kAttentionBoxCols)})
      .getResult();
}

void mlir::seqc::buildAttentionCombine(GpuKernelBuilder &k, Value partial,
                                       int64_t splits,
                                       ArrayRef<int64_t> rows,
                                       int64_t valueDim, Value out, Value lse,
                                       bool dependent) {
  ImplicitLocOpBuilder &b = k.b;
  int64_t numRows = rows[0] * rows[1] * rows[2];
  k.kernelPart =
      dependent ? "combine" SEQC_DEPENDENT_KERNEL_SUFFIX : "combine";
  // Combine: a block per row, a thread per (part of the splits, value
  // column). Each thread rescales its part's partials to their maximum,
  // kCombineStep splits a step with all their loads issued before any
  // use (the running sums rescaled once a step, as in the online
  // softmax); the parts then meet in shared memory: M = max m_s,
  // L = sum l_s e^(m_s - M), out_d = sum acc_s,d e^(m_s - M) / L.
  // Splits that saw no key hold m = -FLT_MAX and l = 0, and drop out.
  // (A thread per (row, column) walking every split one at a time
  // waited on each load: 26 us for 128 splits on an H100, as long as
  // the attention kernel.)
  constexpr int64_t kCombineStep = 8;
  int64_t parts = std::clamp<int64_t>(
      std::min<int64_t>(int64_t(512) / std::max<int64_t>(valueDim, 1),
               llvm::divideCeil(splits, kCombineStep)),
      1, 32);
  int64_t perPart = llvm::divideCeil(splits, parts);
  int64_t partSteps = llvm::divideCeil(perPart, kCombineStep);
  Type f32 = b.getF32Type();
  SmallVector<Type> combineShared = {
      k.sharedType({parts, valueDim}, f32), k.sharedType({parts, 2}, f32)};
  k.launch(numRows, parts * valueDim,
           [&](ImplicitLocOpBuilder &kb, Value row, Value thread) {
    // Launched while the split-key kernel runs: its partials are complete
    // and visible after this.
    if (dependent)
      NVVM::GriddepcontrolOp::create(kb, NVVM::GridDepActionKind::wait);
    ScalarMath m(kb);
    Value sAcc = k.workgroupBuffers[0], sML = k.workgroupBuffers[1];
    Value d = arith::RemUIOp::create(kb, thread, k.index(valueDim));
    Value part = arith::DivUIOp::create(kb, thread, k.index(valueDim));
    SmallVector<Value> idx = k.delinearize(kb, row, rows);
    Value dSlot = arith::AddIOp::create(kb, d, k.index(2));
    Value first = arith::MulIOp::create(kb, part, k.index(perPart));
    Value end = arith::MinUIOp::create(
        kb, arith::AddIOp::create(kb, first, k.index(perPart)),
        k.index(splits));
    auto sumLoop = scf::ForOp::create(
        kb, k.index(0), k.index(partSteps), k.index(1),
        ValueRange{m.constant(-FLT_MAX), m.constant(0.0), m.constant(0.0)},
        [&](OpBuilder &nb, Location nl, Value step, ValueRange carried) {
          ImplicitLocOpBuilder ib(nl, nb);
          ScalarMath im(ib);
          Value sp0 = arith::AddIOp::create(
              ib, first,
              arith::MulIOp::create(ib, step, k.index(kCombineStep)));
          SmallVector<Value> ms, ls, as;
          for (int64_t c = 0; c < kCombineStep; ++c) {
            // Past the part's end: a split that saw no key.
            Value sp = arith::AddIOp::create(ib, sp0, k.index(c));
            Value in = arith::CmpIOp::create(ib, arith::CmpIPredicate::ult,
                                             sp, end);
            Value at = arith::MinUIOp::create(ib, sp, k.index(splits - 1));
            auto load = [&](Value slot, double none) {
              return im.select(in,
                               memref::LoadOp::create(
                                   ib, partial, ValueRange{row, at, slot}),
                               im.constant(none));
            };
            ms.push_back(load(k.index(0), -FLT_MAX));
            ls.push_back(load(k.index(1), 0.0));
            as.push_back(load(dSlot, 0.0));
          }
          Value mNew = carried[0];
          for (Value mc : ms)
            mNew = gpuMax(ib, mNew, mc);
          Value alpha = im.exp(im.sub(carried[0], mNew));
          Value total = im.mul(carried[1], alpha);
          Value acc = im.mul(carried[2], alpha);
          for (int64_t c = 0; c < kCombineStep; ++c) {
            Value w = im.exp(im.sub(ms[c], mNew));
            total = math::FmaOp::create(ib, ls[c], w, total);
            acc = math::FmaOp::create(ib, as[c], w, acc);
          }
          scf::YieldOp::create(ib, ValueRange{mNew, total, acc});
        });
    memref::StoreOp::create(kb, sumLoop.getResult(2), sAcc,
                            ValueRange{part, d});
    Value dZero = arith::CmpIOp::create(kb, arith::CmpIPredicate::eq, d,
                                        k.index(0));
    scf::IfOp::create(kb, dZero, [&](OpBuilder &nb, Location nl) {
      ImplicitLocOpBuilder ib(nl, nb);
      memref::StoreOp::create(ib, sumLoop.getResult(0), sML,
                              ValueRange{part, k.index(0)});
      memref::StoreOp::create(ib, sumLoop.getResult(1), sML,
                              ValueRange{part, k.index(1)});
      scf::YieldOp::create(ib);
    });
    gpu::BarrierOp::create(kb);
    Value partZero = arith::CmpIOp::create(kb, arith::CmpIPredicate::eq,
                                           part, k.index(0));
    scf::IfOp::create(kb, partZero, [&](OpBuilder &nb, Location nl) {
      ImplicitLocOpBuilder ib(nl, nb);
      ScalarMath im(ib);
      SmallVector<Value> pm, pl, pa;
      for (int64_t q = 0; q < parts; ++q) {
        pm.push_back(memref::LoadOp::create(ib, sML,
                                            ValueRange{k.index(q), k.index(0)}));
        pl.push_back(memref::LoadOp::create(ib, sML,
                                            ValueRange{k.index(q), k.index(1)}));
        pa.push_back(
            memref::LoadOp::create(ib, sAcc, ValueRange{k.index(q), d}));
      }
      Value mMax = pm[0];
      for (int64_t q = 1; q < parts; ++q)
        mMax = gpuMax(ib, mMax, pm[q]);
      Value total = im.constant(0.0), acc = im.constant(0.0);
      for (int64_t q = 0; q < parts; ++q) {
        Value w = im.exp(im.sub(pm[q], mMax));
        total = math::FmaOp::create(ib, pl[q], w, total);
        acc = math::FmaOp::create(ib, pa[q], w, acc);
      }
      Value any = attentionRowSawKeys(im, total);
      Value inv = im.select(any, im.div(im.constant(1.0), total),
                            im.constant(0.0));
      k.store(ib, im.mul(acc, inv), out,
              ValueRange{idx[0], idx[1], idx[2], d});
      if (lse) {
        scf::IfOp::create(ib, dZero, [&](OpBuilder &tb, Location tl) {
          ImplicitLocOpBuilder lb(tl, tb);
          ScalarMath lm(lb);
          Value safe = lm.select(any, total, lm.constant(1.0));
          Value value = lm.select(any, lm.add(mMax, lm.log(safe)),
                                  lm.constant(-INFINITY));
          k.store(lb, value, lse, ValueRange{idx[0], idx[1], idx[2]});
          scf::YieldOp::create(lb);
        });
      }
      scf::YieldOp::create(ib);
    });
  }, /*sharedFloats=*/0, combineShared);
  k.kernelPart.clear();
  memref::DeallocOp::create(b, partial);
}

func::FuncOp mlir::seqc::cudaRuntimeFunction(OpBuilder &b, Operation *at,
                                             StringRef name, Type result) {
  auto module = at->getParentOfType<ModuleOp>();
  auto type = FunctionType::get(module.getContext(), {}, {result});
  if (Operation *existing = SymbolTable::lookupSymbolIn(module, name)) {
    auto func = dyn_cast<func::FuncOp>(existing);
    return func && func.getFunctionType() == type ? func : func::FuncOp();
  }
  // Through the caller's builder (the conversion's rewriter), at the top of
  // the module.
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(module.getBody());
  auto decl = func::FuncOp::create(b, module.getLoc(), name, type);
  decl.setPrivate();
  return decl;
}

namespace {

/// Registers held per thread: the recurrences keep N (selective scan), K
/// (GLA) or Dv (attention) f32 values each.
constexpr int64_t kMaxRegisterState = 256;
constexpr int64_t kThreadsPerBlock = 256;

using KernelBuilder = GpuKernelBuilder;

RankedTensorType tensorTypeOf(Value v) {
  return cast<RankedTensorType>(v.getType());
}

/// `[..., i, ...]`: `indices` with `v` inserted at `dim`.
SmallVector<Value> withIndex(ValueRange indices, int64_t dim, Value v) {
  SmallVector<Value> out(indices);
  out.insert(out.begin() + dim, v);
  return out;
}

/// 1/sqrt(x) through sqrt (no libdevice call on the GPU).
Value rsqrtF32(ImplicitLocOpBuilder &kb, Value x) {
  ScalarMath m(kb);
  return m.div(m.constant(1.0), math::SqrtOp::create(kb, x));
}

LogicalResult tooManyRegisters(Operation *op, PatternRewriter &rewriter,
                               StringRef what, int64_t n) {
  return rewriter.notifyMatchFailure(op, [&](Diagnostic &diag) {
    diag << what << " " << n << " exceeds " << kMaxRegisterState;
  });
}

//===----------------------------------------------------------------------===//
// seq.rms_norm: a block per row, the sum of squares a block reduction.
//===----------------------------------------------------------------------===//

struct RmsNormToGPU : OpRewritePattern<RMSNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RMSNormOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    KernelBuilder k(b);
    RankedTensorType type = tensorTypeOf(op.getX());
    ArrayRef<int64_t> shape = type.getShape();
    int64_t n = shape.back();
    int64_t rows = type.getNumElements() / std::max<int64_t>(n, 1);
    Value x = k.buffer(op.getX()), w = k.buffer(op.getWeight());
    Value out = k.output(type);
    double eps = op.getEps().convertToDouble();
    if (n > 0 && rows > 0)
      k.launch(rows, kThreadsPerBlock, [&](ImplicitLocOpBuilder &kb,
                                           Value row, Value thread) {
        ScalarMath m(kb);
        SmallVector<Value> lead = k.delinearize(kb, row, shape.drop_back());
        auto at = [&](Value j) {
          SmallVector<Value> idx(lead);
          idx.push_back(j);
          return idx;
        };
        Value step = k.index(kThreadsPerBlock);
        auto sumLoop = scf::ForOp::create(
            kb, thread, k.index(n), step, ValueRange{m.constant(0.0)},
            [&](OpBuilder &nb, Location loc, Value j, ValueRange acc) {
              ImplicitLocOpBuilder ib(loc, nb);
              ScalarMath im(ib);
              Value v = k.load(ib, x, at(j));
              scf::YieldOp::create(ib, im.add(acc[0], im.mul(v, v)));
            });
        Value total =
            k.blockSum(kb, sumLoop.getResult(0), thread, kThreadsPerBlock);
        Value scale = rsqrtF32(
            kb, m.add(m.div(total, m.constant(double(n))), m.constant(eps)));
        scf::ForOp::create(
            kb, thread, k.index(n), step, ValueRange{},
            [&](OpBuilder &nb, Location loc, Value j, ValueRange) {
              ImplicitLocOpBuilder ib(loc, nb);
              ScalarMath im(ib);
              Value v = im.mul(im.mul(k.load(ib, x, at(j)), scale),
                               k.load(ib, w, ValueRange{j}));
              k.store(ib, v, out, at(j));
              scf::YieldOp::create(ib);
            });
      }, /*sharedFloats=*/kThreadsPerBlock / 32);
    rewriter.replaceOp(op, k.result(out, type));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// seq.rope: a thread per rotated pair.
//===----------------------------------------------------------------------===//

struct RopeToGPU : OpRewritePattern<RoPEOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RoPEOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    KernelBuilder k(b);
    RankedTensorType type = tensorTypeOf(op.getX());
    ArrayRef<int64_t> shape = type.getShape(); // [B, H, T, D]
    int64_t half = shape[3] / 2;
    bool interleaved = op.getInterleaved();
    bool batchedPositions = tensorTypeOf(op.getPositions()).getRank() == 2;
    double logTheta = std::log(op.getTheta().convertToDouble());
    Value x = k.buffer(op.getX()), pos = k.buffer(op.getPositions());
    Value out = k.output(type);
    SmallVector<int64_t> pairs = {shape[0], shape[1], shape[2], half};
    k.launchFlat(type.getNumElements() / 2, [&](ImplicitLocOpBuilder &kb,
                                                Value linear) {
      ScalarMath m(kb);
      SmallVector<Value> i = k.delinearize(kb, linear, pairs);
      Value p = batchedPositions ? k.load(kb, pos, ValueRange{i[0], i[2]})
                                 : k.load(kb, pos, ValueRange{i[2]});
      Value posF = arith::SIToFPOp::create(kb, kb.getF32Type(), p);
      // inv_freq = theta^(-2i/D) = exp(-(2i/D)·log theta)
      Value frac = m.div(m.indexToF32(i[3]), m.constant(double(half)));
      Value invFreq = m.exp(m.mul(frac, m.constant(-logTheta)));
      Value angle = m.mul(posF, invFreq);
      Value c = math::CosOp::create(kb, angle), s = math::SinOp::create(kb, angle);
      Value first, second;
      if (interleaved) {
        first = arith::MulIOp::create(kb, i[3], k.index(2));
        second = arith::AddIOp::create(kb, first, k.index(1));
      } else {
        first = i[3];
        second = arith::AddIOp::create(kb, i[3], k.index(half));
      }
      SmallVector<Value> at1 = {i[0], i[1], i[2], first};
      SmallVector<Value> at2 = {i[0], i[1], i[2], second};
      Value x1 = k.load(kb, x, at1), x2 = k.load(kb, x, at2);
      k.store(kb, m.sub(m.mul(x1, c), m.mul(x2, s)), out, at1);
      k.store(kb, m.add(m.mul(x2, c), m.mul(x1, s)), out, at2);
    });
    rewriter.replaceOp(op, k.result(out, type));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// seq.causal_conv1d: a thread per output element.
//===----------------------------------------------------------------------===//

struct CausalConv1dToGPU : OpRewritePattern<CausalConv1dOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(CausalConv1dOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    KernelBuilder k(b);
    RankedTensorType type = tensorTypeOf(op.getX());
    ArrayRef<int64_t> shape = type.getShape(); // [B, D, L]
    int64_t width = tensorTypeOf(op.getWeight()).getDimSize(1);
    Value x = k.buffer(op.getX()), w = k.buffer(op.getWeight()),
          bias = k.buffer(op.getBias());
    Value out = k.output(type);
    bool silu = op.getSilu();
    k.launchFlat(type.getNumElements(), [&](ImplicitLocOpBuilder &kb,
                                            Value linear) {
      ScalarMath m(kb);
      SmallVector<Value> i = k.delinearize(kb, linear, shape);
      Value acc = bias ? k.load(kb, bias, ValueRange{i[1]}) : m.constant(0.0);
      // t - W + 1 + tap, skipped below 0.
      for (int64_t tap = 0; tap < width; ++tap) {
        int64_t shift = width - 1 - tap;
        Value inRange = arith::CmpIOp::create(kb, arith::CmpIPredicate::uge,
                                              i[2], k.index(shift));
        auto guarded = scf::IfOp::create(
            kb, inRange,
            [&](OpBuilder &nb, Location loc) {
              ImplicitLocOpBuilder ib(loc, nb);
              ScalarMath im(ib);
              Value t = arith::SubIOp::create(ib, i[2], k.index(shift));
              Value v = im.mul(k.load(ib, w, ValueRange{i[1], k.index(tap)}),
                               k.load(ib, x, ValueRange{i[0], i[1], t}));
              scf::YieldOp::create(ib, im.add(acc, v));
            },
            [&](OpBuilder &nb, Location loc) {
              scf::YieldOp::create(nb, loc, acc);
            });
        acc = guarded.getResult(0);
      }
      if (silu)
        acc = m.silu(acc);
      k.store(kb, acc, out, i);
    });
    rewriter.replaceOp(op, k.result(out, type));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Time loops: one thread per independent sequence.
//===----------------------------------------------------------------------===//

/// Launches one thread per index of `shape` without `dim` and runs
/// `step(b, indices, t, carried)` for every t of `length` (downwards when
/// `reverse`), carrying `init(b, indices)`; `finish(b, indices, carried)`
/// runs after the last step.
void launchTimeLoops(
    KernelBuilder &k, ArrayRef<int64_t> shape, int64_t dim, bool reverse,
    function_ref<SmallVector<Value>(ImplicitLocOpBuilder &, ValueRange)> init,
    function_ref<SmallVector<Value>(ImplicitLocOpBuilder &, ValueRange, Value,
                                    ValueRange)>
        step,
    function_ref<void(ImplicitLocOpBuilder &, ValueRange, ValueRange)> finish) {
  SmallVector<int64_t> outer(shape);
  int64_t length = outer[dim];
  outer.erase(outer.begin() + dim);
  int64_t total = 1;
  for (int64_t s : outer)
    total *= s;
  k.launchFlat(total, [&](ImplicitLocOpBuilder &kb, Value linear) {
    SmallVector<Value> indices =
        outer.empty() ? SmallVector<Value>{} : k.delinearize(kb, linear, outer);
    SmallVector<Value> carried0 = init(kb, indices);
    auto loop = scf::ForOp::create(
        kb, k.index(0), k.index(length), k.index(1), carried0,
        [&](OpBuilder &nb, Location loc, Value s, ValueRange carried) {
          ImplicitLocOpBuilder ib(loc, nb);
          Value t = reverse ? arith::SubIOp::create(ib, k.index(length - 1), s)
                                  .getResult()
                            : s;
          scf::YieldOp::create(ib, step(ib, indices, t, carried));
        });
    finish(kb, indices, loop.getResults());
  });
}

/// An affine map h -> A·h + B; `then(first, second)` applies `first`, then
/// `second`: (A2·A1, A2·B1 + B2).
struct Affine {
  Value a, b;
};
Affine then(ImplicitLocOpBuilder &kb, Affine first, Affine second) {
  ScalarMath m(kb);
  return {m.mul(second.a, first.a),
          math::FmaOp::create(kb, second.a, first.b, second.b)};
}

/// The linear recurrence along the innermost (contiguous) dimension: a block
/// per row, the row in tiles of 256·C steps. Each thread reads C consecutive
/// steps of a and b into registers and composes their affine maps; a block
/// scan (shuffles within each warp, then the 8 warp totals through shared
/// memory) gives each thread the state entering its steps; the thread then
/// replays its steps from registers and writes h. The row's state carries
/// from tile to tile. Every a, b and h element moves through device memory
/// exactly once. Where C·4 bytes make a vector of 8 or 16 and C divides the
/// row, a thread's C steps are one vector load of each input (the runtime's
/// inputs are 16-byte aligned with 16-byte row strides); and the next
/// tile's loads are issued before this tile's scan, so that they are in
/// flight while it runs.
LogicalResult lowerInnermostRecurrence(LinearRecurrenceOp op,
                                       PatternRewriter &rewriter,
                                       int64_t stepsPerThread) {
  ImplicitLocOpBuilder b(op.getLoc(), rewriter);
  KernelBuilder k(b);
  RankedTensorType type = tensorTypeOf(op.getA());
  RankedTensorType lastType = tensorTypeOf(op.getLast());
  ArrayRef<int64_t> shape = type.getShape();
  int64_t length = shape.back();
  int64_t rows = type.getNumElements() / length;
  constexpr int64_t kThreads = 256, kWarps = kThreads / 32;
  int64_t perThread = std::clamp<int64_t>(llvm::divideCeil(length, kThreads),
                                          1, stepsPerThread);
  int64_t tile = kThreads * perThread;
  int64_t tiles = llvm::divideCeil(length, tile);
  bool reverse = op.getReverse();
  auto elementBytes = [](Value tensor) {
    return tensorTypeOf(tensor).getElementType().getIntOrFloatBitWidth() / 8;
  };
  int64_t vectorBytes = perThread * elementBytes(op.getA());
  bool vectorSteps = perThread > 1 && length % perThread == 0 &&
                     elementBytes(op.getA()) == elementBytes(op.getB()) &&
                     (vectorBytes == 8 || vectorBytes == 16);
  Value a = k.buffer(op.getA(), vectorSteps),
        bb = k.buffer(op.getB(), vectorSteps), h0 = k.buffer(op.getH0());
  Value h = k.output(type), last = k.output(lastType);
  k.launch(rows, kThreads, [&](ImplicitLocOpBuilder &kb, Value row,
                               Value thread) {
    ScalarMath m(kb);
    Value shared = k.shared; // [A of warp 0..7, B of warp 0..7]
    SmallVector<Value> lead = k.delinearize(kb, row, shape.drop_back());
    auto at = [&](Value t) {
      SmallVector<Value> idx(lead);
      idx.push_back(t);
      return idx;
    };
    Value lane = arith::RemUIOp::create(kb, thread, k.index(32));
    Value warp = arith::DivUIOp::create(kb, thread, k.index(32));
    Value laneI32 = arith::IndexCastOp::create(kb, kb.getI32Type(), lane);
    Value width = arith::ConstantIntOp::create(kb, kb.getI32Type(), 32);
    Value one = m.constant(1.0), zero = m.constant(0.0);
    Value carry0 = h0 ? k.load(kb, h0, lead) : zero;
    // Logical step s (0 = the first the recurrence visits) of this thread's
    // j-th element in tile `tileIdx`, whether it is in the row, and its
    // position there.
    auto firstStep = [&](ImplicitLocOpBuilder &ib, Value tileIdx) {
      return arith::AddIOp::create(
          ib, arith::MulIOp::create(ib, tileIdx, k.index(tile)),
          arith::MulIOp::create(ib, thread, k.index(perThread)));
    };
    auto step = [&](ImplicitLocOpBuilder &ib, Value first, int64_t j) {
      Value s = arith::AddIOp::create(ib, first, k.index(j));
      Value inRow = arith::CmpIOp::create(ib, arith::CmpIPredicate::ult, s,
                                          k.index(length));
      Value clamped = arith::MinUIOp::create(ib, s, k.index(length - 1));
      Value p = reverse ? arith::SubIOp::create(ib, k.index(length - 1),
                                                clamped)
                              .getResult()
                        : clamped;
      return std::make_pair(p, inRow);
    };
    // The thread's a and b of a tile (identity maps past the row's end).
    auto loadTile = [&](ImplicitLocOpBuilder &ib,
                        Value tileIdx) -> SmallVector<Value> {
      ScalarMath im(ib);
      Value first = firstStep(ib, tileIdx);
      SmallVector<Value> as, bs;
      if (vectorSteps) {
        // The C steps are all in the row or all past it (C divides it).
        Value inRow = arith::CmpIOp::create(ib, arith::CmpIPredicate::ult,
                                            first, k.index(length));
        Value clamped =
            arith::MinUIOp::create(ib, first, k.index(length - perThread));
        Value p = reverse ? arith::SubIOp::create(
                                ib, k.index(length - perThread), clamped)
                                .getResult()
                          : clamped;
        auto load = [&](Value buf, SmallVector<Value> &into, Value none) {
          Type elt = cast<MemRefType>(buf.getType()).getElementType();
          Value vec = vector::LoadOp::create(
              ib, VectorType::get({perThread}, elt), buf, at(p),
              /*nontemporal=*/false, llvm::MaybeAlign(vectorBytes));
          for (int64_t j = 0; j < perThread; ++j) {
            int64_t e = reverse ? perThread - 1 - j : j;
            into.push_back(im.select(
                inRow,
                im.f32(vector::ExtractOp::create(ib, vec,
                                                 ArrayRef<int64_t>{e})),
                none));
          }
        };
        load(a, as, one);
        load(bb, bs, zero);
      } else {
        for (int64_t j = 0; j < perThread; ++j) {
          auto [p, inRow] = step(ib, first, j);
          as.push_back(im.select(inRow, k.load(ib, a, at(p)), one));
          bs.push_back(im.select(inRow, k.load(ib, bb, at(p)), zero));
        }
      }
      as.append(bs);
      return as;
    };
    SmallVector<Value> init = {carry0};
    init.append(loadTile(kb, k.index(0)));
    auto tileLoop = scf::ForOp::create(
        kb, k.index(0), k.index(tiles), k.index(1), init,
        [&](OpBuilder &nb, Location loc, Value tileIdx, ValueRange carried) {
          ImplicitLocOpBuilder ib(loc, nb);
          ScalarMath im(ib);
          SmallVector<Value> as(carried.slice(1, perThread)),
              bs(carried.slice(1 + perThread, perThread));
          // The next tile's loads go out first (past the last tile: the
          // identity maps, nothing read out of the row).
          SmallVector<Value> next = {Value()};
          next.append(loadTile(
              ib, arith::AddIOp::create(ib, tileIdx, k.index(1))));
          Affine mine = {one, zero};
          for (int64_t j = 0; j < perThread; ++j)
            mine = then(ib, mine, Affine{as[j], bs[j]});
          // Inclusive scan of the threads' maps within each warp.
          Affine incl = mine;
          for (int64_t offset = 1; offset < 32; offset *= 2) {
            Value o = arith::ConstantIntOp::create(ib, ib.getI32Type(), offset);
            Value pa = gpu::ShuffleOp::create(ib, incl.a, o, width,
                                              gpu::ShuffleMode::UP)
                           .getShuffleResult();
            Value pb = gpu::ShuffleOp::create(ib, incl.b, o, width,
                                              gpu::ShuffleMode::UP)
                           .getShuffleResult();
            Value has = arith::CmpIOp::create(ib, arith::CmpIPredicate::sge,
                                              laneI32, o);
            Affine combined = then(ib, Affine{pa, pb}, incl);
            incl = {im.select(has, combined.a, incl.a),
                    im.select(has, combined.b, incl.b)};
          }
          // Exclusive: the inclusive map of the previous lane.
          Value o1 = arith::ConstantIntOp::create(ib, ib.getI32Type(), 1);
          Value ea = gpu::ShuffleOp::create(ib, incl.a, o1, width,
                                            gpu::ShuffleMode::UP)
                         .getShuffleResult();
          Value eb = gpu::ShuffleOp::create(ib, incl.b, o1, width,
                                            gpu::ShuffleMode::UP)
                         .getShuffleResult();
          Value firstLane = arith::CmpIOp::create(ib, arith::CmpIPredicate::eq,
                                                  lane, k.index(0));
          Affine excl = {im.select(firstLane, one, ea),
                         im.select(firstLane, zero, eb)};
          // Warp totals through shared memory.
          Value lastLane = arith::CmpIOp::create(ib, arith::CmpIPredicate::eq,
                                                 lane, k.index(31));
          scf::IfOp::create(ib, lastLane, [&](OpBuilder &tb, Location tl) {
            memref::StoreOp::create(tb, tl, incl.a, shared, ValueRange{warp});
            Value wb = arith::AddIOp::create(tb, tl, warp,
                                             k.index(kWarps));
            memref::StoreOp::create(tb, tl, incl.b, shared, ValueRange{wb});
            scf::YieldOp::create(tb, tl);
          });
          gpu::BarrierOp::create(ib);
          // The maps of the earlier warps, then of the whole tile.
          Affine before = {one, zero}, total = {one, zero};
          for (int64_t w = 0; w < kWarps; ++w) {
            Affine wm = {
                memref::LoadOp::create(ib, shared, ValueRange{k.index(w)}),
                memref::LoadOp::create(ib, shared,
                                       ValueRange{k.index(kWarps + w)})};
            Value earlier = arith::CmpIOp::create(
                ib, arith::CmpIPredicate::ult, k.index(w), warp);
            Affine withW = then(ib, before, wm);
            before = {im.select(earlier, withW.a, before.a),
                      im.select(earlier, withW.b, before.b)};
            total = then(ib, total, wm);
          }
          // Everyone has read the totals before the next tile writes them.
          gpu::BarrierOp::create(ib);
          Affine entering = then(ib, before, excl);
          Value state = math::FmaOp::create(ib, entering.a, carried[0],
                                            entering.b);
          Value first = firstStep(ib, tileIdx);
          for (int64_t j = 0; j < perThread; ++j) {
            state = math::FmaOp::create(ib, as[j], state, bs[j]);
            Value hj = state;
            auto stepAt = step(ib, first, j);
            Value p = stepAt.first, inRow = stepAt.second;
            scf::IfOp::create(ib, inRow, [&](OpBuilder &tb, Location tl) {
              ImplicitLocOpBuilder tib(tl, tb);
              k.store(tib, hj, h, at(p));
              scf::YieldOp::create(tib);
            });
          }
          next[0] = math::FmaOp::create(ib, total.a, carried[0], total.b);
          scf::YieldOp::create(ib, next);
        });
    Value firstThread = arith::CmpIOp::create(kb, arith::CmpIPredicate::eq,
                                              thread, k.index(0));
    scf::IfOp::create(kb, firstThread, [&](OpBuilder &tb, Location tl) {
      ImplicitLocOpBuilder tib(tl, tb);
      k.store(tib, tileLoop.getResult(0), last, lead);
      scf::YieldOp::create(tib);
    });
  }, /*sharedFloats=*/2 * kWarps);
  rewriter.replaceOp(op, {k.result(h, type), k.result(last, lastType)});
  return success();
}

struct LinearRecurrenceToGPU : OpRewritePattern<LinearRecurrenceOp> {
  LinearRecurrenceToGPU(MLIRContext *ctx, int64_t stepsPerThread)
      : OpRewritePattern(ctx), stepsPerThread(stepsPerThread) {}
  int64_t stepsPerThread;
  LogicalResult matchAndRewrite(LinearRecurrenceOp op,
                                PatternRewriter &rewriter) const override {
    RankedTensorType type = tensorTypeOf(op.getA());
    int64_t dim = op.getDim();
    // Along the contiguous dimension, a block per row scans it in parallel;
    // along any other, a thread per column walks time (adjacent threads read
    // adjacent columns, so every step's loads are coalesced).
    if (dim == type.getRank() - 1 && type.getNumElements() > 0 &&
        type.getShape().back() > 1)
      return lowerInnermostRecurrence(op, rewriter, stepsPerThread);
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    KernelBuilder k(b);
    RankedTensorType lastType = tensorTypeOf(op.getLast());
    Value a = k.buffer(op.getA()), bb = k.buffer(op.getB()),
          h0 = k.buffer(op.getH0());
    Value h = k.output(type), last = k.output(lastType);
    launchTimeLoops(
        k, type.getShape(), dim, op.getReverse(),
        [&](ImplicitLocOpBuilder &kb, ValueRange idx) -> SmallVector<Value> {
          return {h0 ? k.load(kb, h0, idx) : ScalarMath(kb).constant(0.0)};
        },
        [&](ImplicitLocOpBuilder &kb, ValueRange idx, Value t,
            ValueRange carried) -> SmallVector<Value> {
          ScalarMath m(kb);
          SmallVector<Value> at = withIndex(idx, dim, t);
          Value next = math::FmaOp::create(kb, k.load(kb, a, at), carried[0],
                                           k.load(kb, bb, at));
          k.store(kb, next, h, at);
          return {next};
        },
        [&](ImplicitLocOpBuilder &kb, ValueRange idx, ValueRange carried) {
          k.store(kb, carried[0], last, idx);
        });
    rewriter.replaceOp(op, {k.result(h, type), k.result(last, lastType)});
    return success();
  }
};

struct ScanToGPU : OpRewritePattern<ScanOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ScanOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    KernelBuilder k(b);
    int64_t dim = op.getDim(), n = op.getInputs().size();
    bool exclusive = op.getExclusive();
    bool hasInitial = !op.getInitial().empty();
    RankedTensorType type = tensorTypeOf(op.getInputs()[0]);
    SmallVector<Value> inputs = llvm::map_to_vector(
        op.getInputs(), [&](Value v) { return k.buffer(v); });
    SmallVector<Value> initial = llvm::map_to_vector(
        op.getInitial(), [&](Value v) { return k.buffer(v); });
    SmallVector<Value> outs, carries;
    for (Value r : op.getResults().take_front(n))
      outs.push_back(k.output(tensorTypeOf(r)));
    for (Value r : op.getResults().drop_front(n))
      carries.push_back(k.output(tensorTypeOf(r)));
    Block &combiner = op.getCombiner().front();
    // Elements keep their own types here (integers too): no f32 widening.
    auto raw = [&](ImplicitLocOpBuilder &kb, Value m, ValueRange idx) -> Value {
      return memref::LoadOp::create(kb, m, idx);
    };
    auto combine = [&](ImplicitLocOpBuilder &kb, ValueRange lhs,
                       ValueRange rhs) {
      IRMapping map;
      map.map(combiner.getArguments().take_front(n), lhs);
      map.map(combiner.getArguments().drop_front(n), rhs);
      for (Operation &inner : combiner.without_terminator())
        kb.clone(inner, map);
      return llvm::map_to_vector(
          combiner.getTerminator()->getOperands(),
          [&](Value v) { return map.lookupOrDefault(v); });
    };
    // Carried: a flag "has a carry" (for inclusive scans without initial)
    // and the N carries, starting at initial (or the first element).
    launchTimeLoops(
        k, type.getShape(), dim, op.getReverse(),
        [&](ImplicitLocOpBuilder &kb, ValueRange idx) -> SmallVector<Value> {
          SmallVector<Value> init = {arith::ConstantIntOp::create(
              kb, kb.getI1Type(), hasInitial ? 1 : 0)};
          for (int64_t i = 0; i < n; ++i) {
            Type elt = getElementTypeOrSelf(op.getInputs()[i].getType());
            init.push_back(hasInitial
                               ? raw(kb, initial[i], idx)
                               : arith::ConstantOp::create(
                                     kb, kb.getZeroAttr(elt)).getResult());
          }
          return init;
        },
        [&](ImplicitLocOpBuilder &kb, ValueRange idx, Value t,
            ValueRange carried) -> SmallVector<Value> {
          SmallVector<Value> at = withIndex(idx, dim, t);
          SmallVector<Value> x = llvm::map_to_vector(
              inputs, [&](Value m) { return raw(kb, m, at); });
          ValueRange prev = carried.drop_front();
          SmallVector<Value> next;
          if (hasInitial) {
            next = combine(kb, prev, x);
          } else {
            auto pick = scf::IfOp::create(
                kb, carried[0],
                [&](OpBuilder &nb, Location loc) {
                  ImplicitLocOpBuilder ib(loc, nb);
                  scf::YieldOp::create(ib, combine(ib, prev, x));
                },
                [&](OpBuilder &nb, Location loc) {
                  scf::YieldOp::create(nb, loc, x);
                });
            next = SmallVector<Value>(pick.getResults());
          }
          for (int64_t i = 0; i < n; ++i)
            memref::StoreOp::create(kb, exclusive ? prev[i] : next[i], outs[i],
                                    at);
          SmallVector<Value> result = {
              arith::ConstantIntOp::create(kb, kb.getI1Type(), 1)};
          result.append(next);
          return result;
        },
        [&](ImplicitLocOpBuilder &kb, ValueRange idx, ValueRange carried) {
          for (int64_t i = 0; i < n; ++i)
            memref::StoreOp::create(kb, carried[1 + i], carries[i], idx);
        });
    SmallVector<Value> results;
    for (auto [buffer, r] : llvm::zip_equal(
             llvm::concat<Value>(outs, carries), op.getResults()))
      results.push_back(k.result(buffer, tensorTypeOf(r)));
    rewriter.replaceOp(op, results);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// seq.selective_scan: a thread per (batch, channel), N states in registers;
// with a time split, chunks of time scanned in parallel and their carries
// composed in between.
//===----------------------------------------------------------------------===//

struct SelectiveScanToGPU : OpRewritePattern<SelectiveScanOp> {
  SelectiveScanToGPU(MLIRContext *ctx, int64_t timeSplit, int64_t bcSteps,
                     int64_t stateLanes, bool pipelined, int64_t polyExp)
      : OpRewritePattern(ctx), timeSplit(timeSplit), bcSteps(bcSteps),
        stateLanes(stateLanes), pipelined(pipelined), polyExp(polyExp) {}
  /// Steps per time split (0: the lowering's choice; the length or more:
  /// none, each thread walks all of time).
  int64_t timeSplit;
  /// Steps of B and C per vector load (1: a load per state and step).
  int64_t bcSteps;
  /// Lanes sharing a channel, each with states / stateLanes of its states.
  int64_t stateLanes;
  /// The pipelined kernels where they apply (see `staged` below).
  bool pipelined;
  /// States of the pipelined kernels whose decay is polyExp2's.
  int64_t polyExp;

  LogicalResult matchAndRewrite(SelectiveScanOp op,
                                PatternRewriter &rewriter) const override {
    RankedTensorType uType = tensorTypeOf(op.getU());
    RankedTensorType bType = tensorTypeOf(op.getB());
    int64_t batch = uType.getDimSize(0), channels = uType.getDimSize(1),
            length = uType.getDimSize(2), groups = bType.getDimSize(1),
            states = bType.getDimSize(2);
    if (states > kMaxRegisterState)
      return tooManyRegisters(op, rewriter, "state size N", states);
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    KernelBuilder k(b);
    // B and C [batch, groups, N, L] are read bcSteps steps at a time (one
    // vector load per state and group of steps) when every chunk's steps
    // come in whole groups and a group's run along time is aligned: L a
    // multiple of 4 (the runtime's 16-byte aligned buffers, rows of whole
    // vectors). At N 16 on sm_90a, ptxas: 2 steps, 128 registers (local
    // pass) and 246 (the pass that writes y, 168 before softplus and silu
    // went to the special-function unit); 4 steps, 202 and 255.
    Type bcElement = tensorTypeOf(op.getB()).getElementType();
    bool vectorBC = bcSteps > 1 && length % 4 == 0 &&
                    tensorTypeOf(op.getC()).getElementType() == bcElement &&
                    bcSteps * bcElement.getIntOrFloatBitWidth() / 8 <= 16;
    Value u = k.buffer(op.getU()), delta = k.buffer(op.getDelta()),
          A = k.buffer(op.getA()),
          B = k.buffer(op.getB(), /*unitInnerStride=*/vectorBC),
          C = k.buffer(op.getC(), /*unitInnerStride=*/vectorBC),
          D = k.buffer(op.getD()),
          z = k.buffer(op.getZ()), bias = k.buffer(op.getDeltaBias());
    Value y = k.output(uType);
    Value last;
    RankedTensorType lastType;
    if (op.getLastState()) {
      lastType = tensorTypeOf(op.getLastState());
      last = k.output(lastType);
    }
    bool softplus = op.getDeltaSoftplus();
    int64_t perGroup = channels / groups;
    // A block of 32 channels (one warp: B·D/32 blocks fill the GPU where
    // 128-channel blocks left SMs idle: 147 GB/s at B8 D1536) walks time in
    // chunks of 16 steps: u, delta and
    // z of the chunk come in through shared memory (each warp reads 64-byte
    // runs along time instead of one element per channel-row), y goes out the
    // same way, and each thread keeps its channel's N states in registers.
    constexpr int64_t kChannels = 32, kChunk = 16;
    int64_t channelBlocks = llvm::divideCeil(channels, kChannels);
    // The pipelined form (f32 B and C, rows of whole 16-byte vectors, a
    // block's channels in one group): a chunk's u, Δ and z arrive by
    // cp.async into one of two buffers while the other's steps run, each
    // thread reading its channel's steps 4 at a time (one 16-byte shared
    // load for f32); B and C arrive transposed, [step][state], so that a
    // step's 16 states are 4 broadcast vector loads with constant offsets
    // instead of 32 global loads with 64-bit addresses (session 11's ncu:
    // 150 instructions a step, half of the stalls on those loads). With
    // state lanes, a lane reads its states' share of each step's B and C.
    Type uElement = uType.getElementType();
    int64_t uBytes = uElement.getIntOrFloatBitWidth() / 8;
    int64_t uVector = 16 / std::max<int64_t>(uBytes, 1);
    // Rows of whole 16-byte vectors (u, Δ, z by 16-byte copies, y out as
    // vectors); other lengths of f32 rows go element by element (4-byte
    // copies, scalar y stores, and the steps past the length masked).
    bool alignedRows = length % uVector == 0;
    bool staged = pipelined && length > 0 && uBytes >= 2 && uBytes <= 4 &&
                  bcElement.isF32() &&
                  tensorTypeOf(op.getC()).getElementType().isF32() &&
                  (alignedRows || uBytes == 4) && kChunk % uVector == 0 &&
                  // A block's 32 channels in one group (B and C tiles are
                  // the block's).
                  (groups == 1 || perGroup % kChannels == 0);
    // `lanes` neighbouring lanes share a channel (a power of two dividing
    // N), each holding perLane of its states: lanes times the warps and a
    // lanes-th of the registers, y summed over the lanes by xor shuffles.
    // The chunk's Δ (biased, softplus'ed) and gate (silu'ed) are computed
    // once as they are staged, not once per lane. stateLanes 0 is the
    // compiler's choice: for the pipelined kernels 4 where that leaves a
    // lane 4 states or more, else 2 (on an H100 at B8 D1536 L2048 N16,
    // with the decays a group ahead (below), kernel times in two runs: 4
    // lanes 0.203 / 0.203 ms, 2 lanes 0.209 / 0.207, 1 lane 0.214 / 0.214;
    // then with a group's B and C read early and the y stores at the
    // chunk's end (below, 4 lanes only) 0.195 ms at 4 lanes;
    // before that 2 lanes had been the fastest: 0.208-0.212 ms against
    // 0.222-0.228 at 1 lane and 0.218 at 4 with the transposed y sums), 1
    // for the chunk-at-a-time ones (4 lanes were 1.5x slower there). (ncu at 2
    // lanes: 768 warps on 528 schedulers, 240 of them with 2 warps and
    // 2x the instructions of the rest, so the kernel takes the 2-warp
    // schedulers' time; 4 lanes even that out to 2-3 warps each but add
    // per-step work a lane. Blocks of 96 channels, one an SM, whose warps
    // 0-3 ran at 2 lanes and 4-7 at 4 (one warp of each a scheduler, 20%
    // fewer instructions on the busiest) took 0.219 ms: a 2-lane warp's
    // latency sets its scheduler's time (300K cycles alone, 427K beside a
    // 4-lane warp), and the 4-lane warps waited at the chunk barriers.
    // Time splits of 1024 and 512 steps: 0.299 and 0.314 ms.)
    int64_t lanes = stateLanes > 0 ? stateLanes
                    : !staged      ? 1
                    : states >= 16 ? 4
                                   : 2;
    while (lanes > 1 && states % lanes != 0)
      lanes /= 2;
    int64_t perLane = states / lanes;
    int64_t blockThreads = kChannels * lanes;
    // Time splits of `span` steps (a multiple of the chunk): a first
    // kernel scans each split from a zero state, keeping its end state and
    // its sum of Δ (the split's decay is 2^(ΣΔ·A·log2 e) per state); a
    // carry kernel composes the splits in order, a thread per (batch,
    // channel, state); a last kernel scans each split again from its
    // carried-in state and writes y. Parallel over time at the price of
    // reading u and Δ twice. (With A > 0 a split's decay overflows sooner
    // than its steps' would; Mamba's A is negative.)
    // (A zero-length scan: one split of no steps, writing a zero state.)
    // timeSplit 0 is the compiler's choice: splits that bring the launch
    // to about kWantedWarps one-warp blocks, of kMinSpan steps or more (on
    // an H100 at B8 D1536 L2048, 384 blocks: 16 splits of 128 steps, 0.62
    // ms of kernels against 1.02 unsplit; 8 splits of 256, 0.71).
    // The pipelined kernels keep the special-function unit busy in one
    // pass where there are warps enough (on an H100 at B8 D1536 L2048, 384
    // warps: 0.225 ms unsplit against 0.32 ms of kernels in 16 splits, whose
    // two passes take twice the exponentials): split only below 256 warps,
    // towards 1024.
    constexpr int64_t kWantedWarps = 6144, kMinSpan = 64;
    constexpr int64_t kEnoughPipelinedWarps = 256, kWantedPipelinedWarps = 1024;
    int64_t span = std::max<int64_t>(length, 1);
    int64_t warps = batch * channelBlocks * lanes;
    if (timeSplit == 0) {
      int64_t wanted = std::min<int64_t>(
          llvm::divideCeil(staged ? kWantedPipelinedWarps : kWantedWarps,
                           warps),
          length / kMinSpan);
      if (wanted > 1 && (!staged || warps < kEnoughPipelinedWarps))
        span = llvm::alignTo(llvm::divideCeil(length, wanted), kChunk);
    } else if (timeSplit < length) {
      span = llvm::alignTo(timeSplit, kChunk);
    }
    int64_t splits = std::max<int64_t>(llvm::divideCeil(length, span), 1);
    bool split = splits > 1;
    Type f32 = b.getF32Type();
    // One scratch allocation (one allocation and free a call, not three)
    // viewed as the splits' end states from zero and carried-in states
    // [batch, channels, splits, N] and their ΣΔ [batch, channels, splits].
    // (In place, one buffer of N + 1 floats a split, the carry kernel
    // took 0.085 ms instead of 0.010 on an H100.)
    Value localState, carriedIn, deltaSum, scratch;
    if (split) {
      int64_t stateFloats = batch * channels * splits * states;
      int64_t sumFloats = batch * channels * splits;
      scratch = memref::AllocOp::create(
          b, MemRefType::get({2 * stateFloats + sumFloats}, f32));
      auto view = [&](int64_t offset, ArrayRef<int64_t> shape) -> Value {
        SmallVector<int64_t> strides(shape.size(), 1);
        for (int64_t i = shape.size() - 2; i >= 0; --i)
          strides[i] = strides[i + 1] * shape[i + 1];
        SmallVector<OpFoldResult> sizes, strideAttrs;
        for (auto [size, stride] : llvm::zip(shape, strides)) {
          sizes.push_back(b.getIndexAttr(size));
          strideAttrs.push_back(b.getIndexAttr(stride));
        }
        return memref::ReinterpretCastOp::create(
            b,
            MemRefType::get(shape, f32,
                            StridedLayoutAttr::get(b.getContext(), offset,
                                                   strides)),
            scratch, OpFoldResult(b.getIndexAttr(offset)), sizes, strideAttrs);
      };
      localState = view(0, {batch, channels, splits, states});
      carriedIn = view(stateFloats, {batch, channels, splits, states});
      deltaSum = view(2 * stateFloats, {batch, channels, splits});
    }
    constexpr double kLog2E = 1.4426950408889634;
    auto exp2 = nvvmExp2;
    // Tile rows: the chunk's steps and one 16-byte vector of padding (rows
    // 80 bytes apart at f32: a warp's 16-byte reads of 32 rows hit every
    // bank once per 8 lanes).
    int64_t rowElements = kChunk + uVector;
    constexpr int64_t kGroup = 4;
    bool gated = static_cast<bool>(z);
    if (staged) {
      u = k.buffer(op.getU(), /*unitInnerStride=*/true);
      delta = k.buffer(op.getDelta(), /*unitInnerStride=*/true);
      z = k.buffer(op.getZ(), /*unitInnerStride=*/true);
      B = k.buffer(op.getB(), /*unitInnerStride=*/true);
      C = k.buffer(op.getC(), /*unitInnerStride=*/true);
    }
    // The pipelined kernel's shared tiles, in dynamic shared memory (16-byte
    // aligned, each a multiple of 16 bytes): u, Δ [(z)] [2][channels][row],
    // B [(C)] [2][step][state], [(y [channels][row])].
    auto stagedTiles = [&](bool local) {
      auto pair = k.sharedType({2, kChannels, rowElements}, uElement);
      SmallVector<MemRefType> types = {pair, pair};
      if (gated && !local)
        types.push_back(pair);
      types.push_back(k.sharedType({2, kChunk, states}, f32));
      if (!local) {
        types.push_back(k.sharedType({2, kChunk, states}, f32));
        types.push_back(k.sharedType({kChannels, rowElements}, f32));
      }
      return types;
    };
    // v plus lane (this ^ offset)'s v.
    auto addXorLane = [&](ImplicitLocOpBuilder &ib, Value v, int64_t offset) {
      Value width = arith::ConstantIntOp::create(ib, ib.getI32Type(), 32);
      Value o = arith::ConstantIntOp::create(ib, ib.getI32Type(), offset);
      return ScalarMath(ib).add(
          v, gpu::ShuffleOp::create(ib, v, o, width, gpu::ShuffleMode::XOR)
                 .getShuffleResult());
    };
    // A step's y from the whole C·h sum of its channel: plus the skip term
    // D·u, times the gate (silu'ed z) where there are any.
    auto finishY = [&](ImplicitLocOpBuilder &ib, Value yt, Value ut,
                       Value dSkip, Value gateValue) {
      if (dSkip)
        yt = math::FmaOp::create(ib, dSkip, ut, yt);
      if (gateValue)
        yt = ScalarMath(ib).mul(yt, gateValue);
      return yt;
    };
    // A step's y from the C·h sum of a lane's states: summed over the
    // channel's lanes (xor shuffles), then finished. Both kernel forms end
    // a step so (but the transposed 4-lane one, below).
    auto finishStepY = [&](ImplicitLocOpBuilder &ib, Value yt, Value ut,
                           Value dSkip, Value gateValue) {
      for (int64_t offset = 1; offset < lanes; offset *= 2)
        yt = addXorLane(ib, yt, offset);
      return finishY(ib, yt, ut, dSkip, gateValue);
    };
    // The pipelined loop over a split's chunks (see `staged`), carrying
    // the states (and ΣΔ in the local pass). Per chunk c: chunk c + 1's
    // copies start into the other buffer, chunk c's are waited for, its
    // steps run 4 at a time, and (y pass) its y tile goes out as 16-byte
    // vectors of 4 steps.
    auto stagedChunks = [&](ImplicitLocOpBuilder &kb, bool local, Value thread,
                            Value chan, Value laneSub, Value firstLane,
                            ArrayRef<Value> stateIdx, Value bi, Value d0,
                            Value g, Value dSafe,
                            Value tBegin, Value tEnd, Value chunks,
                            ArrayRef<Value> a2, Value dSkip,
                            SmallVector<Value> h0) -> scf::ForOp {
      MLIRContext *ctx = kb.getContext();
      auto tokenType = nvgpu::DeviceAsyncTokenType::get(ctx);
      SmallVector<Value> tileViews = k.dynamicShared(kb, stagedTiles(local));
      bool gate = gated && !local;
      Value uS = tileViews[0], dS = tileViews[1];
      Value zS = gate ? tileViews[2] : Value();
      Value bS = tileViews[gate ? 3 : 2];
      Value cS = local ? Value() : tileViews[gate ? 4 : 3];
      Value yS = local ? Value() : tileViews[gate ? 5 : 4];
      auto cmpLt = [&](ImplicitLocOpBuilder &ib, Value x, int64_t bound) {
        return arith::CmpIOp::create(ib, arith::CmpIPredicate::ult, x,
                                     k.index(bound));
      };
      Value biasD = bias ? k.load(kb, bias, ValueRange{dSafe}) : Value();
      // With as many lanes a channel as steps a group (4), a group's y sums
      // are reduced transposed: two xor-shuffle rounds leave lane l with
      // the whole sum of step l (3 shuffles and adds for the 4 steps
      // instead of 8), which it finishes (skip term, gate) and stores.
      bool transposedY = !local && lanes == kGroup;
      Value laneBit0, laneBit1;
      if (transposedY) {
        auto bit = [&](int64_t mask) {
          return arith::CmpIOp::create(
              kb, arith::CmpIPredicate::ne,
              arith::AndIOp::create(kb, laneSub, k.index(mask)), k.index(0));
        };
        laneBit0 = bit(1);
        laneBit1 = bit(2);
      }
      // Row r, column col of a chunk's tile from t0: its channel, its step
      // and whether both are in range.
      auto tileAt = [&](ImplicitLocOpBuilder &ib, Value t0, Value r,
                        Value col) {
        Value dd = arith::AddIOp::create(ib, d0, r);
        Value t = arith::AddIOp::create(ib, t0, col);
        Value ok = arith::AndIOp::create(ib, cmpLt(ib, dd, channels),
                                         cmpLt(ib, t, length));
        return std::make_tuple(dd, t, ok);
      };
      // fn(row, cell) over a tile of `rows` x `perRow` cells spread over
      // the block's T threads (perRow divides T): a thread's cell is
      // thread % perRow in every round and its rows thread / perRow + j ·
      // T / perRow, so that a round's indices differ by constants (the last
      // round guarded where the rows do not fill it).
      auto forTile = [&](ImplicitLocOpBuilder &ib, int64_t rows,
                         int64_t perRow,
                         function_ref<void(ImplicitLocOpBuilder &, Value,
                                           Value)> fn) {
        int64_t rowStep = blockThreads / perRow;
        Value cell = arith::RemUIOp::create(ib, thread, k.index(perRow));
        Value row0 = arith::DivUIOp::create(ib, thread, k.index(perRow));
        for (int64_t r0 = 0; r0 < rows; r0 += rowStep) {
          Value row = arith::AddIOp::create(ib, row0, k.index(r0));
          if (r0 + rowStep <= rows) {
            fn(ib, row, cell);
            continue;
          }
          scf::IfOp::create(ib, cmpLt(ib, row, rows),
                            [&](OpBuilder &xb, Location xl) {
                              ImplicitLocOpBuilder gb(xl, xb);
                              fn(gb, row, cell);
                              scf::YieldOp::create(gb);
                            });
        }
      };
      // Starts chunk c's copies into buffer `buf` (none past the split's
      // chunks) and commits them as one group (possibly empty).
      auto issue = [&](ImplicitLocOpBuilder &ib, Value c, Value buf) {
        Value inRange =
            arith::CmpIOp::create(ib, arith::CmpIPredicate::ult, c, chunks);
        scf::IfOp::create(ib, inRange, [&](OpBuilder &nb, Location nl) {
          ImplicitLocOpBuilder cb(nl, nb);
          Value t0 = arith::AddIOp::create(
              cb, tBegin, arith::MulIOp::create(cb, c, k.index(kChunk)));
          // u, Δ (and z): 16 bytes a copy, rows past the channels and
          // vectors past the length zero-filled; element by element where
          // rows are not whole vectors.
          SmallVector<std::pair<Value, Value>> rowArrays = {{u, uS},
                                                            {delta, dS}};
          if (gate)
            rowArrays.push_back({z, zS});
          if (!alignedRows) {
            forTile(cb, kChannels, kChunk, [&](ImplicitLocOpBuilder &xb,
                                               Value r, Value tt) {
              Value dd, t, ok;
              std::tie(dd, t, ok) = tileAt(xb, t0, r, tt);
              Value ddSafe =
                  arith::MinUIOp::create(xb, dd, k.index(channels - 1));
              Value tSafe = arith::MinUIOp::create(xb, t, k.index(length - 1));
              Value n = arith::SelectOp::create(xb, ok, k.index(1), k.index(0));
              for (auto [src, dst] : rowArrays)
                nvgpu::DeviceAsyncCopyOp::create(
                    xb, tokenType, dst, ValueRange{buf, r, tt}, src,
                    ValueRange{bi, ddSafe, tSafe}, xb.getIndexAttr(1), n,
                    UnitAttr());
            });
          }
          int64_t perRow = kChunk / uVector;
          UnitAttr bypass = uVector * uBytes == 16 ? cb.getUnitAttr() : UnitAttr();
          if (alignedRows)
          forTile(cb, kChannels, perRow, [&](ImplicitLocOpBuilder &xb,
                                             Value r, Value cell) {
            Value col = arith::MulIOp::create(xb, cell, k.index(uVector));
            Value dd, t, ok;
            std::tie(dd, t, ok) = tileAt(xb, t0, r, col);
            Value ddSafe = arith::MinUIOp::create(xb, dd, k.index(channels - 1));
            Value tSafe = arith::MinUIOp::create(xb, t, k.index(length - uVector));
            Value n = arith::SelectOp::create(xb, ok, k.index(uVector), k.index(0));
            for (auto [src, dst] : rowArrays)
              nvgpu::DeviceAsyncCopyOp::create(
                  xb, tokenType, dst, ValueRange{buf, r, col}, src,
                  ValueRange{bi, ddSafe, tSafe}, xb.getIndexAttr(uVector), n,
                  bypass);
          });
          // B and C: (state, step) to [step][state], 4 bytes a copy
          // (neighbouring lanes read neighbouring steps).
          forTile(cb, states, kChunk, [&](ImplicitLocOpBuilder &xb, Value n,
                                          Value tt) {
              Value t = arith::AddIOp::create(xb, t0, tt);
              Value ok = cmpLt(xb, t, length);
              Value tSafe = arith::MinUIOp::create(xb, t, k.index(length - 1));
              Value count = arith::SelectOp::create(xb, ok, k.index(1), k.index(0));
              for (auto [src, dst] : {std::make_pair(B, bS), std::make_pair(C, cS)})
                if (dst)
                  nvgpu::DeviceAsyncCopyOp::create(
                      xb, tokenType, dst, ValueRange{buf, tt, n}, src,
                      ValueRange{bi, g, n, tSafe}, xb.getIndexAttr(1), count,
                      UnitAttr());
          });
          scf::YieldOp::create(cb);
        });
        return nvgpu::DeviceAsyncCreateGroupOp::create(ib, tokenType,
                                                       ValueRange{})
            .getResult();
      };
      issue(kb, k.index(0), k.index(0));
      return scf::ForOp::create(
          kb, k.index(0), chunks, k.index(1), h0,
          [&](OpBuilder &nb, Location loc, Value c, ValueRange hIn) {
            ImplicitLocOpBuilder cb(loc, nb);
            Value cur = arith::RemUIOp::create(cb, c, k.index(2));
            Value next = arith::SubIOp::create(cb, k.index(1), cur);
            Value token = issue(
                cb, arith::AddIOp::create(cb, c, k.index(1)), next);
            // Chunk c's group has landed once at most the one just
            // committed is in flight.
            nvgpu::DeviceAsyncWaitOp::create(cb, token,
                                             cb.getI32IntegerAttr(1));
            gpu::BarrierOp::create(cb);
            Value t0 = arith::AddIOp::create(
                cb, tBegin, arith::MulIOp::create(cb, c, k.index(kChunk)));
            Value steps = arith::MinUIOp::create(
                cb, k.index(kChunk), arith::SubIOp::create(cb, tEnd, t0));
            auto align = [&](int64_t bytes) { return llvm::MaybeAlign(bytes); };
            // A group's inputs from the chunk's tiles: its steps' u, Δ
            // (biased, softplus'ed; steps past the end 0) and gate values.
            struct GroupIn {
              SmallVector<Value> us, dts, zs;
              // [step][state] of the lane's states (bcEarly).
              SmallVector<Value> bs, cs;
            };
            // The step's B (or C) for the lane's states: 16-byte vectors
            // where they come in fours.
            auto laneStates = [&](ImplicitLocOpBuilder &ib, Value tile,
                                  Value tt) {
              SmallVector<Value> values;
              if (perLane % 4 == 0) {
                for (int64_t n0 = 0; n0 < perLane; n0 += 4) {
                  Value vec = vector::LoadOp::create(
                      ib, VectorType::get({4}, f32), tile,
                      ValueRange{cur, tt, stateIdx[n0]},
                      /*nontemporal=*/false, align(16));
                  for (int64_t q = 0; q < 4; ++q)
                    values.push_back(vector::ExtractOp::create(
                        ib, vec, ArrayRef<int64_t>{q}));
                }
                return values;
              }
              for (int64_t n = 0; n < perLane; ++n)
                values.push_back(memref::LoadOp::create(
                    ib, tile, ValueRange{cur, tt, stateIdx[n]}));
              return values;
            };
            // Where a lane holds 4 states or fewer, a group's B and C are
            // read with its inputs (a group ahead in the unrolled chunk),
            // not just before each step's FMAs: ncu's source counters
            // (session 14) had the most short-scoreboard stalls on the
            // FMULs right after those loads, which ptxas cannot hoist above
            // the previous step's y store (shared memory it cannot tell
            // apart). Measured on an H100 at B8 D1536 L2048 N16 (kernel
            // times, three runs): 4 lanes 0.204-0.205 -> 0.198-0.199 ms; 2
            // lanes (8 states a lane) 0.206-0.207 -> 0.208-0.209, so not
            // there.
            bool bcEarly = perLane <= 4;
            auto groupInputs = [&](ImplicitLocOpBuilder &ib,
                                   Value t1) -> GroupIn {
              ScalarMath im(ib);
              auto row = [&](Value tile) {
                Value vec = vector::LoadOp::create(
                    ib, VectorType::get({kGroup}, uElement), tile,
                    ValueRange{cur, chan, t1}, /*nontemporal=*/false,
                    align(kGroup * uBytes));
                SmallVector<Value> values;
                for (int64_t j = 0; j < kGroup; ++j)
                  values.push_back(im.f32(vector::ExtractOp::create(
                      ib, vec, ArrayRef<int64_t>{j})));
                return values;
              };
              GroupIn in;
              in.us = row(uS);
              if (gate)
                in.zs = row(zS);
              SmallVector<Value> ds = row(dS);
              for (int64_t j = 0; j < kGroup; ++j) {
                Value tt = arith::AddIOp::create(ib, t1, k.index(j));
                Value dt = ds[j];
                if (biasD)
                  dt = im.add(dt, biasD);
                if (softplus)
                  dt = fastSoftplus(ib, dt);
                // A step past the end (a last group of fewer than 4 where
                // rows are not whole vectors) leaves the states as they
                // are: Δ 0 (decay 1, no input), whatever its bias and
                // softplus would make of the zero-filled Δ.
                if (!alignedRows)
                  dt = arith::SelectOp::create(
                      ib,
                      arith::CmpIOp::create(ib, arith::CmpIPredicate::ult,
                                            tt, steps),
                      dt, im.constant(0.0));
                in.dts.push_back(dt);
                if (bcEarly) {
                  llvm::append_range(in.bs, laneStates(ib, bS, tt));
                  if (!local)
                    llvm::append_range(in.cs, laneStates(ib, cS, tt));
                }
              }
              return in;
            };
            // The decays 2^(Δ·A·log2 e) of a group's steps, [step][state].
            auto groupDecays = [&](ImplicitLocOpBuilder &ib,
                                   ArrayRef<Value> dts) {
              ScalarMath im(ib);
              SmallVector<Value> decays;
              for (Value dt : dts)
                for (int64_t n = 0; n < perLane; ++n) {
                  Value x = im.mul(dt, a2[n]);
                  decays.push_back(n < polyExp ? polyExp2(ib, x) : exp2(ib, x));
                }
              return decays;
            };
            // A group's steps from the states h (and ΣΔ) with their
            // decays: the next states (and ΣΔ); the y pass also writes the
            // steps' y to the y tile (with `laterStores`, the transposed
            // sums' stores are left to the caller).
            auto groupSteps = [&](ImplicitLocOpBuilder &ib, Value t1,
                                  ValueRange h, const GroupIn &in,
                                  ArrayRef<Value> decays,
                                  SmallVectorImpl<std::pair<Value, Value>>
                                      *laterStores = nullptr) {
              ScalarMath im(ib);
              const SmallVector<Value> &us = in.us, &zs = in.zs;
              SmallVector<Value> next(h.take_front(perLane));
              Value dsum = local ? h[perLane] : Value();
              SmallVector<Value> ys;
              for (int64_t j = 0; j < kGroup; ++j) {
                Value dt = in.dts[j];
                Value dtu = im.mul(dt, us[j]);
                if (local)
                  dsum = im.add(dsum, dt);
                // The step's B (and C) for the lane's states.
                SmallVector<Value> bs, cs;
                if (bcEarly) {
                  bs.assign(in.bs.begin() + j * perLane,
                            in.bs.begin() + (j + 1) * perLane);
                  if (!local)
                    cs.assign(in.cs.begin() + j * perLane,
                              in.cs.begin() + (j + 1) * perLane);
                } else {
                  Value tt = arith::AddIOp::create(ib, t1, k.index(j));
                  bs = laneStates(ib, bS, tt);
                  if (!local)
                    cs = laneStates(ib, cS, tt);
                }
                // C·h in 4 partial sums (n mod 4), added in a tree:
                // chains of N/4 dependent FMAs instead of N (ncu:
                // most stalls of the one-pass kernel were fixed-latency
                // waits, with a warp or fewer a scheduler); one chain
                // where the y sums go transposed (4 lanes: 2 or 3 warps
                // a scheduler).
                SmallVector<Value> partial(
                    transposedY ? 1 : std::min<int64_t>(perLane, 4),
                    im.constant(0.0));
                for (int64_t n = 0; n < perLane; ++n) {
                  Value decay = decays[j * perLane + n];
                  next[n] = math::FmaOp::create(ib, decay, next[n],
                                                im.mul(dtu, bs[n]));
                  if (!local)
                    partial[n % partial.size()] = math::FmaOp::create(
                        ib, cs[n], next[n], partial[n % partial.size()]);
                }
                if (local)
                  continue;
                while (partial.size() > 1) {
                  SmallVector<Value> halves;
                  for (size_t q = 0; q + 1 < partial.size(); q += 2)
                    halves.push_back(im.add(partial[q], partial[q + 1]));
                  if (partial.size() % 2)
                    halves.push_back(partial.back());
                  partial = halves;
                }
                if (transposedY) {
                  ys.push_back(partial[0]);
                  continue;
                }
                ys.push_back(finishStepY(ib, partial[0], us[j], dSkip,
                                         gate ? fastSilu(ib, zs[j]) : Value()));
              }
              if (transposedY) {
                // Lane l (bits b1 b0) keeps steps 2·b1, 2·b1 + 1 and
                // takes its xor-2 partner's sums of them, then keeps
                // step l and takes its xor-1 partner's.
                auto pick = [&](Value bit, Value ifSet, Value ifClear) {
                  return im.select(bit, ifSet, ifClear);
                };
                // Each lane sends its partner the pair it keeps not,
                // and adds the partner's sums of the pair it keeps.
                auto exchange = [&](Value bit, Value a, Value b,
                                    int64_t offset) {
                  Value keep = pick(bit, b, a), send = pick(bit, a, b);
                  Value width =
                      arith::ConstantIntOp::create(ib, ib.getI32Type(), 32);
                  Value o =
                      arith::ConstantIntOp::create(ib, ib.getI32Type(), offset);
                  return im.add(keep,
                                gpu::ShuffleOp::create(ib, send, o, width,
                                                       gpu::ShuffleMode::XOR)
                                    .getShuffleResult());
                };
                Value keep0 = exchange(laneBit1, ys[0], ys[2], 2),
                      keep1 = exchange(laneBit1, ys[1], ys[3], 2);
                Value mine = exchange(laneBit0, keep0, keep1, 1);
                auto ofMyStep = [&](ArrayRef<Value> v) {
                  return pick(laneBit1, pick(laneBit0, v[3], v[2]),
                              pick(laneBit0, v[1], v[0]));
                };
                Value yMine =
                    finishY(ib, mine, dSkip ? ofMyStep(us) : Value(), dSkip,
                            gate ? fastSilu(ib, ofMyStep(zs)) : Value());
                Value column = arith::AddIOp::create(ib, t1, laneSub);
                if (laterStores)
                  laterStores->push_back({yMine, column});
                else
                  memref::StoreOp::create(ib, yMine, yS,
                                          ValueRange{chan, column});
              } else if (!local) {
                Value yv = vector::FromElementsOp::create(
                    ib, VectorType::get({kGroup}, f32), ys);
                auto storeY = [&](ImplicitLocOpBuilder &xb) {
                  vector::StoreOp::create(xb, yv, yS, ValueRange{chan, t1},
                                          /*nontemporal=*/false, align(16));
                };
                if (lanes == 1)
                  storeY(ib);
                else
                  scf::IfOp::create(ib, firstLane,
                                    [&](OpBuilder &xb, Location xl) {
                                      ImplicitLocOpBuilder gb(xl, xb);
                                      storeY(gb);
                                      scf::YieldOp::create(gb);
                                    });
              }
              if (local)
                next.push_back(dsum);
              return next;
            };
            // The chunk's groups in a loop, each group's decays computed
            // where its steps use them.
            auto groupLoop = [&](ImplicitLocOpBuilder &lb,
                                 ValueRange hInit) -> SmallVector<Value> {
              auto loop = scf::ForOp::create(
                  lb, k.index(0), steps, k.index(kGroup), hInit,
                  [&](OpBuilder &sb, Location sl, Value t1, ValueRange h) {
                    ImplicitLocOpBuilder ib(sl, sb);
                    GroupIn in = groupInputs(ib, t1);
                    scf::YieldOp::create(
                        ib, groupSteps(ib, t1, h, in, groupDecays(ib, in.dts)));
                  });
              return SmallVector<Value>(loop.getResults());
            };
            // A whole chunk unrolled with its decays a group ahead: group
            // g + 1's exponentials are issued before group g's steps, which
            // use the decays issued a group earlier, so the FMAs just after
            // an exponential do not wait for the special-function unit's
            // result (a warp has 6 scoreboards for its variable-latency
            // results, so ptxas had kept each decay's use a few instructions
            // after it; SASS: 8 cycles between a warp's MUFU.EX2, the unit's
            // rate). A last partial chunk loops over its groups. Measured on
            // an H100 at B8 D1536 L2048 N16 (kernel times, two runs each):
            // 0.218-0.219 -> 0.207-0.209 ms at 2 lanes, 0.217-0.219 ->
            // 0.203 at 4, 0.229-0.231 -> 0.214 at 1. (Session 11 had unrolled
            // the chunk with each decay beside its use: no change.)
            Value full = arith::CmpIOp::create(cb, arith::CmpIPredicate::eq,
                                               steps, k.index(kChunk));
            auto chunkSteps = scf::IfOp::create(
                cb, full,
                [&](OpBuilder &tb, Location tl) {
                  ImplicitLocOpBuilder ib(tl, tb);
                  GroupIn in = groupInputs(ib, k.index(0));
                  SmallVector<Value> decays = groupDecays(ib, in.dts);
                  SmallVector<Value> h(hIn);
                  // The transposed y sums' shared stores wait for the
                  // chunk's end: a store in between kept ptxas from lifting
                  // the next group's shared loads (and the work on them)
                  // into the shuffles' latency. On an H100 at B8 D1536
                  // L2048 N16, 4 lanes (three runs): 0.199 -> 0.195 ms.
                  SmallVector<std::pair<Value, Value>> yStores;
                  for (int64_t g = 0; g < kChunk / kGroup; ++g) {
                    GroupIn nextIn;
                    SmallVector<Value> nextDecays;
                    if (g + 1 < kChunk / kGroup) {
                      nextIn = groupInputs(ib, k.index((g + 1) * kGroup));
                      nextDecays = groupDecays(ib, nextIn.dts);
                    }
                    h = groupSteps(ib, k.index(g * kGroup), h, in, decays,
                                   &yStores);
                    in = std::move(nextIn);
                    decays = std::move(nextDecays);
                  }
                  for (auto [value, column] : yStores)
                    memref::StoreOp::create(ib, value, yS,
                                            ValueRange{chan, column});
                  scf::YieldOp::create(ib, h);
                },
                [&](OpBuilder &eb, Location el) {
                  ImplicitLocOpBuilder ib(el, eb);
                  scf::YieldOp::create(ib, groupLoop(ib, hIn));
                });
            // Every read of this chunk's buffer (and write of the y tile)
            // is done before the next iteration's copies overwrite it.
            gpu::BarrierOp::create(cb);
            if (!local) {
              // The y tile out, 4 steps a vector (element by element where
              // rows are not whole vectors).
              if (!alignedRows)
                forTile(cb, kChannels, kChunk,
                        [&](ImplicitLocOpBuilder &wb, Value r, Value tt) {
                          Value dd, t, ok;
                          std::tie(dd, t, ok) = tileAt(wb, t0, r, tt);
                          scf::IfOp::create(
                              wb, ok, [&](OpBuilder &xb, Location xl) {
                                ImplicitLocOpBuilder ib(xl, xb);
                                k.store(ib,
                                        memref::LoadOp::create(
                                            ib, yS, ValueRange{r, tt}),
                                        y, ValueRange{bi, dd, t});
                                scf::YieldOp::create(ib);
                              });
                        });
              int64_t perRow = kChunk / kGroup;
              if (alignedRows)
                forTile(cb, kChannels, perRow,
                        [&](ImplicitLocOpBuilder &wb, Value r, Value cell) {
                          ImplicitLocOpBuilder &cb = wb;
                          Value col =
                              arith::MulIOp::create(cb, cell, k.index(kGroup));
                          Value dd, t, ok;
                          std::tie(dd, t, ok) = tileAt(cb, t0, r, col);
                          scf::IfOp::create(
                              cb, ok, [&](OpBuilder &xb, Location xl) {
                                ImplicitLocOpBuilder ib(xl, xb);
                                Value vec = vector::LoadOp::create(
                                    ib, VectorType::get({kGroup}, f32), yS,
                                    ValueRange{r, col}, /*nontemporal=*/false,
                                    align(16));
                                if (uElement != f32)
                                  vec = arith::TruncFOp::create(
                                      ib, VectorType::get({kGroup}, uElement),
                                      vec);
                                vector::StoreOp::create(ib, vec, y,
                                                        ValueRange{bi, dd, t},
                                                        /*nontemporal=*/false,
                                                        align(kGroup * uBytes));
                                scf::YieldOp::create(ib);
                              });
                        });
            }
            scf::YieldOp::create(cb, chunkSteps.getResults());
          });
    };
    // One scan kernel: `local` scans from zero and keeps (end state, ΣΔ)
    // per split; otherwise from the carried-in state (zero without
    // splits), writing y (and the last state without splits).
    auto scanKernel = [&](bool local) {
      k.kernelPart = local ? "local" : "";
      SmallVector<Type> tiles(4, k.sharedType({kChannels, kChunk + 1}, f32));
      int64_t dynamicBytes = 0;
      if (staged) {
        tiles.clear();
        for (MemRefType t : stagedTiles(local))
          dynamicBytes += t.getNumElements() * t.getElementTypeBitWidth() / 8;
      }
      k.launch(batch * channelBlocks * splits, blockThreads,
               [&](ImplicitLocOpBuilder &kb, Value block, Value thread) {
        ScalarMath m(kb);
        // (The pipelined form's tiles are its own, in dynamic shared
        // memory.)
        Value uS, dS, zS, yS;
        if (!staged) {
          uS = k.workgroupBuffers[0], dS = k.workgroupBuffers[1];
          zS = k.workgroupBuffers[2], yS = k.workgroupBuffers[3];
        }
        Value sp = arith::RemUIOp::create(kb, block, k.index(splits));
        Value rest = arith::DivUIOp::create(kb, block, k.index(splits));
        Value bi = arith::DivUIOp::create(kb, rest, k.index(channelBlocks));
        Value d0 = arith::MulIOp::create(
            kb, arith::RemUIOp::create(kb, rest, k.index(channelBlocks)),
            k.index(kChannels));
        // This thread's channel (of the block's) and lane within it.
        Value chan = arith::DivUIOp::create(kb, thread, k.index(lanes));
        Value sub = arith::RemUIOp::create(kb, thread, k.index(lanes));
        Value firstLane =
            arith::CmpIOp::create(kb, arith::CmpIPredicate::eq, sub, k.index(0));
        Value d = arith::AddIOp::create(kb, d0, chan);
        Value active = arith::CmpIOp::create(kb, arith::CmpIPredicate::ult, d,
                                             k.index(channels));
        Value dSafe = arith::MinUIOp::create(kb, d, k.index(channels - 1));
        Value g = arith::DivUIOp::create(kb, dSafe, k.index(perGroup));
        // The lane's states: n = sub·perLane + s.
        SmallVector<Value> stateIdx;
        for (int64_t s = 0; s < perLane; ++s)
          stateIdx.push_back(arith::AddIOp::create(
              kb, arith::MulIOp::create(kb, sub, k.index(perLane)),
              k.index(s)));
        // exp(Δ·A) = 2^(Δ·A·log2 e) on the special-function unit.
        SmallVector<Value> a2;
        for (int64_t s = 0; s < perLane; ++s)
          a2.push_back(m.mul(k.load(kb, A, ValueRange{dSafe, stateIdx[s]}),
                             m.constant(kLog2E)));
        Value dSkip = D ? k.load(kb, D, ValueRange{dSafe}) : Value();
        // This split's steps [tBegin, tEnd), in chunks of 16.
        Value tBegin = arith::MulIOp::create(kb, sp, k.index(span));
        Value tEnd = arith::MinUIOp::create(
            kb, arith::AddIOp::create(kb, tBegin, k.index(span)),
            k.index(length));
        Value chunks = arith::DivUIOp::create(
            kb,
            arith::AddIOp::create(
                kb, arith::SubIOp::create(kb, tEnd, tBegin),
                k.index(kChunk - 1)),
            k.index(kChunk));
        // Element j·T + thread of a chunk (T threads): channel (·)/16,
        // step (·)%16.
        auto forChunkElements = [&](ImplicitLocOpBuilder &eb, Value t0,
                                    function_ref<void(ImplicitLocOpBuilder &,
                                                      Value, Value, Value,
                                                      Value)>
                                        fn) {
          for (int64_t j = 0; j * blockThreads < kChannels * kChunk; ++j) {
            Value e =
                arith::AddIOp::create(eb, thread, k.index(j * blockThreads));
            Value cl = arith::DivUIOp::create(eb, e, k.index(kChunk));
            Value tt = arith::RemUIOp::create(eb, e, k.index(kChunk));
            Value dd = arith::AddIOp::create(eb, d0, cl);
            Value t = arith::AddIOp::create(eb, t0, tt);
            Value ok = arith::AndIOp::create(
                eb,
                arith::CmpIOp::create(eb, arith::CmpIPredicate::ult, dd,
                                      k.index(channels)),
                arith::CmpIOp::create(eb, arith::CmpIPredicate::ult, t,
                                      k.index(length)));
            scf::IfOp::create(eb, ok, [&](OpBuilder &tb, Location tl) {
              ImplicitLocOpBuilder ib(tl, tb);
              fn(ib, cl, tt, dd, t);
              scf::YieldOp::create(ib);
            });
          }
        };
        SmallVector<Value> h0;
        for (int64_t s = 0; s < perLane; ++s)
          h0.push_back(split && !local
                           ? memref::LoadOp::create(
                                 kb, carriedIn,
                                 ValueRange{bi, dSafe, sp, stateIdx[s]})
                                 .getResult()
                           : m.constant(0.0));
        // The local pass also sums the split's Δ.
        if (local)
          h0.push_back(m.constant(0.0));
        // Step tt of the chunk: u and delta (biased, softplus'ed as
        // staged) from the staged tiles.
        auto stepInputs = [&](ImplicitLocOpBuilder &ib, Value tt) {
          SmallVector<Value> sAt = {chan, tt};
          Value ut = memref::LoadOp::create(ib, uS, sAt);
          Value dt = memref::LoadOp::create(ib, dS, sAt);
          return std::make_pair(ut, dt);
        };
        // y at step tt (C.h summed over the lane's states: yt, then over
        // the channel's lanes) with the skip term and the gate (silu'ed as
        // staged), to the y tile by the channel's first lane.
        auto finishY = [&](ImplicitLocOpBuilder &ib, Value tt, Value yt,
                           Value ut) {
          SmallVector<Value> sAt = {chan, tt};
          yt = finishStepY(ib, yt, ut, dSkip,
                           z ? memref::LoadOp::create(ib, zS, sAt).getResult()
                             : Value());
          if (lanes == 1) {
            memref::StoreOp::create(ib, yt, yS, sAt);
            return;
          }
          scf::IfOp::create(ib, firstLane, [&](OpBuilder &tb, Location tl) {
            memref::StoreOp::create(tb, tl, yt, yS, sAt);
            scf::YieldOp::create(tb, tl);
          });
        };
        // After the chunk's steps: the y tile out to y (coalesced).
        auto writeBack = [&](ImplicitLocOpBuilder &cb, Value t0) {
          gpu::BarrierOp::create(cb);
          if (!local)
            forChunkElements(cb, t0, [&](ImplicitLocOpBuilder &ib, Value cl,
                                         Value tt, Value dd, Value t) {
              k.store(ib, memref::LoadOp::create(ib, yS, ValueRange{cl, tt}),
                      y, ValueRange{bi, dd, t});
            });
        };
        auto chunkLoop = staged ? stagedChunks(kb, local, thread, chan, sub,
                                               firstLane, stateIdx, bi, d0,
                                               arith::DivUIOp::create(
                                                   kb, d0, k.index(perGroup)),
                                               dSafe, tBegin, tEnd, chunks,
                                               a2, dSkip, h0)
                                : scf::ForOp::create(
            kb, k.index(0), chunks, k.index(1), h0,
            [&](OpBuilder &nb, Location loc, Value c, ValueRange hIn) {
              ImplicitLocOpBuilder cb(loc, nb);
              Value t0 = arith::AddIOp::create(
                  cb, tBegin, arith::MulIOp::create(cb, c, k.index(kChunk)));
              forChunkElements(cb, t0, [&](ImplicitLocOpBuilder &ib, Value cl,
                                           Value tt, Value dd, Value t) {
                SmallVector<Value> at = {bi, dd, t};
                memref::StoreOp::create(ib, k.load(ib, u, at), uS,
                                        ValueRange{cl, tt});
                Value dt = k.load(ib, delta, at);
                if (bias)
                  dt = ScalarMath(ib).add(dt, k.load(ib, bias, ValueRange{dd}));
                if (softplus)
                  dt = fastSoftplus(ib, dt);
                memref::StoreOp::create(ib, dt, dS, ValueRange{cl, tt});
                if (z && !local)
                  memref::StoreOp::create(ib, fastSilu(ib, k.load(ib, z, at)),
                                          zS, ValueRange{cl, tt});
              });
              gpu::BarrierOp::create(cb);
              // This thread's channel through the chunk's steps.
              Value steps = arith::MinUIOp::create(
                  cb, k.index(kChunk),
                  arith::SubIOp::create(cb, k.index(length), t0));
              if (vectorBC) {
                int64_t groupSteps = bcSteps;
                // Groups of steps: per state one vector of B (and of C)
                // for the group's steps, loaded first; then the steps in
                // order as in the scalar loop (a quarter or a half of its
                // load instructions, a load per state and step).
                auto groupLoop = scf::ForOp::create(
                    cb, k.index(0), steps, k.index(groupSteps), hIn,
                    [&](OpBuilder &sb, Location sl, Value t1, ValueRange h) {
                      ImplicitLocOpBuilder ib(sl, sb);
                      ScalarMath im(ib);
                      SmallVector<Value> uts, dts, dtus, ys, slots;
                      Value dsum = local ? h[perLane] : Value();
                      for (int64_t j = 0; j < groupSteps; ++j) {
                        Value tt = arith::AddIOp::create(ib, t1, k.index(j));
                        slots.push_back(tt);
                        auto [ut, dt] = stepInputs(ib, tt);
                        uts.push_back(ut);
                        dts.push_back(dt);
                        dtus.push_back(im.mul(dt, ut));
                        ys.push_back(im.constant(0.0));
                        if (local)
                          dsum = im.add(dsum, dt);
                      }
                      Value t = arith::AddIOp::create(ib, t0, t1);
                      auto vecType = VectorType::get({groupSteps}, bcElement);
                      auto loadRun = [&](Value from, Value n) {
                        Value vec = vector::LoadOp::create(
                            ib, vecType, from, ValueRange{bi, g, n, t},
                            /*nontemporal=*/false,
                            llvm::MaybeAlign(groupSteps *
                                             bcElement.getIntOrFloatBitWidth() /
                                             8));
                        SmallVector<Value> values;
                        for (int64_t j = 0; j < groupSteps; ++j)
                          values.push_back(im.f32(vector::ExtractOp::create(
                              ib, vec, ArrayRef<int64_t>{j})));
                        return values;
                      };
                      SmallVector<SmallVector<Value>> bs, cs;
                      for (int64_t n = 0; n < perLane; ++n) {
                        bs.push_back(loadRun(B, stateIdx[n]));
                        if (!local)
                          cs.push_back(loadRun(C, stateIdx[n]));
                      }
                      SmallVector<Value> next(h.take_front(perLane));
                      for (int64_t j = 0; j < groupSteps; ++j)
                        for (int64_t n = 0; n < perLane; ++n) {
                          Value decay = exp2(ib, im.mul(dts[j], a2[n]));
                          next[n] = math::FmaOp::create(
                              ib, decay, next[n], im.mul(dtus[j], bs[n][j]));
                          if (!local)
                            ys[j] = math::FmaOp::create(ib, cs[n][j], next[n],
                                                        ys[j]);
                        }
                      if (local) {
                        next.push_back(dsum);
                      } else {
                        for (int64_t j = 0; j < groupSteps; ++j)
                          finishY(ib, slots[j], ys[j], uts[j]);
                      }
                      scf::YieldOp::create(ib, next);
                    });
                writeBack(cb, t0);
                scf::YieldOp::create(cb, groupLoop.getResults());
                return;
              }
              auto stepLoop = scf::ForOp::create(
                  cb, k.index(0), steps, k.index(1), hIn,
                  [&](OpBuilder &sb, Location sl, Value tt, ValueRange h) {
                    ImplicitLocOpBuilder ib(sl, sb);
                    ScalarMath im(ib);
                    Value t = arith::AddIOp::create(ib, t0, tt);
                    auto [ut, dt] = stepInputs(ib, tt);
                    Value dtu = im.mul(dt, ut);
                    SmallVector<Value> next;
                    Value yt = im.constant(0.0);
                    for (int64_t n = 0; n < perLane; ++n) {
                      SmallVector<Value> bcAt = {bi, g, stateIdx[n], t};
                      Value decay = exp2(ib, im.mul(dt, a2[n]));
                      Value hn = math::FmaOp::create(
                          ib, decay, h[n], im.mul(dtu, k.load(ib, B, bcAt)));
                      next.push_back(hn);
                      if (!local)
                        yt = math::FmaOp::create(ib, k.load(ib, C, bcAt), hn,
                                                 yt);
                    }
                    if (local)
                      next.push_back(im.add(h[perLane], dt));
                    else
                      finishY(ib, tt, yt, ut);
                    scf::YieldOp::create(ib, next);
                  });
              writeBack(cb, t0);
              scf::YieldOp::create(cb, stepLoop.getResults());
            });
        if (!local && (split || !last))
          return;
        scf::IfOp::create(kb, active, [&](OpBuilder &tb, Location tl) {
          ImplicitLocOpBuilder ib(tl, tb);
          for (int64_t n = 0; n < perLane; ++n)
            if (local)
              memref::StoreOp::create(ib, chunkLoop.getResult(n), localState,
                                      ValueRange{bi, d, sp, stateIdx[n]});
            else
              k.store(ib, chunkLoop.getResult(n), last,
                      ValueRange{bi, d, stateIdx[n]});
          if (local)
            scf::IfOp::create(ib, firstLane, [&](OpBuilder &fb, Location fl) {
              memref::StoreOp::create(fb, fl, chunkLoop.getResult(perLane),
                                      deltaSum, ValueRange{bi, d, sp});
              scf::YieldOp::create(fb, fl);
            });
          scf::YieldOp::create(ib);
        });
      }, /*sharedFloats=*/0, tiles, dynamicBytes);
    };
    if (split) {
      scanKernel(/*local=*/true);
      k.kernelPart = "carry";
      // Carries: a thread per (batch, channel, state) walks the splits:
      // in_s = H, then H = 2^(ΣΔ_s·A·log2 e)·H + local_s.
      k.launchFlat(batch * channels * states, [&](ImplicitLocOpBuilder &kb,
                                                  Value linear) {
        ScalarMath m(kb);
        SmallVector<Value> i =
            k.delinearize(kb, linear, {batch, channels, states});
        Value bi = i[0], d = i[1], n = i[2];
        Value a2 = m.mul(k.load(kb, A, ValueRange{d, n}), m.constant(kLog2E));
        auto loop = scf::ForOp::create(
            kb, k.index(0), k.index(splits), k.index(1),
            ValueRange{m.constant(0.0)},
            [&](OpBuilder &nb, Location nl, Value sp, ValueRange carried) {
              ImplicitLocOpBuilder ib(nl, nb);
              ScalarMath im(ib);
              Value h = carried[0];
              memref::StoreOp::create(ib, h, carriedIn,
                                      ValueRange{bi, d, sp, n});
              Value sum =
                  memref::LoadOp::create(ib, deltaSum, ValueRange{bi, d, sp});
              Value hl = memref::LoadOp::create(ib, localState,
                                                ValueRange{bi, d, sp, n});
              scf::YieldOp::create(
                  ib, math::FmaOp::create(ib, exp2(ib, im.mul(sum, a2)), h,
                                          hl)
                          .getResult());
            });
        if (last)
          k.store(kb, loop.getResult(0), last, ValueRange{bi, d, n});
      });
    }
    scanKernel(/*local=*/false);
    if (split)
      memref::DeallocOp::create(b, scratch);
    SmallVector<Value> results = {k.result(y, uType)};
    if (last)
      results.push_back(k.result(last, lastType));
    rewriter.replaceOp(op, results);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// seq.gated_linear_attention: a block per (batch, head), a thread per value
// column with the K entries of its state column in registers; time in
// chunks staged through shared memory.
//===----------------------------------------------------------------------===//

struct GatedLinearAttentionToGPU : OpRewritePattern<GatedLinearAttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GatedLinearAttentionOp op,
                                PatternRewriter &rewriter) const override {
    RankedTensorType qType = tensorTypeOf(op.getQ());
    RankedTensorType oType = tensorTypeOf(op.getO());
    int64_t batch = qType.getDimSize(0), heads = qType.getDimSize(1),
            length = qType.getDimSize(2), keyDim = qType.getDimSize(3),
            valueDim = oType.getDimSize(3);
    if (keyDim > kMaxRegisterState)
      return tooManyRegisters(op, rewriter, "key dim K", keyDim);
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    KernelBuilder k(b);
    Value q = k.buffer(op.getQ()), kk = k.buffer(op.getK()),
          v = k.buffer(op.getV()), g = k.buffer(op.getG()),
          s0 = k.buffer(op.getInitialState());
    bool scalarGate = g && tensorTypeOf(op.getG()).getRank() == 3;
    Value o = k.output(oType);
    Value last;
    RankedTensorType lastType;
    if (op.getFinalState()) {
      lastType = tensorTypeOf(op.getFinalState());
      last = k.output(lastType);
    }
    double scale = op.getEffectiveScale();
    // A block per (batch, head); a thread per (group of state rows, value
    // column) holding its rows of that column of the K x V state in
    // registers (K/G rows: G groups for up to 512 threads, more warps to
    // hide latency than a thread per column's 4 a block). Time goes in
    // chunks of kChunk steps: the chunk's q, k and gate decays (e^g, once
    // per entry instead of once per column thread) come into shared
    // memory by all threads together (coalesced); each thread walks the
    // chunk's steps reading them as broadcasts, 4 rows a vector load where
    // the rows allow, and leaves its group's part of q . s per step in
    // shared memory; after the chunk the parts are summed into o.
    // (Session 7 on an H100, B8 H16 T4096 K=V=128: a thread per column
    // reading q, k, g from global memory with its own exponentials, 40
    // ms; staged, a thread per column, 3.7 ms.)
    constexpr int64_t kChunk = 8;
    Type f32 = b.getF32Type();
    int64_t gateCols = scalarGate ? 1 : keyDim;
    // Groups of state rows: the fewest (a divisor of K up to 16) that
    // leave a thread at most 32 rows, so that its state fits in registers
    // (K = 128: 4 groups, ptxas 98 registers on sm_90a; with one group of
    // 128 rows and 512 threads ptxas capped it at 128 and spilled).
    // (No such divisor, a prime K over 32: the largest one, and spills.)
    int64_t groups = 0, largest = 1;
    for (int64_t d = 1; d <= 16 && !groups; ++d)
      if (keyDim % d == 0) {
        largest = d;
        if (keyDim / d <= 32)
          groups = d;
      }
    if (!groups)
      groups = largest;
    int64_t rows = keyDim / groups;
    int64_t vec = rows % 4 == 0 && keyDim % 4 == 0 ? 4 : 1;
    // Threads a block: up to 512, fewer where a thread's rows need more
    // registers than 65536 / 512 (about rows + 96 of them); the value
    // columns of a (batch, head) beyond what one block holds take more
    // blocks, each staging its slice of v.
    int64_t maxThreads = std::clamp<int64_t>(
        (65536 / (rows + 96)) / 32 * 32, 32, 512);
    int64_t columns = std::clamp<int64_t>(
        std::min<int64_t>(valueDim, maxThreads / groups), 1, maxThreads);
    int64_t columnBlocks = llvm::divideCeil(std::max<int64_t>(valueDim, 1),
                                            columns);
    int64_t threads = columns * groups;
    int64_t tileCols = std::max<int64_t>(keyDim, 1);
    SmallVector<Type> tiles = {k.sharedType({kChunk, tileCols}, f32),
                               k.sharedType({kChunk, tileCols}, f32),
                               k.sharedType({groups, kChunk, columns}, f32),
                               k.sharedType({kChunk, columns}, f32)};
    if (g)
      tiles.push_back(k.sharedType({kChunk, std::max<int64_t>(gateCols, 1)},
                                   f32));
    int64_t chunks = llvm::divideCeil(length, kChunk);
    constexpr int64_t kAccumulators = 4;
    // (No (batch, head): no kernel; the results are empty.)
    if (batch * heads > 0)
      k.launch(batch * heads * columnBlocks, threads,
               [&](ImplicitLocOpBuilder &kb, Value block, Value tid) {
      ScalarMath m(kb);
      Value bh = arith::DivUIOp::create(kb, block, k.index(columnBlocks));
      Value col0 = arith::MulIOp::create(
          kb, arith::RemUIOp::create(kb, block, k.index(columnBlocks)),
          k.index(columns));
      Value qS = k.workgroupBuffers[0], kS = k.workgroupBuffers[1],
            oS = k.workgroupBuffers[2], vS = k.workgroupBuffers[3],
            gS = g ? k.workgroupBuffers[4] : Value();
      Value bi = arith::DivUIOp::create(kb, bh, k.index(heads));
      Value h = arith::RemUIOp::create(kb, bh, k.index(heads));
      // This thread's column of the block's slice, and of v.
      Value lcol = arith::RemUIOp::create(kb, tid, k.index(columns));
      Value col = arith::AddIOp::create(kb, col0, lcol);
      Value grp = arith::DivUIOp::create(kb, tid, k.index(columns));
      Value row0 = arith::MulIOp::create(kb, grp, k.index(rows));
      bool anyColumn = valueDim > 0;
      Value active = arith::CmpIOp::create(kb, arith::CmpIPredicate::ult, col,
                                           k.index(valueDim));
      Value colSafe = anyColumn ? arith::MinUIOp::create(
                                      kb, col, k.index(valueDim - 1))
                                      .getResult()
                                : col;
      auto rowAt = [&](ImplicitLocOpBuilder &ib, int64_t i) {
        return arith::AddIOp::create(ib, row0, k.index(i)).getResult();
      };
      SmallVector<Value> init;
      for (int64_t i = 0; i < rows; ++i)
        init.push_back(s0 && anyColumn
                           ? k.load(kb, s0, ValueRange{bi, h, rowAt(kb, i),
                                                       colSafe})
                           : m.constant(0.0));
      // A chunk's tiles go through registers: this thread's entries of
      // the [kChunk, cols] tiles of rows t0.. of q, k, v and the gate
      // ([B, H, T, cols], the scalar gate [B, H, T]) are loaded before the
      // previous chunk's steps (their latency behind that work), and
      // stored to shared memory (the gate as e^g) after them.
      // (v's tile is the block's slice of columns, from col0.)
      struct Tile {
        Value from, tile;
        int64_t cols;
        bool rank3, exp, slice;
      };
      SmallVector<Tile> staged = {{q, qS, keyDim, false, false, false},
                                  {kk, kS, keyDim, false, false, false}};
      if (anyColumn)
        staged.push_back({v, vS, columns, false, false, true});
      if (g)
        staged.push_back({g, gS, gateCols, scalarGate, true, false});
      // Entry e0 + tid of a tile: (step, column) and whether it exists.
      auto entry = [&](ImplicitLocOpBuilder &sb, Value t0, const Tile &tl,
                       int64_t e0) {
        int64_t entries = kChunk * tl.cols;
        Value cols = k.index(std::max<int64_t>(tl.cols, 1));
        Value e = arith::AddIOp::create(sb, tid, k.index(e0));
        Value tt = arith::DivUIOp::create(sb, e, cols);
        Value c = arith::RemUIOp::create(sb, e, cols);
        Value t = arith::AddIOp::create(sb, t0, tt);
        Value ok = arith::AndIOp::create(
            sb,
            arith::CmpIOp::create(sb, arith::CmpIPredicate::ult, e,
                                  k.index(entries)),
            arith::CmpIOp::create(sb, arith::CmpIPredicate::ult, t,
                                  k.index(length)));
        // The column read: of the slice, within v.
        Value from = c;
        if (tl.slice) {
          from = arith::AddIOp::create(sb, col0, c);
          ok = arith::AndIOp::create(
              sb, ok,
              arith::CmpIOp::create(sb, arith::CmpIPredicate::ult, from,
                                    k.index(valueDim)));
        }
        return std::make_tuple(tt, c, t, ok, from);
      };
      auto loadTiles = [&](ImplicitLocOpBuilder &sb, Value t0) {
        SmallVector<Value> values;
        for (const Tile &tl : staged)
          for (int64_t e0 = 0; e0 < kChunk * tl.cols; e0 += threads) {
            auto at = entry(sb, t0, tl, e0);
            Value c = std::get<4>(at), t = std::get<2>(at),
                  ok = std::get<3>(at);
            auto load = scf::IfOp::create(
                sb, ok,
                [&](OpBuilder &tb, Location loc) {
                  ImplicitLocOpBuilder ib(loc, tb);
                  Value x = tl.rank3
                                ? k.load(ib, tl.from, ValueRange{bi, h, t})
                                : k.load(ib, tl.from, ValueRange{bi, h, t, c});
                  scf::YieldOp::create(ib, x);
                },
                [&](OpBuilder &tb, Location loc) {
                  ImplicitLocOpBuilder ib(loc, tb);
                  scf::YieldOp::create(ib, ScalarMath(ib).constant(0.0));
                });
            values.push_back(load.getResult(0));
          }
        return values;
      };
      auto storeTiles = [&](ImplicitLocOpBuilder &sb, Value t0,
                            ValueRange values) {
        size_t n = 0;
        for (const Tile &tl : staged)
          for (int64_t e0 = 0; e0 < kChunk * tl.cols; e0 += threads) {
            auto at = entry(sb, t0, tl, e0);
            Value tt = std::get<0>(at), c = std::get<1>(at),
                  ok = std::get<3>(at);
            Value x = values[n++];
            scf::IfOp::create(sb, ok, [&](OpBuilder &tb, Location loc) {
              ImplicitLocOpBuilder ib(loc, tb);
              Value y = tl.exp ? ScalarMath(ib).exp(x) : x;
              memref::StoreOp::create(ib, y, tl.tile, ValueRange{tt, c});
              scf::YieldOp::create(ib);
            });
          }
      };
      // Entries i..i+vec-1 of this thread's rows at step tt of `tile`.
      auto tileRows = [&](ImplicitLocOpBuilder &ib, Value tile, Value tt,
                          int64_t i) {
        SmallVector<Value> values;
        if (vec == 1) {
          values.push_back(
              memref::LoadOp::create(ib, tile, ValueRange{tt, rowAt(ib, i)}));
          return values;
        }
        Value v4 = vector::LoadOp::create(
            ib, VectorType::get({vec}, f32), tile,
            ValueRange{tt, rowAt(ib, i)}, /*nontemporal=*/false,
            llvm::MaybeAlign(4 * vec));
        for (int64_t j = 0; j < vec; ++j)
          values.push_back(
              vector::ExtractOp::create(ib, v4, ArrayRef<int64_t>{j}));
        return values;
      };
      SmallVector<Value> first = loadTiles(kb, k.index(0));
      SmallVector<Value> carried(init);
      carried.append(first);
      auto chunkLoop = scf::ForOp::create(
          kb, k.index(0), k.index(chunks), k.index(1), carried,
          [&](OpBuilder &nb, Location loc, Value ci, ValueRange inIt) {
            ImplicitLocOpBuilder cb(loc, nb);
            ValueRange sIn = inIt.take_front(rows);
            Value t0 = arith::MulIOp::create(cb, ci, k.index(kChunk));
            storeTiles(cb, t0, inIt.drop_front(rows));
            gpu::BarrierOp::create(cb);
            SmallVector<Value> nextTiles = loadTiles(
                cb, arith::AddIOp::create(cb, t0, k.index(kChunk)));
            Value steps = arith::MinUIOp::create(
                cb, k.index(kChunk),
                arith::SubIOp::create(cb, k.index(length), t0));
            auto stepLoop = scf::ForOp::create(
                cb, k.index(0), steps, k.index(1), sIn,
                [&](OpBuilder &sb, Location sl, Value tt, ValueRange st) {
                  ImplicitLocOpBuilder ib(sl, sb);
                  ScalarMath im(ib);
                  Value vt = anyColumn
                                 ? memref::LoadOp::create(
                                       ib, vS, ValueRange{tt, lcol})
                                       .getResult()
                                 : im.constant(0.0);
                  Value decay =
                      scalarGate ? memref::LoadOp::create(
                                       ib, gS, ValueRange{tt, k.index(0)})
                                       .getResult()
                                 : Value();
                  SmallVector<Value> next;
                  SmallVector<Value> acc(kAccumulators, im.constant(0.0));
                  for (int64_t i = 0; i < rows; i += vec) {
                    SmallVector<Value> qs = tileRows(ib, qS, tt, i);
                    SmallVector<Value> ks = tileRows(ib, kS, tt, i);
                    SmallVector<Value> gs;
                    if (g && !scalarGate)
                      gs = tileRows(ib, gS, tt, i);
                    for (int64_t j = 0; j < vec; ++j) {
                      Value sr = st[i + j];
                      if (g)
                        sr = im.mul(scalarGate ? decay : gs[j], sr);
                      sr = math::FmaOp::create(ib, ks[j], vt, sr);
                      next.push_back(sr);
                      Value &a = acc[(i + j) % kAccumulators];
                      a = math::FmaOp::create(ib, qs[j], sr, a);
                    }
                  }
                  Value sum = acc[0];
                  for (int64_t a = 1; a < kAccumulators; ++a)
                    sum = im.add(sum, acc[a]);
                  memref::StoreOp::create(ib, sum, oS,
                                          ValueRange{grp, tt, lcol});
                  scf::YieldOp::create(ib, next);
                });
            gpu::BarrierOp::create(cb);
            // o at step tt: the groups' parts summed, by the threads of
            // group tt mod G.
            for (int64_t j = 0; j < kChunk; j += groups) {
              Value tt = arith::AddIOp::create(cb, grp, k.index(j));
              Value ok = arith::AndIOp::create(
                  cb, active,
                  arith::CmpIOp::create(cb, arith::CmpIPredicate::ult, tt,
                                        steps));
              scf::IfOp::create(cb, ok, [&](OpBuilder &tb, Location tl) {
                ImplicitLocOpBuilder ib(tl, tb);
                ScalarMath im(ib);
                Value sum = memref::LoadOp::create(
                    ib, oS, ValueRange{k.index(0), tt, lcol});
                for (int64_t p = 1; p < groups; ++p)
                  sum = im.add(sum, memref::LoadOp::create(
                                        ib, oS, ValueRange{k.index(p), tt, lcol}));
                k.store(ib, im.mul(sum, im.constant(scale)), o,
                        ValueRange{bi, h, arith::AddIOp::create(ib, t0, tt),
                                   col});
                scf::YieldOp::create(ib);
              });
            }
            // The next chunk's staging overwrites the tiles.
            gpu::BarrierOp::create(cb);
            SmallVector<Value> out(stepLoop.getResults());
            out.append(nextTiles);
            scf::YieldOp::create(cb, out);
          });
      if (last)
        scf::IfOp::create(kb, active, [&](OpBuilder &tb, Location tl) {
          ImplicitLocOpBuilder ib(tl, tb);
          for (int64_t i = 0; i < rows; ++i)
            k.store(ib, chunkLoop.getResult(i), last,
                    ValueRange{bi, h, rowAt(ib, i), col});
          scf::YieldOp::create(ib);
        });
    }, /*sharedFloats=*/0, tiles);
    SmallVector<Value> results = {k.result(o, oType)};
    if (last)
      results.push_back(k.result(last, lastType));
    rewriter.replaceOp(op, results);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// seq.attention: a thread per query row, online softmax over its visible
// keys, the Dv accumulators in registers.
//===----------------------------------------------------------------------===//

struct AttentionToGPU : OpRewritePattern<AttentionOp> {
  AttentionToGPU(MLIRContext *ctx, bool useTensorCores, bool useWgmma,
                 MmaAttentionOptions mmaOptions, bool splitKeys,
                 bool decodeSimt, int64_t decodeRows, int64_t decodeKeys,
                 bool decodeVector, bool decodeTranspose)
      : OpRewritePattern(ctx), useTensorCores(useTensorCores),
        useWgmma(useWgmma),
        mmaOptions(mmaOptions), splitKeys(splitKeys), decodeSimt(decodeSimt),
        decodeRows(decodeRows ? decodeRows : 4),
        decodeKeys(decodeKeys ? decodeKeys : 8), decodeVector(decodeVector),
        decodeTranspose(decodeTranspose) {}
  bool useTensorCores;
  /// Prefill attention on sm_90a's warpgroup MMA where it applies.
  bool useWgmma;
  MmaAttentionOptions mmaOptions;
  /// Few query rows over many keys (decoding): each row's keys split
  /// across threads, then a combine kernel.
  bool splitKeys;
  /// bf16/f16 decoding (at most kDecodeSimtRows query rows per KV head,
  /// keys to split) on that SIMT kernel instead of the tensor cores.
  bool decodeSimt;
  /// Measured on an H100 (GQA 32:8, bf16): the SIMT kernel wins with 4
  /// rows per KV head (one query; 1.05-7x). With 32 (8 queries, B2 KV
  /// 32768) it lost in session 5 (0.86x: each warp of 4 rows read the KV
  /// head again) and ties now that the chunks of a split share the reads
  /// (0.765 ms against the tensor cores' 0.773: 11 TFLOP/s of f32 FMA, no
  /// longer memory-bound); the tensor cores keep it.
  static constexpr int64_t kDecodeSimtRows = 8;
  /// The split-key kernel's query rows of one KV head per warp, and keys
  /// per step.
  int64_t decodeRows, decodeKeys;
  /// The split-key kernel reads K/V row pieces as vectors (see below).
  bool decodeVector;
  /// The split-key kernel sums its scores over the lanes with a transposed
  /// reduction (warpSumTransposed) instead of one xor sum each.
  bool decodeTranspose;

  /// Each of `values` summed over the warp's 32 lanes, every lane getting
  /// every sum: a 5-step xor-shuffle sum per value (5 shuffles each).
  static SmallVector<Value> warpSumEach(ImplicitLocOpBuilder &b,
                                        SmallVector<Value> values) {
    ScalarMath m(b);
    Value width = arith::ConstantIntOp::create(b, b.getI32Type(), 32);
    for (int64_t o = 16; o >= 1; o /= 2) {
      Value off = arith::ConstantIntOp::create(b, b.getI32Type(), o);
      for (Value &v : values)
        v = m.add(v, gpu::ShuffleOp::create(b, v, off, width,
                                            gpu::ShuffleMode::XOR)
                         .getShuffleResult());
    }
    return values;
  }

  /// The same sums with fewer shuffles: a transposed reduction, then a
  /// broadcast. The M values (padded with zeros to a power of two, M2) are
  /// halved at each xor step: the lane whose offset bit is clear keeps the
  /// lower half, its partner the upper half, each adding what the other
  /// sends (M2/2 + M2/4 + ... shuffles); after h = min(5, log2 M2) such
  /// steps a lane holds S = M2/2^h sums, the rest of the 5 offsets add
  /// plainly, and value v (slot v % S) sits in the lanes whose offset bits
  /// k < h are the bits of v / S, high bit first; one indexed shuffle per
  /// value brings it to every lane. For M = 32: 31 + 32 shuffles instead
  /// of 160.
  static SmallVector<Value> warpSumTransposed(ImplicitLocOpBuilder &b,
                                              Value lane,
                                              SmallVector<Value> values) {
    ScalarMath m(b);
    auto i32 = [&](int64_t v) {
      return arith::ConstantIntOp::create(b, b.getI32Type(), v).getResult();
    };
    Value width = i32(32);
    Value lane32 = arith::IndexCastOp::create(b, b.getI32Type(), lane);
    int64_t count = values.size();
    int64_t padded = llvm::PowerOf2Ceil(count);
    values.resize(padded, m.constant(0.0));
    int64_t halvings = std::min<int64_t>(5, llvm::Log2_64(padded));
    for (int64_t k = 0; k < halvings; ++k) {
      int64_t o = 16 >> k;
      Value upper = arith::CmpIOp::create(
          b, arith::CmpIPredicate::ne, arith::AndIOp::create(b, lane32, i32(o)),
          i32(0));
      int64_t half = values.size() / 2;
      SmallVector<Value> kept;
      for (int64_t i = 0; i < half; ++i) {
        Value lo = values[i], hi = values[i + half];
        Value send = m.select(upper, lo, hi), keep = m.select(upper, hi, lo);
        kept.push_back(m.add(
            keep, gpu::ShuffleOp::create(b, send, i32(o), width,
                                         gpu::ShuffleMode::XOR)
                      .getShuffleResult()));
      }
      values = std::move(kept);
    }
    for (int64_t k = halvings; k < 5; ++k)
      for (Value &v : values)
        v = m.add(v, gpu::ShuffleOp::create(b, v, i32(16 >> k), width,
                                            gpu::ShuffleMode::XOR)
                         .getShuffleResult());
    int64_t slots = values.size();
    SmallVector<Value> sums;
    for (int64_t v = 0; v < count; ++v) {
      int64_t high = v / slots, owner = 0;
      for (int64_t k = 0; k < halvings; ++k)
        if (high >> (halvings - 1 - k) & 1)
          owner |= 16 >> k;
      sums.push_back(gpu::ShuffleOp::create(b, values[v % slots], i32(owner),
                                            width, gpu::ShuffleMode::IDX)
                         .getShuffleResult());
    }
    return sums;
  }

  /// Whether the rows need their keys split (more than 1): splits of at
  /// least 32 keys until about 4096 (row, split) pairs fill the GPU; 1 (the
  /// thread-per-row kernel) when the rows alone fill it. The split-key
  /// kernel then picks its own count (groupedKeySplits).
  static int64_t keySplits(int64_t rows, int64_t skv) {
    if (rows >= 16384)
      return 1;
    int64_t wanted = llvm::divideCeil(int64_t(4096), std::max<int64_t>(rows, 1));
    return std::clamp<int64_t>(std::min(wanted, skv / 32), 1, 256);
  }
  /// Key splits of the split-key kernel's `warpGroups` warps (a warp per
  /// group of rows sharing a KV head): about 4096 warps, at least 64 keys
  /// each (the partials stay a small share of the K/V bytes), at most 256.
  static int64_t groupedKeySplits(int64_t warpGroups, int64_t skv) {
    int64_t wanted =
        llvm::divideCeil(int64_t(4096), std::max<int64_t>(warpGroups, 1));
    return std::clamp<int64_t>(std::min(wanted, skv / 64), 1, 256);
  }
  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    RankedTensorType qType = tensorTypeOf(op.getQuery());
    RankedTensorType kType = tensorTypeOf(op.getKey());
    RankedTensorType oType = tensorTypeOf(op.getOutput());
    int64_t batch = qType.getDimSize(0), qHeads = qType.getDimSize(1),
            sq = qType.getDimSize(2), headDim = qType.getDimSize(3),
            kvHeads = kType.getDimSize(1), skv = kType.getDimSize(2),
            valueDim = oType.getDimSize(3);
    if (valueDim > kMaxRegisterState || headDim > kMaxRegisterState)
      return tooManyRegisters(op, rewriter, "head dim",
                              std::max(valueDim, headDim));
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    KernelBuilder k(b);
    // Decoding (keys to split): few (batch, head) pairs of up to 64 query
    // rows go to the split-key tensor-core kernel; up to 8 rows a KV head
    // in pairs that fill the GPU (where that kernel does not apply, and
    // its one-pass tiles would be nearly empty), or everywhere with
    // attention-decode-simt, to the split-key SIMT kernel. Otherwise
    // bf16/f16 with head dims the m16n8k16 tiles divide: the one-pass
    // tensor-core kernels.
    int64_t tensorCoreSplits =
        useTensorCores && splitKeys ? mmaKeySplits(op, mmaOptions) : 0;
    bool decoding = splitKeys && (decodeSimt || tensorCoreSplits == 0) &&
                    (qHeads / kvHeads) * sq <= kDecodeSimtRows &&
                    keySplits(batch * qHeads * sq, skv) > 1;
    if (!decoding && tensorCoreSplits > 0) {
      lowerAttentionToMmaSplitKeys(op, rewriter, k, mmaOptions,
                                   tensorCoreSplits);
      return success();
    }
    if (useTensorCores && useWgmma && !decoding &&
        canLowerAttentionToWgmma(op, mmaOptions)) {
      lowerAttentionToWgmma(op, rewriter, k, mmaOptions);
      return success();
    }
    if (useTensorCores && !decoding && canLowerAttentionToMma(op, mmaOptions)) {
      lowerAttentionToMma(op, rewriter, k, mmaOptions);
      return success();
    }
    int64_t numRows = batch * qHeads * sq;
    // Few rows over many keys: the split-key kernel, then a combine kernel.
    bool splitPath = splitKeys && keySplits(numRows, skv) > 1;
    // With attention-decode-vector, the split-key kernel's lanes hold
    // contiguous head dims and read each K/V row piece as one vector (up
    // to 16 bytes): head dims of 32·P, P a power of two. Like the
    // tensor-core kernel's cp.async, this relies on the runtime's 16-byte
    // aligned buffers with a unit innermost stride and rows whose strides
    // are multiples of the vector.
    Type kvElement = kType.getElementType();
    int64_t elementBytes = kvElement.getIntOrFloatBitWidth() / 8;
    auto vectorWidth = [&](int64_t dim) -> int64_t {
      int64_t p = dim / 32;
      return dim % 32 == 0 && llvm::isPowerOf2_64(p) && p * elementBytes <= 16
                 ? p
                 : 0;
    };
    bool vectorRows = splitPath && decodeVector &&
                      tensorTypeOf(op.getValue()).getElementType() ==
                          kvElement &&
                      vectorWidth(headDim) > 0 && vectorWidth(valueDim) > 0;
    Value q = k.buffer(op.getQuery()),
          key = k.buffer(op.getKey(), /*unitInnerStride=*/vectorRows),
          value = k.buffer(op.getValue(), /*unitInnerStride=*/vectorRows),
          lengths = k.buffer(op.getKvLengths()),
          qSeg = k.buffer(op.getQSegmentIds()),
          kSeg = k.buffer(op.getKvSegmentIds());
    AttentionOutputs outputs(op, k);
    Value out = outputs.out, lse = outputs.lse;
    double scale = op.getEffectiveScale();
    std::optional<double> softcap;
    if (op.getSoftcap())
      softcap = op.getSoftcap()->convertToDouble();
    ArrayRef<int64_t> window = op.getWindow();
    int64_t left = window[0], right = window[1];
    bool causal = op.getCausal();
    int64_t group = qHeads / kvHeads;
    SmallVector<int64_t> rows = {batch, qHeads, sq};

    int64_t splits = 1;
    // The keys row (bi, i) sees: [lo, hi) as i64, before the segment test.
    auto visibleRange = [&](ImplicitLocOpBuilder &kb, Value bi, Value i) {
      auto i64 = [&](Value v) {
        return arith::IndexCastOp::create(kb, kb.getI64Type(), v).getResult();
      };
      auto cst = [&](int64_t v) {
        return arith::ConstantIntOp::create(kb, kb.getI64Type(), v).getResult();
      };
      auto minI = [&](Value x, Value y) {
        return arith::MinSIOp::create(kb, x, y).getResult();
      };
      auto maxI = [&](Value x, Value y) {
        return arith::MaxSIOp::create(kb, x, y).getResult();
      };
      Value len = cst(skv);
      if (lengths) {
        Value l = memref::LoadOp::create(kb, lengths, ValueRange{bi});
        if (l.getType() != kb.getI64Type())
          l = arith::ExtSIOp::create(kb, kb.getI64Type(), l);
        len = minI(maxI(l, cst(0)), cst(skv));
      }
      Value p = arith::AddIOp::create(
          kb, i64(i), arith::SubIOp::create(kb, len, cst(sq)));
      Value hi = len, lo = cst(0);
      if (causal)
        hi = minI(hi, arith::AddIOp::create(kb, p, cst(1)));
      if (right >= 0)
        hi = minI(hi, arith::AddIOp::create(kb, p, cst(right + 1)));
      if (left >= 0)
        lo = maxI(lo, arith::SubIOp::create(kb, p, cst(left)));
      hi = maxI(hi, lo);
      return std::make_pair(lo, hi);
    };
    // One step of the online softmax: running max m, sum l and the
    // accumulators acc rescaled for score s, plus p·v.
    auto onlineUpdate = [&](ImplicitLocOpBuilder &ub, Value s, ValueRange state,
                            function_ref<Value(int64_t)> valueAt) {
      ScalarMath um(ub);
      if (softcap)
        s = um.mul(um.constant(*softcap),
                   um.tanh(um.div(s, um.constant(*softcap))));
      Value mOld = state[0], lOld = state[1];
      Value mNew = gpuMax(ub, mOld, s);
      Value alpha = um.exp(um.sub(mOld, mNew));
      Value pr = um.exp(um.sub(s, mNew));
      SmallVector<Value> next = {mNew, math::FmaOp::create(ub, lOld, alpha, pr)};
      for (int64_t e = 0; e + 2 < int64_t(state.size()); ++e)
        next.push_back(math::FmaOp::create(ub, pr, valueAt(e),
                                           um.mul(state[2 + e], alpha)));
      return next;
    };
    // Runs `update` for key j, or keeps `state` when the segments differ.
    auto segmentGuarded =
        [&](ImplicitLocOpBuilder &ib, Value bi, Value j, Value qSegId,
            ValueRange state,
            function_ref<SmallVector<Value>(ImplicitLocOpBuilder &)> update)
        -> SmallVector<Value> {
      if (!qSeg)
        return update(ib);
      Value kSegId = memref::LoadOp::create(ib, kSeg, ValueRange{bi, j});
      Value same = arith::CmpIOp::create(ib, arith::CmpIPredicate::eq, qSegId,
                                         kSegId);
      auto guarded = scf::IfOp::create(
          ib, same,
          [&](OpBuilder &tb, Location tl) {
            ImplicitLocOpBuilder tib(tl, tb);
            scf::YieldOp::create(tib, update(tib));
          },
          [&](OpBuilder &eb, Location el) {
            scf::YieldOp::create(eb, el, state);
          });
      return SmallVector<Value>(guarded.getResults());
    };
    Value partial;
    if (splitPath) {
      // A warp per (batch, KV head, chunk of up to decodeRows query rows of
      // that head's group, split of the keys). The rows share each key and
      // value row the warp loads (GQA: one read for the group). The lanes
      // hold the head dims (lane, lane + 32, ...; contiguous with vector
      // rows): each row is read in coalesced pieces, and the scores are
      // summed over the lanes (xor sums, or the transposed sum). Keys go
      // keysPerStep at a time, every load of the step issued before any
      // use, so that a warp keeps 2·keysPerStep rows in flight; the online
      // softmax rescales once per step. The partial (row max m, sum l,
      // unnormalized accumulators) goes to `partial` [rows, splits, 2 + Dv]
      // for the combine kernel.
      constexpr int64_t kWarps = 4;
      const int64_t keysPerStep = decodeKeys;
      int64_t groupRows = group * sq;
      int64_t rowsPerWarp = std::min(decodeRows, groupRows);
      int64_t chunks = llvm::divideCeil(groupRows, rowsPerWarp);
      int64_t warpGroups = batch * kvHeads * chunks;
      splits = groupedKeySplits(warpGroups, skv);
      partial = memref::AllocOp::create(
          b, MemRefType::get({numRows, splits, 2 + valueDim}, b.getF32Type()));
      int64_t warps = warpGroups * splits;
      int64_t qPerLane = llvm::divideCeil(headDim, 32);
      int64_t vPerLane = llvm::divideCeil(valueDim, 32);
      int64_t perRow = 2 + vPerLane;
      k.launch(llvm::divideCeil(warps, kWarps), 32 * kWarps,
               [&](ImplicitLocOpBuilder &kb, Value block, Value thread) {
        Value lane = arith::RemUIOp::create(kb, thread, k.index(32));
        Value warp = arith::AddIOp::create(
            kb, arith::MulIOp::create(kb, block, k.index(kWarps)),
            arith::DivUIOp::create(kb, thread, k.index(32)));
        // Warp-uniform: a warp past the end does nothing.
        Value live = arith::CmpIOp::create(kb, arith::CmpIPredicate::ult, warp,
                                           k.index(warps));
        scf::IfOp::create(kb, live, [&](OpBuilder &nb, Location nl) {
          ImplicitLocOpBuilder wb(nl, nb);
          ScalarMath wm(wb);
          auto cst = [&](int64_t v) {
            return arith::ConstantIntOp::create(wb, wb.getI64Type(), v)
                .getResult();
          };
          auto i64 = [&](ImplicitLocOpBuilder &ib, Value v) {
            return arith::IndexCastOp::create(ib, ib.getI64Type(), v)
                .getResult();
          };
          // The chunks of rows of one (batch, KV head, split) are
          // neighbouring warps (one block for up to 4 chunks): they read
          // the same keys at the same time, from DRAM once.
          SmallVector<Value> at =
              k.delinearize(wb, warp, {batch, kvHeads, splits, chunks});
          Value bi = at[0], kvh = at[1], split = at[2], chunk = at[3];
          // Lane dims: d = lane + 32·c (lane·P + c with vector rows),
          // clamped in bounds; q is 0 past D.
          auto laneDim = [&](ImplicitLocOpBuilder &lb, int64_t c, int64_t dim) {
            Value d = vectorRows
                          ? arith::AddIOp::create(
                                lb,
                                arith::MulIOp::create(lb, lane,
                                                      k.index(dim / 32)),
                                k.index(c))
                          : arith::AddIOp::create(lb, lane, k.index(32 * c));
            Value in = arith::CmpIOp::create(lb, arith::CmpIPredicate::ult, d,
                                             k.index(dim));
            Value safe = arith::MinUIOp::create(lb, d, k.index(dim - 1));
            return std::make_pair(safe, in);
          };
          // This lane's `count` dims of row j of `rows` in f32: one vector
          // load, or a load per dim.
          auto laneRow = [&](ImplicitLocOpBuilder &lb, Value rows, Value j,
                             int64_t count, int64_t dim) {
            SmallVector<Value> values;
            if (!vectorRows) {
              for (int64_t c = 0; c < count; ++c)
                values.push_back(k.load(
                    lb, rows, ValueRange{bi, kvh, j, laneDim(lb, c, dim).first}));
              return values;
            }
            auto type = VectorType::get({count}, kvElement);
            Value vec = vector::LoadOp::create(
                lb, type, rows,
                ValueRange{bi, kvh, j, laneDim(lb, 0, dim).first},
                /*nontemporal=*/false,
                llvm::MaybeAlign(count * elementBytes));
            for (int64_t c = 0; c < count; ++c)
              values.push_back(ScalarMath(lb).f32(
                  vector::ExtractOp::create(lb, vec, ArrayRef<int64_t>{c})));
            return values;
          };
          // The warp's rows: (head, query) pairs of the group, in order;
          // a row past the group (last chunk) sees no key and stores
          // nothing.
          struct Row {
            Value valid, linear, lo, hi, segment;
            SmallVector<Value> q;
          };
          SmallVector<Row> rowsOfWarp;
          Value lo, hi;
          for (int64_t t = 0; t < rowsPerWarp; ++t) {
            Row r;
            Value local = arith::AddIOp::create(
                wb, arith::MulIOp::create(wb, chunk, k.index(rowsPerWarp)),
                k.index(t));
            r.valid = arith::CmpIOp::create(wb, arith::CmpIPredicate::ult,
                                            local, k.index(groupRows));
            local = arith::MinUIOp::create(wb, local, k.index(groupRows - 1));
            Value h = arith::AddIOp::create(
                wb, arith::MulIOp::create(wb, kvh, k.index(group)),
                arith::DivUIOp::create(wb, local, k.index(sq)));
            Value i = arith::RemUIOp::create(wb, local, k.index(sq));
            r.linear = arith::AddIOp::create(
                wb,
                arith::MulIOp::create(
                    wb,
                    arith::AddIOp::create(
                        wb, arith::MulIOp::create(wb, bi, k.index(qHeads)), h),
                    k.index(sq)),
                i);
            auto [rlo, rhi] = visibleRange(wb, bi, i);
            r.lo = arith::SelectOp::create(wb, r.valid, rlo, cst(skv));
            r.hi = arith::SelectOp::create(wb, r.valid, rhi, cst(0));
            lo = lo ? arith::MinSIOp::create(wb, lo, r.lo).getResult() : r.lo;
            hi = hi ? arith::MaxSIOp::create(wb, hi, r.hi).getResult() : r.hi;
            if (qSeg)
              r.segment = memref::LoadOp::create(wb, qSeg, ValueRange{bi, i});
            for (int64_t c = 0; c < qPerLane; ++c) {
              auto [d, in] = laneDim(wb, c, headDim);
              Value qv = wm.mul(k.load(wb, q, ValueRange{bi, h, i, d}),
                                wm.constant(scale));
              r.q.push_back(wm.select(in, qv, wm.constant(0.0)));
            }
            rowsOfWarp.push_back(std::move(r));
          }
          hi = arith::MaxSIOp::create(wb, hi, lo);
          // This split's share of the rows' keys [lo, hi): ceil(span /
          // splits) keys.
          Value span = arith::SubIOp::create(wb, hi, lo);
          Value per = arith::DivSIOp::create(
              wb, arith::AddIOp::create(wb, span, cst(splits - 1)), cst(splits));
          Value first = arith::AddIOp::create(
              wb, lo, arith::MulIOp::create(wb, i64(wb, split), per));
          Value last = arith::MinSIOp::create(
              wb, hi, arith::AddIOp::create(wb, first, per));
          Value from = arith::MinSIOp::create(wb, first, hi);
          Value to = arith::MaxSIOp::create(wb, last, from);
          Value fromIdx =
              arith::IndexCastOp::create(wb, wb.getIndexType(), from);
          Value toIdx = arith::IndexCastOp::create(wb, wb.getIndexType(), to);
          SmallVector<Value> init;
          for (int64_t t = 0; t < rowsPerWarp; ++t) {
            init.append({wm.constant(-FLT_MAX), wm.constant(0.0)});
            for (int64_t c = 0; c < vPerLane; ++c)
              init.push_back(wm.constant(0.0));
          }
          // e^x as 2^(x·log2 e) on the special-function unit (ex2.approx:
          // 2 ulp, 0 for -inf); the exact math.exp is a ~20-instruction
          // polynomial, and this kernel takes R·(keysPerStep + 1) of them a
          // step.
          auto exp2 = [&](ImplicitLocOpBuilder &eb, Value x) {
            ScalarMath em(eb);
            return nvvmExp2(eb, em.mul(x, em.constant(1.4426950408889634)));
          };
          auto loop = scf::ForOp::create(
              wb, fromIdx, toIdx, k.index(keysPerStep), init,
              [&](OpBuilder &lb0, Location ll, Value j0, ValueRange state) {
                ImplicitLocOpBuilder ib(ll, lb0);
                ScalarMath im(ib);
                // The step's keys (past `to`: the last key again, masked),
                // all their loads first.
                Value lastKey = arith::SubIOp::create(ib, toIdx, k.index(1));
                SmallVector<Value> keyAt, inRange;
                SmallVector<SmallVector<Value>> kv(keysPerStep), vv(keysPerStep);
                SmallVector<Value> kSegIds;
                for (int64_t u = 0; u < keysPerStep; ++u) {
                  Value j = arith::AddIOp::create(ib, j0, k.index(u));
                  inRange.push_back(arith::CmpIOp::create(
                      ib, arith::CmpIPredicate::ult, j, toIdx));
                  j = arith::MinUIOp::create(ib, j, lastKey);
                  keyAt.push_back(j);
                  kv[u] = laneRow(ib, key, j, qPerLane, headDim);
                  vv[u] = laneRow(ib, value, j, vPerLane, valueDim);
                  if (kSeg)
                    kSegIds.push_back(
                        memref::LoadOp::create(ib, kSeg, ValueRange{bi, j}));
                }
                // Scores: lane partial dots, then the shuffle sums stepped
                // together (independent chains).
                SmallVector<Value> scores;
                for (const Row &r : rowsOfWarp)
                  for (int64_t u = 0; u < keysPerStep; ++u) {
                    Value s = im.constant(0.0);
                    for (int64_t c = 0; c < qPerLane; ++c)
                      s = math::FmaOp::create(ib, r.q[c], kv[u][c], s);
                    scores.push_back(s);
                  }
                scores = decodeTranspose ? warpSumTransposed(ib, lane, scores)
                                         : warpSumEach(ib, scores);
                Value negInf = im.constant(-INFINITY);
                SmallVector<Value> next;
                for (auto [t, r] : llvm::enumerate(rowsOfWarp)) {
                  ValueRange st = state.slice(t * perRow, perRow);
                  SmallVector<Value> s(scores.begin() + t * keysPerStep,
                                       scores.begin() + (t + 1) * keysPerStep);
                  Value mNew = st[0];
                  for (int64_t u = 0; u < keysPerStep; ++u) {
                    if (softcap)
                      s[u] = im.mul(im.constant(*softcap),
                                    im.tanh(im.div(s[u], im.constant(*softcap))));
                    Value j = i64(ib, keyAt[u]);
                    Value visible = arith::AndIOp::create(
                        ib, inRange[u],
                        arith::AndIOp::create(
                            ib,
                            arith::CmpIOp::create(ib, arith::CmpIPredicate::sge,
                                                  j, r.lo),
                            arith::CmpIOp::create(ib, arith::CmpIPredicate::slt,
                                                  j, r.hi)));
                    if (kSeg)
                      visible = arith::AndIOp::create(
                          ib, visible,
                          arith::CmpIOp::create(ib, arith::CmpIPredicate::eq,
                                                r.segment, kSegIds[u]));
                    s[u] = im.select(visible, s[u], negInf);
                    mNew = gpuMax(ib, mNew, s[u]);
                  }
                  // Masked keys score -inf: p = 0 (mNew stays finite).
                  Value alpha = exp2(ib, im.sub(st[0], mNew));
                  Value l = im.mul(st[1], alpha);
                  SmallVector<Value> acc;
                  for (int64_t c = 0; c < vPerLane; ++c)
                    acc.push_back(im.mul(st[2 + c], alpha));
                  for (int64_t u = 0; u < keysPerStep; ++u) {
                    Value p = exp2(ib, im.sub(s[u], mNew));
                    l = im.add(l, p);
                    for (int64_t c = 0; c < vPerLane; ++c)
                      acc[c] = math::FmaOp::create(ib, p, vv[u][c], acc[c]);
                  }
                  next.append({mNew, l});
                  next.append(acc);
                }
                scf::YieldOp::create(ib, next);
              });
          Value isLane0 = arith::CmpIOp::create(wb, arith::CmpIPredicate::eq,
                                                lane, k.index(0));
          for (auto [t, r] : llvm::enumerate(rowsOfWarp)) {
            Value linear = r.linear;
            ValueRange result = loop.getResults().slice(t * perRow, perRow);
            scf::IfOp::create(wb, r.valid, [&](OpBuilder &vb, Location vl) {
              ImplicitLocOpBuilder sb(vl, vb);
              scf::IfOp::create(sb, isLane0, [&](OpBuilder &tb, Location tl) {
                memref::StoreOp::create(tb, tl, result[0], partial,
                                        ValueRange{linear, split, k.index(0)});
                memref::StoreOp::create(tb, tl, result[1], partial,
                                        ValueRange{linear, split, k.index(1)});
                scf::YieldOp::create(tb, tl);
              });
              for (int64_t c = 0; c < vPerLane; ++c) {
                auto [e, in] = laneDim(sb, c, valueDim);
                Value slot = arith::AddIOp::create(sb, e, k.index(2));
                Value acc = result[2 + c];
                scf::IfOp::create(sb, in, [&](OpBuilder &tb, Location tl) {
                  memref::StoreOp::create(tb, tl, acc, partial,
                                          ValueRange{linear, split, slot});
                  scf::YieldOp::create(tb, tl);
                });
              }
              scf::YieldOp::create(sb);
            });
          }
          scf::YieldOp::create(wb);
        });
      });
    } else {
      // A thread per query row walks its visible keys.
      k.launchFlat(numRows, [&](ImplicitLocOpBuilder &kb, Value linear) {
        ScalarMath m(kb);
        SmallVector<Value> idx = k.delinearize(kb, linear, rows);
        Value bi = idx[0], h = idx[1], i = idx[2];
        Value kvh = arith::DivUIOp::create(kb, h, k.index(group));
        auto [lo, hi] = visibleRange(kb, bi, i);
        Value loIdx = arith::IndexCastOp::create(kb, kb.getIndexType(), lo);
        Value hiIdx = arith::IndexCastOp::create(kb, kb.getIndexType(), hi);
        Value qSegId =
            qSeg ? memref::LoadOp::create(kb, qSeg, ValueRange{bi, i})
                       .getResult()
                 : Value();
        SmallVector<Value> qRow;
        for (int64_t d = 0; d < headDim; ++d)
          qRow.push_back(
              m.mul(k.load(kb, q, ValueRange{bi, h, i, k.index(d)}),
                    m.constant(scale)));
        SmallVector<Value> init = {m.constant(-FLT_MAX), m.constant(0.0)};
        for (int64_t d = 0; d < valueDim; ++d)
          init.push_back(m.constant(0.0));
        auto loop = scf::ForOp::create(
            kb, loIdx, hiIdx, k.index(1), init,
            [&](OpBuilder &nb, Location loc, Value j, ValueRange state) {
              ImplicitLocOpBuilder ib(loc, nb);
              auto update = [&](ImplicitLocOpBuilder &ub) {
                Value s = ScalarMath(ub).constant(0.0);
                for (int64_t d = 0; d < headDim; ++d)
                  s = math::FmaOp::create(
                      ub, qRow[d],
                      k.load(ub, key, ValueRange{bi, kvh, j, k.index(d)}), s);
                return onlineUpdate(ub, s, state, [&](int64_t d) {
                  return k.load(ub, value, ValueRange{bi, kvh, j, k.index(d)});
                });
              };
              scf::YieldOp::create(
                  ib, segmentGuarded(ib, bi, j, qSegId, state, update));
            });
        Value mFinal = loop.getResult(0), l = loop.getResult(1);
        Value any = attentionRowSawKeys(m, l);
        Value inv = m.select(any, m.div(m.constant(1.0), l), m.constant(0.0));
        for (int64_t d = 0; d < valueDim; ++d)
          k.store(kb, m.mul(loop.getResult(2 + d), inv), out,
                  ValueRange{bi, h, i, k.index(d)});
        if (lse) {
          Value safeL = m.select(any, l, m.constant(1.0));
          Value value = m.select(any, m.add(mFinal, m.log(safeL)),
                                 m.constant(-INFINITY));
          k.store(kb, value, lse, ValueRange{bi, h, i});
        }
      });
    }
    if (splitPath) {
      buildAttentionCombine(k, partial, splits, rows, valueDim, out, lse);
    }
    outputs.replace(op, rewriter, k);
    return success();
  }
};

struct ConvertSeqToGPU : seqc::impl::ConvertSeqToGPUBase<ConvertSeqToGPU> {
  using Base::Base;

  void runOnOperation() override {
    // Name what the kernels cannot take, at the op, before any rewrite.
    auto tooLarge = [](Operation *op, StringRef what, int64_t n) {
      if (n <= kMaxRegisterState)
        return false;
      op->emitOpError() << what << " " << n
                        << " exceeds the GPU lowering's limit of "
                        << kMaxRegisterState << " values per thread";
      return true;
    };
    WalkResult dynamic = getOperation()->walk([&](Operation *op) {
      if (!isa<seq::SeqDialect>(op->getDialect()))
        return WalkResult::advance();
      if (!hasStaticShapes(op)) {
        op->emitOpError()
            << "has dynamic shapes; convert-seq-to-gpu needs static sizes";
        return WalkResult::interrupt();
      }
      bool bad = false;
      if (auto scan = dyn_cast<SelectiveScanOp>(op))
        bad = tooLarge(op, "state size N", tensorTypeOf(scan.getB()).getDimSize(2));
      else if (auto gla = dyn_cast<GatedLinearAttentionOp>(op))
        bad = tooLarge(op, "key dim K", tensorTypeOf(gla.getQ()).getDimSize(3));
      else if (auto attention = dyn_cast<AttentionOp>(op))
        bad = tooLarge(op, "head dim",
                       std::max(tensorTypeOf(attention.getQuery()).getDimSize(3),
                                tensorTypeOf(attention.getOutput()).getDimSize(3)));
      return bad ? WalkResult::interrupt() : WalkResult::advance();
    });
    if (dynamic.wasInterrupted())
      return signalPassFailure();
    RewritePatternSet patterns(&getContext());
    if (scanStepsPerThread < 1 || scanStepsPerThread > 64) {
      getOperation().emitError()
          << "convert-seq-to-gpu: scan-steps-per-thread must be in [1, 64]";
      return signalPassFailure();
    }
    if (!llvm::is_contained({0, 16, 32}, attentionRowsPerWarp) ||
        attentionKeysPerTile < 0 || attentionKeysPerTile > 256 ||
        attentionKeysPerTile % 16) {
      getOperation().emitError()
          << "convert-seq-to-gpu: attention-rows-per-warp must be 0, 16 or "
             "32 and attention-keys-per-tile a multiple of 16 up to 256 (0: "
             "the kernel's choice)";
      return signalPassFailure();
    }
    if (!llvm::is_contained({0, 128, 192, 256}, attentionWgmmaRows) ||
        !llvm::is_contained({0, 2, 3, 4}, attentionWgmmaStages) ||
        attentionWgmmaPersistent < -1 ||
        !llvm::is_contained({0, 1, 2}, attentionWgmmaBlocksPerSM)) {
      getOperation().emitError()
          << "convert-seq-to-gpu: attention-wgmma-rows must be 0, 128, 192 or 256, "
             "attention-wgmma-stages 0, 2, 3 or 4, "
             "attention-wgmma-persistent >= -1 and "
             "attention-wgmma-blocks-per-sm 0, 1 or 2";
      return signalPassFailure();
    }
    if (attentionDecodeTma < -1 || attentionDecodeTma == 1 ||
        attentionDecodeTma > 8) {
      getOperation().emitError()
          << "convert-seq-to-gpu: attention-decode-tma must be -1 (the "
             "kernel's choice), 0 (off) or 2 to 8 stages";
      return signalPassFailure();
    }
    if (attentionDecodeBlocks < 0) {
      getOperation().emitError()
          << "convert-seq-to-gpu: attention-decode-blocks must be >= 0";
      return signalPassFailure();
    }
    if (attentionDecodeRows < 0 || attentionDecodeRows > 8 ||
        !llvm::is_contained({0, 1, 2, 4, 8, 16}, attentionDecodeKeys)) {
      getOperation().emitError()
          << "convert-seq-to-gpu: attention-decode-rows must be in [0, 8] "
             "and attention-decode-keys 0, 1, 2, 4, 8 or 16";
      return signalPassFailure();
    }
    patterns.add<AttentionToGPU>(
        &getContext(), attentionTensorCores, attentionWgmma,
        MmaAttentionOptions{attentionRowsPerWarp, attentionKeysPerTile,
                            attentionWgmmaRows, attentionWgmmaStages,
                            attentionWgmmaPersistent,
                            attentionWgmmaBlocksPerSM, attentionDecodeBlocks,
                            attentionWgmma
                                ? chooseDecodeTmaStages(attentionDecodeTma)
                                : 0},
        attentionSplitKeys, attentionDecodeSimt, attentionDecodeRows,
        attentionDecodeKeys, attentionDecodeVector, attentionDecodeTranspose);
    if (selectiveScanTimeSplit < 0) {
      getOperation().emitError()
          << "convert-seq-to-gpu: selective-scan-time-split must be >= 0";
      return signalPassFailure();
    }
    if (!llvm::is_contained({1, 2, 4}, int64_t(selectiveScanBCSteps))) {
      getOperation()->emitError()
          << "convert-seq-to-gpu: selective-scan-bc-steps must be 1, 2 or 4";
      return signalPassFailure();
    }
    if (selectiveScanPolyExp < 0) {
      getOperation()->emitError()
          << "convert-seq-to-gpu: selective-scan-poly-exp must be >= 0";
      return signalPassFailure();
    }
    if (!llvm::is_contained({0, 1, 2, 4, 8, 16},
                            int64_t(selectiveScanStateLanes))) {
      getOperation()->emitError() << "convert-seq-to-gpu: "
                                     "selective-scan-state-lanes must be 0, "
                                     "1, 2, 4, 8 or 16";
      return signalPassFailure();
    }
    patterns.add<SelectiveScanToGPU>(&getContext(), selectiveScanTimeSplit,
                                     selectiveScanBCSteps,
                                     selectiveScanStateLanes,
                                     selectiveScanPipelined,
                                     selectiveScanPolyExp);
    patterns.add<ScanToGPU,
                 GatedLinearAttentionToGPU, RmsNormToGPU, RopeToGPU,
                 CausalConv1dToGPU>(&getContext());
    patterns.add<LinearRecurrenceToGPU>(&getContext(), scanStepsPerThread);
    ConversionTarget target(getContext());
    // seq.recurrence stays for convert-seq-to-linalg (its body is linalg).
    target.addIllegalDialect<seq::SeqDialect>();
    target.addLegalOp<seq::RecurrenceOp, seq::YieldOp>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
