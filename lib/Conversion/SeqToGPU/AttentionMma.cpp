//===- AttentionMma.cpp - seq.attention on tensor cores (mma.sync) --------===//
//
// Part of seqc. FlashAttention-2's forward pass on the tensor cores of
// sm_80 and later, for bf16/f16 storage: a block of 4 warps takes 128 query
// rows of one (batch, head), each warp 32 of them as two m16 tiles (64 and
// 16 when Dv > 128 or Sq <= 64). Per key tile (64 keys; 32 for D <= 64):
//
//   S = Q·Kᵀ      per k-step of 16: the warp's Q fragments and two n-tiles
//                 of K per ldmatrix, each K fragment used by both m-tiles
//   masks         the visibility predicate on each element's (row, key),
//                 only on tiles the band or kv length cuts for the warp
//   online softmax row max on the raw scores over the lane, then over the
//                 4 lanes of a row (shuffles); P = 2^(c·S - m) by one FMA
//                 and ex2.approx; O and the lane's row sums rescaled
//   O += P·V      P's accumulator fragments re-packed (cvt.rn.bf16x2) as A
//                 fragments (the m16n8 C layout of two n-tiles is the
//                 m16k16 A layout); V fragments by transposing ldmatrix
//
// Key tiles wholly outside the causal/window band of the block's rows are
// never visited. Q, K and V go to shared memory by cp.async (16 bytes per
// copy, rows padded by 16 bytes against bank conflicts, rows past the end
// zero-filled), pipelined as in FlashAttention-2: V[j] loads during
// S = Q·K[j]ᵀ and K[j+1] during the softmax and P·V[j].
//
// Split-key mode (flash-decoding; mmaKeySplits, lowerAttentionToMmaSplitKeys):
// for decoding, few (batch, head) pairs of up to 64 query rows over many
// keys, a block takes one (batch, KV head, share of the keys) and a tile of
// the GQA group's query rows packed (p = (h - kvh·G)·Sq + i: every head of
// the group reads each K/V tile once), with 16 rows a warp and 64 keys a
// tile; it writes its rows' partial softmax (max in natural log units,
// sum, unnormalized O) and the split-key combine kernel normalizes them.
// On sm_90a (attention-decode-tma, 2 stages by default) K and V come by
// TMA instead: a copy warp beside as many warps as the packed rows need
// fills a ring of (K, V) tile pairs, each tile boxes of 64 columns in the
// copy engine's 128-byte swizzle (ldmatrix addresses XOR the 16-byte chunk
// with the row mod 8), full/empty mbarriers per stage; no block-wide
// barrier in the key loop. Rows past the keys come zero-filled.
//
// Register fragments (g = lane / 4, t = lane % 4), per PTX's m16n8k16:
//   A (16x16, row): r0 = (g, 2t..2t+1), r1 = (g+8, 2t..), r2 = (g, 2t+8..),
//                   r3 = (g+8, 2t+8..)      -- two 16-bit values per i32
//   B (16x8, col):  r0 = (k 2t..2t+1, n g), r1 = (k 2t+8.., n g)
//   C (16x8, f32):  c0, c1 = (g, 2t..2t+1), c2, c3 = (g+8, 2t..2t+1)
//
//===----------------------------------------------------------------------===//

#include "SeqToGPUPatterns.h"

#include "../SeqToLinalg/LoweringUtils.h"

#include "seq/IR/SeqOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <cfloat>
#include <cmath>
#include <tuple>

using namespace mlir;
using namespace mlir::seqc;
using namespace mlir::seqc::seq;

namespace {
constexpr int64_t kWarps = 4, kThreads = 32 * kWarps;

/// Inline PTX with side effects, no results.
void inlinePtx(ImplicitLocOpBuilder &b, ValueRange operands, StringRef text,
               StringRef constraints) {
  LLVM::InlineAsmOp::create(
      b, LLVM::LLVMVoidType::get(b.getContext()), operands, text, constraints,
      /*has_side_effects=*/true, /*is_align_stack=*/false,
      LLVM::tailcallkind::TailCallKind::None,
      /*asm_dialect=*/LLVM::AsmDialectAttr(), /*operand_attrs=*/ArrayAttr());
}

struct Frag {
  Value c[4];
};

/// The tile shape of one kernel: each warp owns `mTiles` m16 tiles of
/// query rows (16 or 32 rows), a block 4 warps; keys go by `keysPerTile`.
struct MmaTiling {
  int64_t mTiles, keysPerTile;
  /// Warps computing rows (the split-key TMA kernel: as many as the packed
  /// rows need, beside its copy warp).
  int64_t warps = kWarps;
  /// Split-key kernel: K/V tiles by TMA into a ring of this many stages
  /// (sm_90), a producer warp issuing the copies; 0: cp.async by every
  /// thread, one K and one V tile (FlashAttention-2's order).
  int64_t tmaStages = 0;
  int64_t rowsPerWarp() const { return 16 * mTiles; }
  int64_t blockRows() const { return rowsPerWarp() * warps; }
  int64_t keyTiles() const { return keysPerTile / 8; }
};

/// Dynamic shared memory of the split-key TMA kernel: 1 KB of alignment
/// slack, the ring's K and V boxes, the block's Q rows (padded).
int64_t tmaSharedBytes(int64_t headDim, int64_t valueDim,
                       const MmaTiling &tiling) {
  int64_t boxes = llvm::divideCeil(headDim, kAttentionBoxCols) +
                  llvm::divideCeil(valueDim, kAttentionBoxCols);
  return 1024 + tiling.tmaStages * boxes * tiling.keysPerTile * 128 +
         2 * tiling.blockRows() * (headDim + 8);
}

class MmaAttention {
public:
  /// `splits` > 0: the split-key kernel (flash-decoding) with the query
  /// rows of a GQA group packed into the block's rows (see build).
  MmaAttention(AttentionOp op, GpuKernelBuilder &k, MmaTiling tiling,
               int64_t splits = 0)
      : op(op), k(k), tiling(tiling), splits(splits) {}

  void build(PatternRewriter &rewriter);

private:
  Value idx(int64_t v) { return k.index(v); }

  /// Two 16-bit floats as one operand register's vector<2xT> (first in the
  /// low half), rounded from two f32 by one packed conversion.
  Value pack(ImplicitLocOpBuilder &kb, Value lo, Value hi) {
    return narrowPair(kb, elt, lo, hi);
  }

  /// What nvvm.mma.sync takes for a register: vector<2xf16> as is, bf16
  /// pairs as an i32.
  Value operand(ImplicitLocOpBuilder &kb, Value pair) {
    if (!elt.isBF16())
      return pair;
    Value i = vector::BitCastOp::create(
        kb, VectorType::get({1}, kb.getI32Type()), pair);
    return vector::ExtractOp::create(kb, i, ArrayRef<int64_t>{0});
  }

  /// c += a·b on the tensor cores.
  Frag mma(ImplicitLocOpBuilder &kb, ArrayRef<Value> aPairs,
           ArrayRef<Value> bPairs, const Frag &c) {
    MLIRContext *ctx = kb.getContext();
    Type f32 = kb.getF32Type();
    auto structType = LLVM::LLVMStructType::getLiteral(ctx, {f32, f32, f32, f32});
    NVVM::MMATypes ptx =
        elt.isBF16() ? NVVM::MMATypes::bf16 : NVVM::MMATypes::f16;
    SmallVector<Value> a = llvm::map_to_vector(
        aPairs, [&](Value v) { return operand(kb, v); });
    SmallVector<Value> bOps = llvm::map_to_vector(
        bPairs, [&](Value v) { return operand(kb, v); });
    Value d = NVVM::MmaOp::create(
        kb, structType, a, bOps, ValueRange{c.c[0], c.c[1], c.c[2], c.c[3]},
        ArrayRef<int64_t>{16, 8, 16}, std::nullopt, std::nullopt,
        std::array<NVVM::MMATypes, 2>{ptx, ptx},
        std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                       NVVM::MMALayout::col});
    Frag out;
    for (int64_t i = 0; i < 4; ++i)
      out.c[i] = LLVM::ExtractValueOp::create(kb, d, ArrayRef<int64_t>{i});
    return out;
  }

  /// 2^x by the special-function unit (ex2.approx: relative error about
  /// 2^-22; 2^-inf = 0).
  Value exp2(ImplicitLocOpBuilder &kb, Value x) { return nvvmExp2(kb, x); }

  /// `tiles` (4 or 2) 8x8 matrices from shared memory `smem`, lane l giving
  /// the address of row (l % 8) of matrix l / 8 as (row(l), col(l)); the
  /// result's register pairs, one per matrix.
  SmallVector<Value> ldmatrix(ImplicitLocOpBuilder &kb, Value smem, Value row,
                              Value col, int64_t tiles, bool transpose) {
    return ldmatrixAt(kb, smem, {row, col}, tiles, transpose);
  }

  /// The same at `indices` of any shared view (the split-key ring's flat
  /// view takes the lane's row address as one element index).
  SmallVector<Value> ldmatrixAt(ImplicitLocOpBuilder &kb, Value smem,
                                ValueRange indices, int64_t tiles,
                                bool transpose) {
    auto type = VectorType::get({tiles, 2}, elt);
    Value m =
        nvgpu::LdMatrixOp::create(kb, type, smem, indices, transpose, tiles);
    SmallVector<Value> regs;
    for (int64_t i = 0; i < tiles; ++i)
      regs.push_back(vector::ExtractOp::create(kb, m, ArrayRef<int64_t>{i}));
    return regs;
  }

  /// The lane's element offset (row, col) in a row-major shared `tile`.
  Value laneOffset(ImplicitLocOpBuilder &kb, Value tile, Value row, Value col) {
    int64_t width = cast<MemRefType>(tile.getType()).getDimSize(1);
    return arith::AddIOp::create(
        kb, arith::MulIOp::create(kb, row, idx(width)), col);
  }

  /// `tile` shifted by `offset` elements, the offset first passed through
  /// an opaque register move. ldmatrix addresses into the view are then
  /// one base register plus constant offsets (folded into the instruction)
  /// in each key-loop iteration; with a loop-invariant base, LLVM hoists
  /// every fragment's address out of the loop and keeps each in its own
  /// register (80 of them at D = 128), which spills.
  Value laneView(ImplicitLocOpBuilder &kb, Value tile, Value offset) {
    auto type = cast<MemRefType>(tile.getType());
    int64_t width = type.getDimSize(1);
    Value asI64 = arith::IndexCastOp::create(kb, kb.getI64Type(), offset);
    Value moved =
        LLVM::InlineAsmOp::create(
            kb, kb.getI64Type(), ValueRange{asI64}, "mov.b64 $0, $1;", "=l,l",
            /*has_side_effects=*/true, /*is_align_stack=*/false,
            LLVM::tailcallkind::TailCallKind::None,
            /*asm_dialect=*/LLVM::AsmDialectAttr(),
            /*operand_attrs=*/ArrayAttr())
            .getResult(0);
    offset = arith::IndexCastOp::create(kb, kb.getIndexType(), moved);
    auto viewType = MemRefType::get(
        type.getShape(), type.getElementType(),
        StridedLayoutAttr::get(kb.getContext(), ShapedType::kDynamic,
                               {width, 1}),
        type.getMemorySpace());
    return memref::ReinterpretCastOp::create(
        kb, viewType, tile, OpFoldResult(offset),
        ArrayRef<OpFoldResult>{kb.getIndexAttr(type.getDimSize(0)),
                               kb.getIndexAttr(width)},
        ArrayRef<OpFoldResult>{kb.getIndexAttr(width), kb.getIndexAttr(1)});
  }

  /// cp.async of 16 bytes from `src[at]` into `smem[row][col]` (zero-filled
  /// past `srcElements` of 8), with an L2 prefetch of 128 bytes: inline PTX,
  /// since the NVVM op has no prefetch size. The thread's next commit
  /// group covers it as it does nvgpu's copies.
  void copyWithL2Prefetch(ImplicitLocOpBuilder &cb, Value smem, Value row,
                          Value col, Value src, ArrayRef<Value> at,
                          Value srcElements) {
    // Byte offsets by the element size (the tiles' 16-bit floats).
    int64_t item = cast<MemRefType>(smem.getType()).getElementTypeBitWidth() / 8;
    auto meta = memref::ExtractStridedMetadataOp::create(cb, src);
    Value element = meta.getOffset();
    for (auto [i, v] : llvm::enumerate(at))
      element = arith::AddIOp::create(
          cb, element, arith::MulIOp::create(cb, v, meta.getStrides()[i]));
    Value global = arith::AddIOp::create(
        cb,
        memref::ExtractAlignedPointerAsIndexOp::create(cb,
                                                      meta.getBaseBuffer()),
        arith::MulIOp::create(cb, element, idx(item)));
    int64_t width = cast<MemRefType>(smem.getType()).getDimSize(1);
    Value shared = arith::AddIOp::create(
        cb, memref::ExtractAlignedPointerAsIndexOp::create(cb, smem),
        arith::MulIOp::create(
            cb,
            arith::AddIOp::create(cb, arith::MulIOp::create(cb, row, idx(width)),
                                  col),
            idx(item)));
    Value bytes = arith::MulIOp::create(cb, srcElements, idx(item));
    LLVM::InlineAsmOp::create(
        cb, LLVM::LLVMVoidType::get(cb.getContext()),
        ValueRange{arith::IndexCastOp::create(cb, cb.getI32Type(), shared),
                   arith::IndexCastOp::create(cb, cb.getI64Type(), global),
                   arith::IndexCastOp::create(cb, cb.getI32Type(), bytes)},
        "{ .reg .u64 g; cvta.to.global.u64 g, $1; "
        "cp.async.cg.shared.global.L2::128B [$0], [g], 16, $2; }",
        "r,l,r", /*has_side_effects=*/true, /*is_align_stack=*/false,
        LLVM::tailcallkind::TailCallKind::None,
        /*asm_dialect=*/LLVM::AsmDialectAttr(),
        /*operand_attrs=*/ArrayAttr());
  }

  /// Starts copying rows [row0, row0 + tileRows) of `src` (zeros past
  /// `rows`) into the shared tile `smem` with cp.async, 16 bytes per copy,
  /// spread over the block's threads; commits them as one group, whose
  /// token it returns. Row r is `src[lead..., r, :]`, or
  /// `src[rowAt(r)..., :]` when `rowAt` is given.
  Value stageAsync(
      ImplicitLocOpBuilder &kb, Value src, ValueRange lead, Value row0,
      int64_t rows, int64_t width, Value smem, Value thread, int64_t tileRows,
      function_ref<SmallVector<Value>(ImplicitLocOpBuilder &, Value)> rowAt =
          nullptr) {
    int64_t chunksPerRow = width / 8;
    int64_t chunks = tileRows * chunksPerRow;
    MLIRContext *ctx = kb.getContext();
    SmallVector<Value> tokens;
    for (int64_t c0 = 0; c0 < chunks; c0 += copyThreads) {
      Value c = arith::AddIOp::create(kb, thread, idx(c0));
      auto copy = [&](ImplicitLocOpBuilder &cb) -> Value {
        Value r = arith::DivUIOp::create(cb, c, idx(chunksPerRow));
        Value col = arith::MulIOp::create(
            cb, arith::RemUIOp::create(cb, c, idx(chunksPerRow)), idx(8));
        Value row = arith::AddIOp::create(cb, row0, r);
        Value valid = arith::CmpIOp::create(cb, arith::CmpIPredicate::ult, row,
                                            idx(rows));
        Value clamped = arith::MinUIOp::create(
            cb, row, idx(std::max<int64_t>(rows - 1, 0)));
        SmallVector<Value> at;
        if (rowAt) {
          at = rowAt(cb, clamped);
        } else {
          at.append(lead.begin(), lead.end());
          at.push_back(clamped);
        }
        at.push_back(col);
        // Rows past the end read nothing and are zero-filled; the source is
        // 16-byte aligned (rows are multiples of 16 bytes long and the
        // runtime passes 16-byte-aligned buffers).
        Value srcElements = arith::SelectOp::create(cb, valid, idx(8), idx(0));
        // Split-key (decode) blocks stream K and V once: their copies ask L2
        // for 128 bytes at a time (cp.async's L2::128B; measured on an
        // H100, session 16: kernels 0.101 -> 0.100 ms at B8 KV8192, 0.195
        // -> 0.193 at KV131072, 0.107 -> 0.105 at B2 Sq8, 64 bytes no
        // change, 256 as 128).
        if (splits > 0) {
          copyWithL2Prefetch(cb, smem, r, col, src, at, srcElements);
          return Value();
        }
        return nvgpu::DeviceAsyncCopyOp::create(
                   cb, nvgpu::DeviceAsyncTokenType::get(ctx), smem,
                   ValueRange{r, col}, src, at, cb.getIndexAttr(8), srcElements,
                   /*bypassL1=*/cb.getUnitAttr())
            .getResult();
      };
      if (c0 + copyThreads <= chunks) {
        if (Value t = copy(kb))
          tokens.push_back(t);
        continue;
      }
      // A last round with fewer chunks than threads: the extra threads
      // copy nothing (repeating a chunk would be a write-write race on
      // its shared bytes). The commit below covers this thread's copies
      // whether or not their tokens are listed.
      Value mine =
          arith::CmpIOp::create(kb, arith::CmpIPredicate::ult, c, idx(chunks));
      scf::IfOp::create(kb, mine, [&](OpBuilder &nb, Location loc) {
        ImplicitLocOpBuilder cb(loc, nb);
        copy(cb);
        scf::YieldOp::create(cb);
      });
    }
    return nvgpu::DeviceAsyncCreateGroupOp::create(
        kb, nvgpu::DeviceAsyncTokenType::get(ctx), tokens);
  }

  /// Waits until every cp.async group of this thread has landed. (`token`
  /// only orders the op after some group; with numGroups = 0 the wait
  /// covers all of them.)
  void waitAll(ImplicitLocOpBuilder &kb, Value token) {
    nvgpu::DeviceAsyncWaitOp::create(kb, token, kb.getI32IntegerAttr(0));
  }

  AttentionOp op;
  GpuKernelBuilder &k;
  MmaTiling tiling;
  int64_t splits;
  Type elt;
  /// Threads taking part in stageAsync's copies.
  int64_t copyThreads = kThreads;
};

void MmaAttention::build(PatternRewriter &rewriter) {
  RankedTensorType qType = cast<RankedTensorType>(op.getQuery().getType());
  RankedTensorType kType = cast<RankedTensorType>(op.getKey().getType());
  RankedTensorType oType = cast<RankedTensorType>(op.getOutput().getType());
  elt = qType.getElementType();
  const int64_t mTiles = tiling.mTiles, keysPerTile = tiling.keysPerTile,
                keyTiles = tiling.keyTiles(),
                rowsPerWarp = tiling.rowsPerWarp(),
                blockRows = tiling.blockRows();
  int64_t batch = qType.getDimSize(0), qHeads = qType.getDimSize(1),
          sq = qType.getDimSize(2), headDim = qType.getDimSize(3),
          kvHeads = kType.getDimSize(1), skv = kType.getDimSize(2),
          valueDim = oType.getDimSize(3);
  int64_t group = qHeads / kvHeads;
  int64_t kSteps = headDim / 16, vTiles = valueDim / 8;
  // Split-key mode (flash-decoding): a block per (batch, KV head, split of
  // the keys, tile of rows), its rows the group's (head, query) pairs
  // packed, p = (h - kvh·group)·Sq + i (GQA: each K/V tile serves every
  // head of the group). Each block writes its rows' partial softmax (max m
  // in natural log units, sum l, unnormalized O) to `partial` [rows,
  // splits, 2 + Dv], and the combine kernel normalizes them.
  bool packed = splits > 0;
  int64_t packedRows = group * sq;
  int64_t qTiles = llvm::divideCeil(packed ? packedRows : sq, blockRows);
  AttentionScores scoring(op);
  const double c = scoring.c;
  AttentionBand band(op, sq, skv);
  bool causal = band.causal;

  Value lengths = k.buffer(op.getKvLengths());
  // Q, K and V are read 16 bytes at a time: a unit innermost stride (what
  // the runtime passes and bufferization allocates).
  Value q = k.buffer(op.getQuery(), /*unitInnerStride=*/true),
        key = k.buffer(op.getKey(), /*unitInnerStride=*/true),
        value = k.buffer(op.getValue(), /*unitInnerStride=*/true);
  AttentionOutputs outputs(op, k);
  Value out = outputs.out, lse = outputs.lse;

  // The block's Q rows and one K and one V tile in dynamic shared memory,
  // rows padded by 16 bytes so that the 8 rows an ldmatrix reads fall in
  // different banks (68 KB at D = 128; the runtime raises the kernel's
  // limit above 48 KB).
  SmallVector<MemRefType> tilesInShared = {
      k.sharedType({keysPerTile, headDim + 8}, elt),
      k.sharedType({keysPerTile, valueDim + 8}, elt),
      k.sharedType({blockRows, headDim + 8}, elt)};
  int64_t sharedBytes = 0;
  for (MemRefType t : tilesInShared)
    sharedBytes += t.getNumElements() * 2;
  // The TMA ring (split-key, sm_90): per stage a K and a V tile, each as
  // boxes of 64 columns (128 bytes, swizzled in 16-byte chunks by the row's
  // index mod 8, the copy engine's SWIZZLE_128B) of `keysPerTile` rows;
  // then the block's Q rows (padded, by cp.async). A producer warp after
  // the `consumers` warps of rows issues the copies.
  const bool tma = packed && tiling.tmaStages > 0;
  const int64_t stages = tiling.tmaStages, consumers = tiling.warps;
  const int64_t kBoxes = llvm::divideCeil(headDim, kAttentionBoxCols),
                vBoxes = llvm::divideCeil(valueDim, kAttentionBoxCols);
  const int64_t boxElements = keysPerTile * kAttentionBoxCols;
  const int64_t stageElements = (kBoxes + vBoxes) * boxElements;
  int64_t threads = kThreads;
  Value kMap, vMap;
  if (tma) {
    threads = 32 * (consumers + 1);
    copyThreads = 32 * consumers;
    sharedBytes = tmaSharedBytes(headDim, valueDim, tiling);
    kMap = attentionTensorMap(k, op.getKey(), keysPerTile);
    vMap = attentionTensorMap(k, op.getValue(), keysPerTile);
  }
  Value partial;
  if (packed)
    partial = memref::AllocOp::create(
        k.b, MemRefType::get({batch * qHeads * sq, splits, 2 + valueDim},
                             k.b.getF32Type()));
  int64_t blocks =
      packed ? batch * kvHeads * splits * qTiles : batch * qHeads * qTiles;
  k.launch(blocks, threads, [&](ImplicitLocOpBuilder &kb, Value block,
                                Value thread) {
    ScalarMath m(kb);
    MLIRContext *ctx = kb.getContext();
    // The combine kernel after this one may launch now (it waits for this
    // kernel's completion before it reads).
    if (tma)
      NVVM::GriddepcontrolOp::create(
          kb, NVVM::GridDepActionKind::launch_dependents);
    Value kTile, vTile, qTile, dyn, pad, flat, bars;
    if (!tma) {
      SmallVector<Value> tiles = k.dynamicShared(kb, tilesInShared);
      kTile = tiles[0], vTile = tiles[1], qTile = tiles[2];
    } else {
      // The ring from a 1024-byte-aligned base (the swizzle is of address
      // bits 4-9), Q after it.
      auto bytesType = MemRefType::get(
          {ShapedType::kDynamic}, kb.getI8Type(), AffineMap(),
          gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup));
      dyn = gpu::DynamicSharedMemoryOp::create(kb, bytesType);
      Value rawBase = memref::ExtractAlignedPointerAsIndexOp::create(kb, dyn);
      pad = arith::AndIOp::create(
          kb, arith::SubIOp::create(kb, idx(0), rawBase), idx(1023));
      flat = memref::ViewOp::create(
          kb, k.sharedType({stages * stageElements}, elt), dyn, pad,
          ValueRange{});
      qTile = memref::ViewOp::create(
          kb, tilesInShared[2], dyn,
          arith::AddIOp::create(kb, pad, idx(2 * stages * stageElements)),
          ValueRange{});
      // Barriers: full[s] (the producer's arrival and the bytes), then
      // empty[s] (one arrival per warp of rows).
      bars = nvgpu::MBarrierCreateOp::create(
          kb, nvgpu::MBarrierGroupType::get(
                  ctx, gpu::AddressSpaceAttr::get(
                           ctx, gpu::AddressSpace::Workgroup),
                  2 * stages));
      Value first = arith::CmpIOp::create(kb, arith::CmpIPredicate::eq, thread,
                                          idx(0));
      scf::IfOp::create(kb, first, [&](OpBuilder &nb, Location loc) {
        ImplicitLocOpBuilder ib(loc, nb);
        for (int64_t i = 0; i < 2 * stages; ++i)
          nvgpu::MBarrierInitOp::create(ib, bars,
                                        idx(i < stages ? 1 : consumers),
                                        idx(i), Value());
        inlinePtx(ib, {}, "fence.mbarrier_init.release.cluster;", "");
        scf::YieldOp::create(ib);
      });
      gpu::BarrierOp::create(kb);
    }
    Value bIdx, h, qTileIdx, kvh, split;
    if (packed) {
      // The tiles of rows of one split are neighbours (one read of its
      // keys from DRAM).
      SmallVector<Value> at =
          k.delinearize(kb, block, {batch, kvHeads, splits, qTiles});
      bIdx = at[0], kvh = at[1], split = at[2], qTileIdx = at[3];
    } else {
      SmallVector<Value> bi = attentionBlockOrder(
          kb, block, batch, qHeads, group, qTiles,
          skv * (headDim + valueDim) * 2, causal);
      bIdx = bi[0], h = bi[1], qTileIdx = bi[2];
      kvh = arith::DivUIOp::create(kb, h, idx(group));
    }
    Value warp = arith::DivUIOp::create(kb, thread, idx(32));
    Value lane = arith::RemUIOp::create(kb, thread, idx(32));
    Value lane8 = arith::RemUIOp::create(kb, lane, idx(8));
    Value matrix = arith::DivUIOp::create(kb, lane, idx(8));
    Value g = arith::DivUIOp::create(kb, lane, idx(4));
    Value t = arith::RemUIOp::create(kb, lane, idx(4));
    Value t2 = arith::MulIOp::create(kb, t, idx(2));
    Value blockRow0 = arith::MulIOp::create(kb, qTileIdx, idx(blockRows));
    Value warpRow0 = arith::MulIOp::create(kb, warp, idx(rowsPerWarp));
    Value row0 = arith::AddIOp::create(kb, blockRow0, warpRow0);
    // The lane's rows: g and g + 8 of each m-tile (index r = 2·mt + half).
    int64_t laneRows = 2 * mTiles;
    SmallVector<Value> rows, rowValid;
    for (int64_t r = 0; r < laneRows; ++r) {
      rows.push_back(arith::AddIOp::create(
          kb, row0, arith::AddIOp::create(kb, g, idx(16 * (r / 2) + 8 * (r % 2)))));
      rowValid.push_back(arith::CmpIOp::create(
          kb, arith::CmpIPredicate::ult, rows.back(),
          idx(packed ? packedRows : sq)));
    }
    // Q rows: of head h (one-pass), or packed (packedQAt).
    SmallVector<Value> qLead, kvLead = {bIdx, kvh};
    if (!packed)
      qLead = {bIdx, h};
    // A packed row's query index and its Q row's indices.
    auto queryOf = [&](ImplicitLocOpBuilder &ib, Value row) -> Value {
      return packed ? arith::RemUIOp::create(ib, row, idx(sq)).getResult()
                    : row;
    };
    auto packedQAt = [&](ImplicitLocOpBuilder &ib,
                         Value row) -> SmallVector<Value> {
      Value head = arith::AddIOp::create(
          ib, arith::MulIOp::create(ib, kvh, idx(group)),
          arith::DivUIOp::create(ib, row, idx(sq)));
      return {bIdx, head, queryOf(ib, row)};
    };

    // The keys this block's rows may see; whether a tile needs masks is
    // decided per warp, from its first and last rows' positions (packed:
    // every query's).
    band.setup(kb, lengths, bIdx);
    std::pair<Value, Value> range =
        packed ? band.tileRange(kb, idx(0), sq, keysPerTile)
               : band.tileRange(kb, blockRow0, blockRows, keysPerTile);
    Value tileLo = range.first, tileHi = range.second;
    if (packed) {
      // This split's share: ceil(tiles / splits) of them.
      Value span = arith::SubIOp::create(kb, tileHi, tileLo);
      Value per = arith::DivUIOp::create(
          kb, arith::AddIOp::create(kb, span, idx(splits - 1)), idx(splits));
      Value from = arith::MinUIOp::create(
          kb,
          arith::AddIOp::create(kb, tileLo,
                                arith::MulIOp::create(kb, split, per)),
          tileHi);
      tileHi = arith::MinUIOp::create(
          kb, arith::AddIOp::create(kb, from, per), tileHi);
      tileLo = from;
    }
    Value wFirst = band.position(kb, packed ? idx(0) : row0);
    Value wLast = arith::AddIOp::create(
        kb, wFirst, band.i32(kb, (packed ? sq : rowsPerWarp) - 1));

    // Pipeline (FlashAttention-2's): the block's Q rows and the first K
    // tile are in flight before the loop; in each iteration V[j] loads
    // while S = Q·K[j]ᵀ is computed, and K[j+1] while the softmax and
    // O += P·V[j] are.
    // With the TMA ring, the last warp's first lane issues every K/V copy
    // (the others of that warp have nothing to do); the warps of rows
    // compute. (The builder goes back to the launch's body at the end.)
    OpBuilder::InsertPoint afterRoles;
    // Ring stage of the split's tile `tile`, the parity of that use, and
    // the stage's first element in `flat`.
    auto ringUse = [&](ImplicitLocOpBuilder &ib, Value tile) {
      Value it = arith::SubIOp::create(ib, tile, tileLo);
      Value stage = arith::RemUIOp::create(ib, it, idx(stages));
      Value use = arith::DivUIOp::create(ib, it, idx(stages));
      return std::make_tuple(Value(it), Value(stage), Value(use));
    };
    auto parityOf = [&](ImplicitLocOpBuilder &ib, Value use) {
      return arith::IndexCastOp::create(
                 ib, ib.getI1Type(), arith::RemUIOp::create(ib, use, idx(2)))
          .getResult();
    };
    auto waitParity = [&](ImplicitLocOpBuilder &ib, Value barrier,
                          Value parity) {
      nvgpu::MBarrierTryWaitParityOp::create(ib, bars, parity, idx(10000000),
                                             barrier);
    };
    if (tma) {
      Value copyWarp = arith::CmpIOp::create(kb, arith::CmpIPredicate::eq,
                                             warp, idx(consumers));
      auto roles = scf::IfOp::create(kb, copyWarp, /*withElseRegion=*/true);
      afterRoles = kb.saveInsertionPoint();
      kb.setInsertionPoint(roles.thenBlock()->getTerminator());
      Value lane0 =
          arith::CmpIOp::create(kb, arith::CmpIPredicate::eq, lane, idx(0));
      scf::IfOp::create(kb, lane0, [&](OpBuilder &nb, Location loc) {
        ImplicitLocOpBuilder pb(loc, nb);
        scf::ForOp::create(
            pb, tileLo, tileHi, idx(1), ValueRange{},
            [&](OpBuilder &lb0, Location l, Value tile, ValueRange) {
              ImplicitLocOpBuilder lb(l, lb0);
              Value it, stage, use;
              std::tie(it, stage, use) = ringUse(lb, tile);
              // The stage's last use released by every warp of rows.
              Value reuse = arith::CmpIOp::create(
                  lb, arith::CmpIPredicate::uge, it, idx(stages));
              scf::IfOp::create(lb, reuse, [&](OpBuilder &rb0, Location rl) {
                ImplicitLocOpBuilder rb(rl, rb0);
                waitParity(rb, arith::AddIOp::create(rb, stage, idx(stages)),
                           parityOf(rb, arith::SubIOp::create(rb, use,
                                                              idx(1))));
                scf::YieldOp::create(rb);
              });
              Value row0 = arith::MulIOp::create(lb, tile, idx(keysPerTile));
              Value stageByte = arith::AddIOp::create(
                  lb, pad,
                  arith::MulIOp::create(lb, stage, idx(2 * stageElements)));
              auto boxType =
                  k.sharedType({1, 1, keysPerTile, kAttentionBoxCols}, elt);
              for (int64_t bx = 0; bx < kBoxes + vBoxes; ++bx) {
                bool isValue = bx >= kBoxes;
                int64_t col = (isValue ? bx - kBoxes : bx) * kAttentionBoxCols;
                Value dst = memref::ViewOp::create(
                    lb, boxType, dyn,
                    arith::AddIOp::create(lb, stageByte,
                                          idx(2 * bx * boxElements)),
                    ValueRange{});
                nvgpu::TmaAsyncLoadOp::create(
                    lb, dst, bars, isValue ? vMap : kMap,
                    ValueRange{idx(col), row0, kvh, bIdx}, stage,
                    /*multicastMask=*/Value(), /*predicate=*/Value());
              }
              nvgpu::MBarrierArriveExpectTxOp::create(
                  lb, bars, idx(2 * stageElements), stage, Value());
              scf::YieldOp::create(lb);
            });
        scf::YieldOp::create(pb);
      });
      kb.setInsertionPoint(roles.elseBlock()->getTerminator());
    }
    Value first =
        packed ? stageAsync(kb, q, {}, blockRow0, packedRows, headDim, qTile,
                            thread, blockRows, packedQAt)
               : stageAsync(kb, q, qLead, blockRow0, sq, headDim, qTile,
                            thread, blockRows);
    if (tma) {
      // Q landed for every warp of rows.
      waitAll(kb, first);
      inlinePtx(kb, {}, "bar.sync 1, " + std::to_string(copyThreads) + ";",
                "");
    } else {
      Value firstKey0 = arith::MulIOp::create(kb, tileLo, idx(keysPerTile));
      stageAsync(kb, key, kvLead, firstKey0, skv, headDim, kTile, thread,
                 keysPerTile);
    }
    // Carried per lane row: m (log2 units), the lane's partial l; then O.
    Value negBig = m.constant(-FLT_MAX), zero = m.constant(0.0);
    SmallVector<Value> init;
    for (int64_t r = 0; r < laneRows; ++r)
      init.push_back(negBig);
    for (int64_t r = 0; r < laneRows; ++r)
      init.push_back(zero);
    for (int64_t n = 0; n < mTiles * vTiles * 4; ++n)
      init.push_back(zero);
    // Lane l gives the address of row l % 8 of matrix l / 8:
    //   Q (A fragments, m16 x k16): rows 8(i % 2).., cols 8(i / 2)..
    //   K (B fragments of n-tiles nt, nt+1 at one k-step): rows (keys)
    //     8(i / 2).., cols 8(i % 2)..
    //   V (transposed B fragments of n-tiles nv, nv+1 at k-step kk): rows
    //     (keys) 8(i % 2).., cols 8(i / 2).. (col 0 for a lone last n-tile)
    Value iMod2x8 = arith::MulIOp::create(
        kb, arith::RemUIOp::create(kb, matrix, idx(2)), idx(8));
    Value iDiv2x8 = arith::MulIOp::create(
        kb, arith::DivUIOp::create(kb, matrix, idx(2)), idx(8));
    Value qOffset = laneOffset(
        kb, qTile,
        arith::AddIOp::create(kb, warpRow0,
                              arith::AddIOp::create(kb, lane8, iMod2x8)),
        iDiv2x8);
    Value vRowLane = arith::AddIOp::create(kb, lane8, iMod2x8);
    Value kOffset, vOffset, vOffsetLast;
    // TMA ring: the lane's element offsets in a stage, for K's k-steps
    // 16·j (j = ks mod 4: the 16-byte chunks 2j + matrix % 2 of a box row)
    // and V's n-tiles 8·(2j) (chunks 2j + matrix / 2), each chunk at its
    // swizzled place (chunk ^ row % 8; a lane's row % 8 is lane % 8).
    SmallVector<Value> kSwizzled, vSwizzled;
    if (!tma) {
      kOffset = laneOffset(kb, kTile, arith::AddIOp::create(kb, lane8, iDiv2x8),
                           iMod2x8);
      vOffset = laneOffset(kb, vTile, vRowLane, iDiv2x8);
      vOffsetLast = laneOffset(kb, vTile, vRowLane, idx(0));
    } else {
      Value mMod2 = arith::RemUIOp::create(kb, matrix, idx(2));
      Value mDiv2 = arith::DivUIOp::create(kb, matrix, idx(2));
      Value kRow = arith::MulIOp::create(
          kb, arith::AddIOp::create(kb, lane8, iDiv2x8),
          idx(kAttentionBoxCols));
      Value vRow = arith::MulIOp::create(kb, vRowLane, idx(kAttentionBoxCols));
      Value kXor = arith::XOrIOp::create(kb, mMod2, lane8);
      Value vXor = arith::XOrIOp::create(kb, mDiv2, lane8);
      for (int64_t j = 0; j < 4; ++j) {
        kSwizzled.push_back(arith::AddIOp::create(
            kb, kRow,
            arith::MulIOp::create(
                kb, arith::XOrIOp::create(kb, kXor, idx(2 * j)), idx(8))));
        vSwizzled.push_back(arith::AddIOp::create(
            kb, vRow,
            arith::MulIOp::create(
                kb, arith::XOrIOp::create(kb, vXor, idx(2 * j)), idx(8))));
      }
    }
    SmallVector<Value> rowPos;
    for (Value row : rows)
      rowPos.push_back(band.position(kb, queryOf(kb, row)));
    // Lane row of element e of m-tile mt's fragments.
    auto laneRow = [](int64_t mt, int64_t e) { return 2 * mt + e / 2; };
    auto oAt = [&](int64_t mt, int64_t nv, int64_t e) {
      return 2 * laneRows + (mt * vTiles + nv) * 4 + e;
    };
    auto tileLoop = scf::ForOp::create(
        kb, tileLo, tileHi, idx(1), init,
        [&](OpBuilder &nb, Location loc, Value tile, ValueRange st) {
          ImplicitLocOpBuilder ib(loc, nb);
          ScalarMath im(ib);
          Value key0 = arith::MulIOp::create(ib, tile, idx(keysPerTile));
          Value qLane = laneView(ib, qTile, qOffset);
          Value kLane, vLane, vLaneLast, vGroup, stage;
          SmallVector<Value> kAt, vAt;
          if (!tma) {
            kLane = laneView(ib, kTile, kOffset);
            vLane = laneView(ib, vTile, vOffset);
            vLaneLast = vTiles % 2 ? laneView(ib, vTile, vOffsetLast) : vLane;
            // K[j] (and Q) landed for everyone; everyone is done with
            // V[j-1].
            waitAll(ib, first);
            gpu::BarrierOp::create(ib);
            vGroup = stageAsync(ib, value, kvLead, key0, skv, valueDim, vTile,
                                thread, keysPerTile);
          } else {
            // The stage's K and V landed.
            Value it, use;
            std::tie(it, stage, use) = ringUse(ib, tile);
            waitParity(ib, stage, parityOf(ib, use));
            Value stage0 = arith::MulIOp::create(ib, stage, idx(stageElements));
            for (int64_t j = 0; j < 4; ++j) {
              kAt.push_back(arith::AddIOp::create(ib, stage0, kSwizzled[j]));
              vAt.push_back(arith::AddIOp::create(
                  ib, stage0,
                  arith::AddIOp::create(ib, vSwizzled[j],
                                        idx(kBoxes * boxElements))));
            }
          }
          // K's n-tiles nt, nt + 1 at k-step ks; V's nv, nv + 1 (or nv
          // alone) at key step kk.
          auto kFragments = [&](int64_t nt, int64_t ks) {
            if (!tma)
              return ldmatrix(ib, kLane, idx(8 * nt), idx(16 * ks), 4,
                              /*transpose=*/false);
            return ldmatrixAt(
                ib, flat,
                Value(arith::AddIOp::create(
                    ib, kAt[ks % 4],
                    idx((ks / 4) * boxElements + 8 * nt * kAttentionBoxCols))),
                4, /*transpose=*/false);
          };
          auto vFragments = [&](int64_t kk, int64_t nv, int64_t count) {
            if (!tma)
              return ldmatrix(ib, count == 4 ? vLane : vLaneLast,
                              idx(16 * kk), idx(8 * nv), count,
                              /*transpose=*/true);
            return ldmatrixAt(
                ib, flat,
                Value(arith::AddIOp::create(
                    ib, vAt[(nv % 8) / 2],
                    idx((nv / 8) * boxElements + 16 * kk * kAttentionBoxCols))),
                count, /*transpose=*/true);
          };
          // S = Q·Kᵀ: per k-step, the A fragments of the warp's m-tiles and
          // the B fragments of two n-tiles per ldmatrix.
          SmallVector<Frag> s(mTiles * keyTiles,
                              Frag{{zero, zero, zero, zero}});
          for (int64_t ks = 0; ks < kSteps; ++ks) {
            SmallVector<SmallVector<Value>> qFrag;
            for (int64_t mt = 0; mt < mTiles; ++mt)
              qFrag.push_back(ldmatrix(ib, qLane, idx(16 * mt), idx(16 * ks),
                                       4, /*transpose=*/false));
            for (int64_t nt = 0; nt < keyTiles; nt += 2) {
              SmallVector<Value> regs = kFragments(nt, ks);
              for (int64_t mt = 0; mt < mTiles; ++mt) {
                Frag &a = s[mt * keyTiles + nt], &b = s[mt * keyTiles + nt + 1];
                a = mma(ib, qFrag[mt], {regs[0], regs[1]}, a);
                b = mma(ib, qFrag[mt], {regs[2], regs[3]}, b);
              }
            }
          }
          // V[j] landed for everyone; everyone is done with K[j]: the next
          // K tile loads during the softmax and P·V. The last tile has no
          // next: a prefetch past the block's range would read a tile no
          // one uses (a split-key block's is the next split's first) and
          // make the block wait for it before exit (with 2 tiles a split,
          // one load in five).
          if (!tma) {
            waitAll(ib, vGroup);
            gpu::BarrierOp::create(ib);
            Value nextTile = arith::AddIOp::create(ib, tile, idx(1));
            scf::IfOp::create(
                ib,
                arith::CmpIOp::create(ib, arith::CmpIPredicate::ult, nextTile,
                                      tileHi),
                [&](OpBuilder &pb, Location pl) {
                  ImplicitLocOpBuilder fb(pl, pb);
                  stageAsync(fb, key, kvLead,
                             arith::AddIOp::create(fb, key0, idx(keysPerTile)),
                             skv, headDim, kTile, thread, keysPerTile);
                  scf::YieldOp::create(fb);
                });
          }

          // Scores (transformed first when softcapped), masked to -inf only
          // on tiles the band or the kv length cut for this warp: tiles
          // wholly inside skip the index arithmetic.
          auto scores = [&](ImplicitLocOpBuilder &pb,
                            bool masked) -> SmallVector<Value> {
            SmallVector<Value> vals;
            for (int64_t mt = 0; mt < mTiles; ++mt)
              for (int64_t nt = 0; nt < keyTiles; ++nt)
                for (int64_t e = 0; e < 4; ++e) {
                  Value v = scoring.transform(pb, s[mt * keyTiles + nt].c[e]);
                  if (masked)
                    v = band.mask(
                        pb, v,
                        arith::AddIOp::create(
                            pb, key0,
                            arith::AddIOp::create(pb, t2, idx(8 * nt + e % 2))),
                        rowPos[laneRow(mt, e)]);
                  vals.push_back(v);
                }
            return vals;
          };
          // Whether the tile needs masks is decided for the warp's rows.
          SmallVector<Value> masked =
              band.maskedTile(ib, key0, keysPerTile, wFirst, wLast, scores);
          SmallVector<Value> tileMax(laneRows, negBig);
          for (int64_t mt = 0; mt < mTiles; ++mt)
            for (int64_t nt = 0; nt < keyTiles; ++nt)
              for (int64_t e = 0; e < 4; ++e) {
                Value v = masked[(mt * keyTiles + nt) * 4 + e];
                s[mt * keyTiles + nt].c[e] = v;
                Value &mx = tileMax[laneRow(mt, e)];
                mx = gpuMax(ib, mx, v);
              }
          SmallVector<Value> newM, negM, alpha, sum(laneRows, zero);
          for (int64_t r = 0; r < laneRows; ++r) {
            Value rowMax = quadReduce(ib, tileMax[r], /*isMax=*/true);
            if (c != 1.0)
              rowMax = im.mul(rowMax, im.constant(c));
            newM.push_back(gpuMax(ib, st[r], rowMax));
            negM.push_back(arith::NegFOp::create(ib, newM.back()));
            alpha.push_back(exp2(ib, im.sub(st[r], newM.back())));
          }
          // P = 2^(c·S - m) (ex2.approx of -inf is 0), its lane sums.
          for (int64_t mt = 0; mt < mTiles; ++mt)
            for (int64_t nt = 0; nt < keyTiles; ++nt)
              for (int64_t e = 0; e < 4; ++e) {
                int64_t r = laneRow(mt, e);
                Value &v = s[mt * keyTiles + nt].c[e];
                Value x = c != 1.0
                              ? math::FmaOp::create(ib, v, im.constant(c), negM[r])
                                    .getResult()
                              : im.add(v, negM[r]);
                v = exp2(ib, x);
                sum[r] = im.add(sum[r], v);
              }
          SmallVector<Value> next(newM);
          for (int64_t r = 0; r < laneRows; ++r)
            next.push_back(
                math::FmaOp::create(ib, st[laneRows + r], alpha[r], sum[r]));
          // O = alpha·O + P·V.
          SmallVector<Frag> o(mTiles * vTiles);
          for (int64_t mt = 0; mt < mTiles; ++mt)
            for (int64_t nv = 0; nv < vTiles; ++nv)
              for (int64_t e = 0; e < 4; ++e)
                o[mt * vTiles + nv].c[e] = im.mul(st[oAt(mt, nv, e)],
                                                  alpha[laneRow(mt, e)]);
          for (int64_t kk = 0; kk < keysPerTile / 16; ++kk) {
            // P's accumulator fragments of n-tiles 2kk, 2kk+1 are the A
            // fragment of k-step kk.
            SmallVector<SmallVector<Value>> aOps;
            for (int64_t mt = 0; mt < mTiles; ++mt) {
              Frag &lo16 = s[mt * keyTiles + 2 * kk],
                   &hi16 = s[mt * keyTiles + 2 * kk + 1];
              aOps.push_back({pack(ib, lo16.c[0], lo16.c[1]),
                              pack(ib, lo16.c[2], lo16.c[3]),
                              pack(ib, hi16.c[0], hi16.c[1]),
                              pack(ib, hi16.c[2], hi16.c[3])});
            }
            // V's B fragments by transposing ldmatrix, two n-tiles per
            // load (one for an odd last one).
            for (int64_t nv = 0; nv < vTiles; nv += 2) {
              int64_t count = nv + 1 < vTiles ? 4 : 2;
              SmallVector<Value> regs = vFragments(kk, nv, count);
              for (int64_t mt = 0; mt < mTiles; ++mt) {
                Frag &o0 = o[mt * vTiles + nv];
                o0 = mma(ib, aOps[mt], {regs[0], regs[1]}, o0);
                if (count == 4) {
                  Frag &o1 = o[mt * vTiles + nv + 1];
                  o1 = mma(ib, aOps[mt], {regs[2], regs[3]}, o1);
                }
              }
            }
          }
          for (const Frag &f : o)
            for (int64_t e = 0; e < 4; ++e)
              next.push_back(f.c[e]);
          if (tma) {
            // The warp is done with the stage (its lanes' shared reads
            // before the first lane's arrival).
            NVVM::SyncWarpOp::create(
                ib, arith::ConstantIntOp::create(ib, ib.getI32Type(), -1));
            Value lane0 = arith::CmpIOp::create(ib, arith::CmpIPredicate::eq,
                                                lane, idx(0));
            scf::IfOp::create(ib, lane0, [&](OpBuilder &ab0, Location al) {
              ImplicitLocOpBuilder ab(al, ab0);
              nvgpu::MBarrierArriveOp::create(
                  ab, nvgpu::MBarrierTokenType::get(ctx), bars,
                  arith::AddIOp::create(ab, stage, idx(stages)));
              scf::YieldOp::create(ab);
            });
          }
          scf::YieldOp::create(ib, next);
        });
    // Every copy has landed (none is left in flight at exit; also where
    // the block had no tile).
    waitAll(kb, first);

    if (packed) {
      // The partials: m in natural log units, the row's l (its lanes'
      // partial sums added), O unnormalized, two columns per store. A split
      // that saw no key of a row holds m = -FLT_MAX·ln 2 and l = 0.
      Value firstOfRow =
          arith::CmpIOp::create(kb, arith::CmpIPredicate::eq, t, idx(0));
      // Linear rows (b, h, i) of the group are contiguous from here.
      Value linear0 = arith::MulIOp::create(
          kb,
          arith::AddIOp::create(
              kb, arith::MulIOp::create(kb, bIdx, idx(qHeads)),
              arith::MulIOp::create(kb, kvh, idx(group))),
          idx(sq));
      auto f32Pair = VectorType::get({2}, kb.getF32Type());
      for (int64_t r = 0; r < laneRows; ++r) {
        Value linear = arith::AddIOp::create(kb, linear0, rows[r]);
        Value l = quadReduce(kb, tileLoop.getResult(laneRows + r),
                             /*isMax=*/false);
        Value mNat =
            m.mul(tileLoop.getResult(r), m.constant(0.6931471805599453));
        Value storeML = arith::AndIOp::create(kb, firstOfRow, rowValid[r]);
        scf::IfOp::create(kb, storeML, [&](OpBuilder &tb, Location tl) {
          ImplicitLocOpBuilder ib(tl, tb);
          memref::StoreOp::create(ib, mNat, partial,
                                  ValueRange{linear, split, idx(0)});
          memref::StoreOp::create(ib, l, partial,
                                  ValueRange{linear, split, idx(1)});
          scf::YieldOp::create(ib);
        });
        scf::IfOp::create(kb, rowValid[r], [&](OpBuilder &tb, Location tl) {
          ImplicitLocOpBuilder ib(tl, tb);
          int64_t mt = r / 2, half = r % 2;
          for (int64_t nv = 0; nv < vTiles; ++nv) {
            Value pair = vector::FromElementsOp::create(
                ib, f32Pair,
                ValueRange{tileLoop.getResult(oAt(mt, nv, 2 * half)),
                           tileLoop.getResult(oAt(mt, nv, 2 * half + 1))});
            Value slot = arith::AddIOp::create(
                ib, t2, idx(2 + 8 * nv));
            vector::StoreOp::create(ib, pair, partial,
                                    ValueRange{linear, split, slot},
                                    /*nontemporal=*/false,
                                    llvm::MaybeAlign(8));
          }
          scf::YieldOp::create(ib);
        });
      }
      if (tma)
        kb.restoreInsertionPoint(afterRoles);
      return;
    }

    // Normalize and store, two columns per store: rows with no visible key
    // give 0 (and a -inf LSE).
    SmallVector<AttentionRowTotals> totals;
    for (int64_t r = 0; r < laneRows; ++r)
      totals.emplace_back(kb, tileLoop.getResult(laneRows + r));
    for (int64_t mt = 0; mt < mTiles; ++mt)
      for (int64_t nv = 0; nv < vTiles; ++nv)
        for (int64_t half = 0; half < 2; ++half) {
          int64_t r = 2 * mt + half;
          Value inv = totals[r].inv;
          storeOutputPair(
              kb, out,
              ValueRange{bIdx, h, rows[r],
                         arith::AddIOp::create(kb, t2, idx(8 * nv))},
              rowValid[r],
              m.mul(tileLoop.getResult(oAt(mt, nv, 2 * half)), inv),
              m.mul(tileLoop.getResult(oAt(mt, nv, 2 * half + 1)), inv));
        }
    if (lse) {
      Value firstOfRow = arith::CmpIOp::create(kb, arith::CmpIPredicate::eq, t,
                                               idx(0));
      for (int64_t r = 0; r < laneRows; ++r) {
        Value v = totals[r].lse(kb, tileLoop.getResult(r));
        Value doStore = arith::AndIOp::create(kb, firstOfRow, rowValid[r]);
        scf::IfOp::create(kb, doStore, [&](OpBuilder &tb, Location tl) {
          ImplicitLocOpBuilder tib(tl, tb);
          k.store(tib, v, lse, ValueRange{bIdx, h, rows[r]});
          scf::YieldOp::create(tib);
        });
      }
    }
  }, /*sharedFloats=*/0, /*extraWorkgroup=*/{}, sharedBytes);
  // With the TMA ring (sm_90a) the combine is a dependent launch: its
  // blocks start while this kernel runs and wait for it. Measured on an
  // H100 (session 17, kernel times, normal / dependent launch, two runs):
  // B8 KV8192 0.094 / 0.093 ms, B1 KV131072 0.180 / 0.179, B2 Sq8 0.097,
  // 0.096 / 0.096, B1 KV8192 0.012-0.013 either way.
  if (packed)
    buildAttentionCombine(k, partial, splits, {batch, qHeads, sq}, valueDim,
                          out, lse, /*dependent=*/tma);
  outputs.replace(op, rewriter, k);
}

/// The tiling for `op`: 32 rows per warp (K/V fragments serve two m-tiles)
/// while the O accumulators fit in registers (Dv <= 128) and there are
/// more than 64 query rows, else 16; 64 keys per tile, 32 for D <= 64.
/// Measured on the H100, bf16, ratio to SDPA flash in the same run (128
/// rows x 64 keys / 128 x 32): B8 H16 S4096 D128 full 0.85x / 0.83x, causal
/// 0.79x / 0.74x; GQA 32:8 S8k causal 0.89x / 0.76x; S16k causal 0.90x /
/// 0.80x; D64 S1k 0.25x / 0.29x. (128 x 64 at D = 128 has 36 bytes of
/// spills; the fewer barriers per key outweigh them.) `options` override
/// either.
MmaTiling chooseTiling(AttentionOp op, const MmaAttentionOptions &options) {
  auto qType = cast<RankedTensorType>(op.getQuery().getType());
  auto oType = cast<RankedTensorType>(op.getOutput().getType());
  int64_t sq = qType.getDimSize(2), valueDim = oType.getDimSize(3);
  int64_t headDim = qType.getDimSize(3);
  MmaTiling tiling{1, 64};
  if (valueDim <= 128 && sq > 64)
    tiling = {2, headDim <= 64 ? 32 : 64};
  if (options.rowsPerWarp)
    tiling.mTiles = options.rowsPerWarp / 16;
  // Its key loop takes 16, 32, 64 or 128 keys a tile (other sizes are the
  // wgmma kernel's).
  if (llvm::is_contained({16, 32, 64, 128}, options.keysPerTile))
    tiling.keysPerTile = options.keysPerTile;
  return tiling;
}

/// Dynamic shared memory of the kernel: Q rows, one K and one V tile.
int64_t sharedBytes(AttentionOp op, const MmaTiling &tiling) {
  auto qType = cast<RankedTensorType>(op.getQuery().getType());
  auto oType = cast<RankedTensorType>(op.getOutput().getType());
  int64_t headDim = qType.getDimSize(3), valueDim = oType.getDimSize(3);
  return 2 * ((tiling.keysPerTile + tiling.blockRows()) * (headDim + 8) +
              tiling.keysPerTile * (valueDim + 8));
}

/// The split-key kernel's tiling: 16 rows a warp (a decoding group has few
/// rows), 64 keys a tile; `options` override either. Measured on the H100
/// (bf16, GQA 32:8, D 128, kernel times with the combine): in session 10,
/// with splits towards 528 blocks, 128 keys against 64 were 0.103 / 0.115
/// ms at B8 KV8192, 0.198 / 0.235 at B1 KV131072, 0.117 / 0.129 at B2 Sq8
/// KV32768; with the splits aimed at one wave of 256 blocks (session 12 on)
/// 64 keys are as fast or faster, in sessions 13 and 16 (one call each):
/// B8 KV8192 0.100 / 0.102 and 0.098 / 0.100 (64 / 128), B2 Sq8 0.104 /
/// 0.107 and 0.104 / 0.105, B1 KV131072 0.194 / 0.194 and 0.193 / 0.191,
/// B1 KV8192 equal.
MmaTiling splitKeyTiling(AttentionOp op, const MmaAttentionOptions &options) {
  MmaTiling tiling{1, 64};
  if (options.rowsPerWarp)
    tiling.mTiles = options.rowsPerWarp / 16;
  if (llvm::is_contained({16, 32, 64, 128}, options.keysPerTile))
    tiling.keysPerTile = options.keysPerTile;
  if (options.decodeTmaStages > 0) {
    // As many warps of rows as the packed rows of a GQA group need.
    auto qType = cast<RankedTensorType>(op.getQuery().getType());
    auto kType = cast<RankedTensorType>(op.getKey().getType());
    int64_t packedRows = qType.getDimSize(1) / kType.getDimSize(1) *
                         qType.getDimSize(2);
    tiling.tmaStages = options.decodeTmaStages;
    tiling.warps = std::clamp<int64_t>(
        llvm::divideCeil(packedRows, tiling.rowsPerWarp()), 1, kWarps);
  }
  return tiling;
}

/// Dynamic shared memory of the split-key kernel.
int64_t splitKeySharedBytes(AttentionOp op, const MmaTiling &tiling) {
  if (tiling.tmaStages == 0)
    return sharedBytes(op, tiling);
  auto qType = cast<RankedTensorType>(op.getQuery().getType());
  auto oType = cast<RankedTensorType>(op.getOutput().getType());
  return tmaSharedBytes(qType.getDimSize(3), oType.getDimSize(3), tiling);
}
} // namespace

bool mlir::seqc::canLowerAttentionToMma(AttentionOp op,
                                        const MmaAttentionOptions &options) {
  auto qType = cast<RankedTensorType>(op.getQuery().getType());
  auto oType = cast<RankedTensorType>(op.getOutput().getType());
  Type elt = qType.getElementType();
  int64_t headDim = qType.getDimSize(3), valueDim = oType.getDimSize(3);
  // Two blocks per SM: within 110 KB of dynamic shared memory each.
  return (elt.isBF16() || elt.isF16()) && !op.getQSegmentIds() &&
         headDim % 16 == 0 && valueDim % 8 == 0 &&
         sharedBytes(op, chooseTiling(op, options)) <= 110 * 1024;
}

void mlir::seqc::lowerAttentionToMma(AttentionOp op, PatternRewriter &rewriter,
                                     GpuKernelBuilder &k,
                                     const MmaAttentionOptions &options) {
  MmaAttention(op, k, chooseTiling(op, options)).build(rewriter);
}

int64_t mlir::seqc::mmaKeySplits(AttentionOp op,
                                 const MmaAttentionOptions &options) {
  auto qType = cast<RankedTensorType>(op.getQuery().getType());
  auto kType = cast<RankedTensorType>(op.getKey().getType());
  auto oType = cast<RankedTensorType>(op.getOutput().getType());
  Type elt = qType.getElementType();
  int64_t batch = qType.getDimSize(0), qHeads = qType.getDimSize(1),
          sq = qType.getDimSize(2), headDim = qType.getDimSize(3),
          kvHeads = kType.getDimSize(1), skv = kType.getDimSize(2),
          valueDim = oType.getDimSize(3);
  MmaTiling tiling = splitKeyTiling(op, options);
  // Two blocks an SM (110 KB each) or, with the TMA ring, one (227 KB).
  if (!(elt.isBF16() || elt.isF16()) || op.getQSegmentIds() ||
      headDim % 16 != 0 || valueDim % 8 != 0 ||
      splitKeySharedBytes(op, tiling) >
          (tiling.tmaStages ? 227 : 110) * 1024)
    return 0;
  // Few query rows (decoding, up to a 64-row tile of them a head), in
  // fewer one-pass blocks than two an SM of an H100 (132 SMs). (Longer
  // prefills in few blocks stay on the one-pass kernels, whose 128-row
  // tiles they fill.)
  constexpr int64_t kFull = 264;
  if (sq > 64 || batch * qHeads >= kFull)
    return 0;
  // Splits of 2 tiles or more: towards the blocks asked for, else one
  // wave of two blocks an SM (264) where the row tiles are at most half of
  // that, else at least two splits a tile (towards 528 blocks). Measured on
  // an H100 (session 12, kernel times, against splits towards 528 blocks,
  // which were 1.1-2.2 waves with trailing splits empty): B8 KV8192 0.105
  // -> 0.101 ms, B1 KV131072 0.201 -> 0.195, B2 Sq8 KV32768 0.119 ->
  // 0.107, B1 KV8192 0.017 either way (ncu at 128K keys: cuDNN's kernel is
  // one wave of 256 blocks too).
  int64_t packedBlocks = batch * kvHeads *
                         llvm::divideCeil((qHeads / kvHeads) * sq,
                                          tiling.blockRows());
  int64_t splits =
      options.decodeBlocks
          ? llvm::divideCeil(options.decodeBlocks, packedBlocks)
      : packedBlocks <= kFull / 2
          ? kFull / packedBlocks
          : llvm::divideCeil(2 * kFull, packedBlocks);
  // The TMA ring: one block an SM (132) where each split still streams 32
  // tiles or more. Measured on an H100 (session 17, kernel times with the
  // combine, 2 stages, 128 against 256 blocks): B1 KV131072 0.180 / 0.185
  // ms (cuDNN 0.183), B8 KV8192 0.094 / 0.095, B2 Sq8 KV32768 0.097 /
  // 0.100; B1 KV8192 (8 tiles a split at 128 blocks) 0.014 / 0.012.
  int64_t tiles = llvm::divideCeil(skv, tiling.keysPerTile);
  if (tiling.tmaStages > 0 && !options.decodeBlocks &&
      packedBlocks <= kFull / 2) {
    int64_t onePerSM = kFull / 2 / packedBlocks;
    if (onePerSM >= 2 && tiles / onePerSM >= 32)
      splits = onePerSM;
  }
  splits = std::min<int64_t>(
      {splits, skv / (2 * tiling.keysPerTile), int64_t(128)});
  if (splits < 2)
    return 0;
  // No split left empty: each takes ceil(tiles / splits) of the tiles.
  splits = llvm::divideCeil(tiles, llvm::divideCeil(tiles, splits));
  return splits >= 2 ? splits : 0;
}

/// Two stages by default. Measured on an H100 (session 17, kernel times
/// with the combine; cp.async kernel / TMA 2 stages, both at the default
/// block counts): B1 KV8192 0.016 / 0.012 ms, B8 KV8192 0.099 / 0.095, B1
/// KV131072 0.192 / 0.185, B2 Sq8 KV32768 0.103 / 0.100. Three stages (two
/// blocks an SM) 0.013 / 0.095 / 0.186 / 0.102; at 128 blocks 2, 4, 5 and
/// 6 stages gave 0.180, 0.183, 0.183 and 0.184 at KV131072.
int64_t mlir::seqc::chooseDecodeTmaStages(int64_t option) {
  return option < 0 ? 2 : option;
}

void mlir::seqc::lowerAttentionToMmaSplitKeys(
    AttentionOp op, PatternRewriter &rewriter, GpuKernelBuilder &k,
    const MmaAttentionOptions &options, int64_t splits) {
  MmaAttention(op, k, splitKeyTiling(op, options), splits).build(rewriter);
}
