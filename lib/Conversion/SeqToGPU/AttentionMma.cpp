//===- AttentionMma.cpp - seq.attention on tensor cores (mma.sync) --------===//
//
// Part of seqc. FlashAttention-2's forward pass on the tensor cores of
// sm_80 and later, for bf16/f16 storage: a block of 4 warps takes 64 query
// rows of one (batch, head), each warp 16 of them. Per key tile (64 keys,
// 32 for D <= 64):
//
//   S = Q·Kᵀ      8 n-tiles x D/16 k-steps of mma.sync.m16n8k16 (f32 acc)
//   masks         the visibility predicate on each element's (row, key)
//   online softmax row max over the lane, then over the 4 lanes of a row
//                 (shuffles); O and the per-lane row sums rescaled by
//                 exp(m_old - m_new)
//   O += P·V      P's accumulator fragments re-packed as A fragments (the
//                 m16n8 C layout of two n-tiles is the m16k16 A layout)
//
// Key tiles wholly outside the causal/window band of the block's rows are
// never visited. The block's Q rows and each K/V tile are staged in shared
// memory (16-byte loads, rows padded by 16 bytes against bank conflicts);
// fragments come from there by ldmatrix (transposed for V). Overlapping the
// next tile's loads (cp.async) is the next step.
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

using namespace mlir;
using namespace mlir::seqc;
using namespace mlir::seqc::seq;

namespace {
constexpr int64_t kRowsPerWarp = 16, kWarps = 4;
constexpr int64_t kBlockRows = kRowsPerWarp * kWarps;

struct Frag {
  Value c[4];
};

class MmaAttention {
public:
  MmaAttention(AttentionOp op, GpuKernelBuilder &k) : op(op), k(k) {}

  void build(PatternRewriter &rewriter);

private:
  Value idx(int64_t v) { return k.index(v); }

  /// Two consecutive 16-bit elements of `m` at `row`, columns col, col+1
  /// (zero where `valid` is false), as one i32.
  Value pairAlongRow(ImplicitLocOpBuilder &kb, Value m, ValueRange lead,
                     Value row, Value col, Value valid) {
    Value e0 = load16(kb, m, lead, row, col, valid);
    Value e1 = load16(kb, m, lead, row,
                      arith::AddIOp::create(kb, col, idx(1)), valid);
    return pack(kb, e0, e1);
  }

  /// Element (row, col) of `m` (indices `lead` first), or 0 when `valid` is
  /// false (the index is clamped so the load stays in bounds).
  Value load16(ImplicitLocOpBuilder &kb, Value m, ValueRange lead, Value row,
               Value col, Value valid) {
    auto type = cast<MemRefType>(m.getType());
    int64_t rows = type.getDimSize(type.getRank() - 2);
    Value safeRow = arith::MinUIOp::create(kb, row, idx(rows - 1));
    SmallVector<Value> at(lead);
    at.push_back(safeRow);
    at.push_back(col);
    Value v = memref::LoadOp::create(kb, m, at);
    Value zero = arith::ConstantOp::create(kb, kb.getZeroAttr(elt));
    return arith::SelectOp::create(kb, valid, v, zero);
  }

  /// Two 16-bit floats as one operand register's vector<2xT> (first in the
  /// low half).
  Value pack(ImplicitLocOpBuilder &kb, Value lo, Value hi) {
    return vector::FromElementsOp::create(kb, VectorType::get({2}, elt),
                                          ValueRange{lo, hi});
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
  Value exp2(ImplicitLocOpBuilder &kb, Value x) {
    return LLVM::CallIntrinsicOp::create(
               kb, kb.getF32Type(),
               kb.getStringAttr("llvm.nvvm.ex2.approx.ftz.f"), ValueRange{x})
        .getResult(0);
  }

  /// max (or sum) of `v` over the 4 lanes of a row (lanes 4g..4g+3).
  Value rowReduce(ImplicitLocOpBuilder &kb, Value v, bool isMax) {
    ScalarMath m(kb);
    Value width = arith::ConstantIntOp::create(kb, kb.getI32Type(), 32);
    for (int64_t offset : {1, 2}) {
      Value o = arith::ConstantIntOp::create(kb, kb.getI32Type(), offset);
      Value other = gpu::ShuffleOp::create(kb, v, o, width,
                                           gpu::ShuffleMode::XOR)
                        .getShuffleResult();
      v = isMax ? m.maxnum(v, other) : m.add(v, other);
    }
    return v;
  }

  /// `tiles` (4 or 2) 8x8 matrices from shared memory `smem`, lane l giving
  /// the address of row (l % 8) of matrix l / 8 as (row(l), col(l)); the
  /// result's register pairs, one per matrix.
  SmallVector<Value> ldmatrix(ImplicitLocOpBuilder &kb, Value smem, Value row,
                              Value col, int64_t tiles, bool transpose) {
    auto type = VectorType::get({tiles, 2}, elt);
    Value m = nvgpu::LdMatrixOp::create(kb, type, smem, ValueRange{row, col},
                                        transpose, tiles);
    SmallVector<Value> regs;
    for (int64_t i = 0; i < tiles; ++i)
      regs.push_back(vector::ExtractOp::create(kb, m, ArrayRef<int64_t>{i}));
    return regs;
  }

  /// Copies rows [key0, key0 + 64) of `src` (zeros past `rows`) into the
  /// shared tile `smem`, 8 elements (16 bytes) per access, all threads.
  void stage(ImplicitLocOpBuilder &kb, Value src, ValueRange lead, Value key0,
             int64_t rows, int64_t width, Value smem, Value thread,
             int64_t tileRows) {
    int64_t chunksPerRow = width / 8;
    int64_t chunks = tileRows * chunksPerRow;
    auto vec = VectorType::get({8}, elt);
    Value zeros = arith::ConstantOp::create(
        kb, vec, DenseElementsAttr::get(vec, kb.getZeroAttr(elt)));
    for (int64_t c0 = 0; c0 < chunks; c0 += 32 * kWarps) {
      Value c = arith::AddIOp::create(kb, thread, idx(c0));
      Value inTile = arith::CmpIOp::create(kb, arith::CmpIPredicate::ult, c,
                                           idx(chunks));
      scf::IfOp::create(kb, inTile, [&](OpBuilder &tb, Location tl) {
        ImplicitLocOpBuilder ib(tl, tb);
        Value r = arith::DivUIOp::create(ib, c, idx(chunksPerRow));
        Value col = arith::MulIOp::create(
            ib, arith::RemUIOp::create(ib, c, idx(chunksPerRow)), idx(8));
        Value row = arith::AddIOp::create(ib, key0, r);
        Value valid = arith::CmpIOp::create(ib, arith::CmpIPredicate::ult, row,
                                            idx(rows));
        SmallVector<Value> at(lead);
        at.push_back(arith::MinUIOp::create(ib, row, idx(rows - 1)));
        at.push_back(col);
        // 16-byte aligned: rows are multiples of 16 bytes long (D % 16 == 0)
        // and tensors start 256-byte aligned.
        Value v = vector::LoadOp::create(ib, vec, src, at,
                                         /*nontemporal=*/false,
                                         llvm::MaybeAlign(16));
        v = arith::SelectOp::create(ib, valid, v, zeros);
        vector::StoreOp::create(ib, v, smem, ValueRange{r, col},
                                /*nontemporal=*/false, llvm::MaybeAlign(16));
        scf::YieldOp::create(ib);
      });
    }
  }

  AttentionOp op;
  GpuKernelBuilder &k;
  Type elt;
  /// Keys per tile, and S's n-tiles of 8 keys. Measured on the H100 (B8 H16
  /// S4096, bf16): D = 64 ran at 47.7 TFLOP/s with 32 keys and 26.6 with 64;
  /// D = 128 at 57.1 with 64 and 51.8 with 32.
  int64_t kKeysPerTile = 64, kKeyTiles = 8;
};

void MmaAttention::build(PatternRewriter &rewriter) {
  RankedTensorType qType = cast<RankedTensorType>(op.getQuery().getType());
  RankedTensorType kType = cast<RankedTensorType>(op.getKey().getType());
  RankedTensorType oType = cast<RankedTensorType>(op.getOutput().getType());
  elt = qType.getElementType();
  kKeysPerTile = qType.getDimSize(3) <= 64 ? 32 : 64;
  kKeyTiles = kKeysPerTile / 8;
  int64_t batch = qType.getDimSize(0), qHeads = qType.getDimSize(1),
          sq = qType.getDimSize(2), headDim = qType.getDimSize(3),
          kvHeads = kType.getDimSize(1), skv = kType.getDimSize(2),
          valueDim = oType.getDimSize(3);
  int64_t group = qHeads / kvHeads;
  int64_t kSteps = headDim / 16, vTiles = valueDim / 8;
  int64_t qTiles = llvm::divideCeil(sq, kRowsPerWarp * kWarps);
  double scale = op.getEffectiveScale();
  std::optional<double> softcap;
  if (op.getSoftcap())
    softcap = op.getSoftcap()->convertToDouble();
  ArrayRef<int64_t> window = op.getWindow();
  int64_t left = window[0], right = window[1];
  bool causal = op.getCausal();

  Value lengths = k.buffer(op.getKvLengths());
  // Q, K and V are read 16 bytes at a time: a unit innermost stride (what
  // the runtime passes and bufferization allocates).
  Value q = k.buffer(op.getQuery(), /*unitInnerStride=*/true),
        key = k.buffer(op.getKey(), /*unitInnerStride=*/true),
        value = k.buffer(op.getValue(), /*unitInnerStride=*/true);
  Value out = k.output(oType);
  Value lse;
  RankedTensorType lseType;
  if (op.getLse()) {
    lseType = cast<RankedTensorType>(op.getLse().getType());
    lse = k.output(lseType);
  }

  SmallVector<int64_t> blocks = {batch, qHeads, qTiles};
  // K and V tiles in shared memory, rows padded by 16 bytes so that the 8
  // rows an ldmatrix reads fall in different banks.
  // Dynamic shared memory: with D = 128 the three tiles need 52 KB, over
  // the 48 KB of static shared memory (the runtime raises the kernel's
  // limit).
  SmallVector<MemRefType> tilesInShared = {
      k.sharedType({kKeysPerTile, headDim + 8}, elt),
      k.sharedType({kKeysPerTile, valueDim + 8}, elt),
      k.sharedType({kBlockRows, headDim + 8}, elt)};
  int64_t sharedBytes = 0;
  for (MemRefType t : tilesInShared)
    sharedBytes += t.getNumElements() * 2;
  k.launch(batch * qHeads * qTiles, 32 * kWarps, [&](ImplicitLocOpBuilder &kb,
                                                     Value block,
                                                     Value thread) {
    ScalarMath m(kb);
    SmallVector<Value> tiles = k.dynamicShared(kb, tilesInShared);
    Value kTile = tiles[0], vTile = tiles[1], qTile = tiles[2];
    SmallVector<Value> bi = k.delinearize(kb, block, blocks);
    Value bIdx = bi[0], h = bi[1], qTileIdx = bi[2];
    Value kvh = arith::DivUIOp::create(kb, h, idx(group));
    Value warp = arith::DivUIOp::create(kb, thread, idx(32));
    Value lane = arith::RemUIOp::create(kb, thread, idx(32));
    Value g = arith::DivUIOp::create(kb, lane, idx(4));
    Value t = arith::RemUIOp::create(kb, lane, idx(4));
    Value t2 = arith::MulIOp::create(kb, t, idx(2));
    Value blockRow0 = arith::MulIOp::create(kb, qTileIdx, idx(kBlockRows));
    Value row0 = arith::AddIOp::create(
        kb, blockRow0, arith::MulIOp::create(kb, warp, idx(kRowsPerWarp)));
    Value rowA = arith::AddIOp::create(kb, row0, g);
    Value rowB = arith::AddIOp::create(kb, rowA, idx(8));
    auto lt = [&](ImplicitLocOpBuilder &ib, Value x, int64_t bound) {
      return arith::CmpIOp::create(ib, arith::CmpIPredicate::ult, x, idx(bound))
          .getResult();
    };
    Value rowAValid = lt(kb, rowA, sq), rowBValid = lt(kb, rowB, sq);
    SmallVector<Value> qLead = {bIdx, h}, kvLead = {bIdx, kvh};

    // The keys this block's rows may see: [lo, hi) (i64), with L the
    // clamped kv length and p = row + L - Sq the query's position.
    auto i64At = [&](ImplicitLocOpBuilder &bb, int64_t v) {
      return arith::ConstantIntOp::create(bb, bb.getI64Type(), v).getResult();
    };
    auto toI64At = [&](ImplicitLocOpBuilder &bb, Value v) {
      return arith::IndexCastOp::create(bb, bb.getI64Type(), v).getResult();
    };
    auto i64c = [&](int64_t v) { return i64At(kb, v); };
    auto toI64 = [&](Value v) { return toI64At(kb, v); };
    Value len = i64c(skv);
    if (lengths) {
      Value l = memref::LoadOp::create(kb, lengths, ValueRange{bIdx});
      if (l.getType() != kb.getI64Type())
        l = arith::ExtSIOp::create(kb, kb.getI64Type(), l);
      len = arith::MinSIOp::create(kb, arith::MaxSIOp::create(kb, l, i64c(0)),
                                   i64c(skv));
    }
    Value shift = arith::SubIOp::create(kb, len, i64c(sq));
    Value pFirst = arith::AddIOp::create(kb, toI64(blockRow0), shift);
    Value pLast = arith::AddIOp::create(
        kb, pFirst, i64c(kRowsPerWarp * kWarps - 1));
    Value hi = len, lo = i64c(0);
    if (causal)
      hi = arith::MinSIOp::create(kb, hi, arith::AddIOp::create(kb, pLast, i64c(1)));
    if (right >= 0)
      hi = arith::MinSIOp::create(
          kb, hi, arith::AddIOp::create(kb, pLast, i64c(right + 1)));
    if (left >= 0)
      lo = arith::MaxSIOp::create(kb, lo,
                                  arith::SubIOp::create(kb, pFirst, i64c(left)));
    hi = arith::MaxSIOp::create(kb, hi, lo);
    Value tileLo = arith::DivSIOp::create(kb, lo, i64c(kKeysPerTile));
    Value tileHi = arith::DivSIOp::create(
        kb, arith::AddIOp::create(kb, hi, i64c(kKeysPerTile - 1)),
        i64c(kKeysPerTile));

    // The block's 64 query rows in shared memory (zeros past Sq); each warp
    // reads its A fragments from there by ldmatrix, tile after tile, rather
    // than holding D/16 x 4 registers.
    stage(kb, q, qLead, blockRow0, sq, headDim, qTile, thread, kBlockRows);
    gpu::BarrierOp::create(kb);
    // Carried: m (rows A, B), the lane's partial l (rows A, B), O.
    Value negBig = m.constant(-FLT_MAX), zero = m.constant(0.0);
    SmallVector<Value> init = {negBig, negBig, zero, zero};
    for (int64_t n = 0; n < vTiles * 4; ++n)
      init.push_back(zero);
    Value rowAPos = arith::AddIOp::create(kb, toI64(rowA), shift);
    Value rowBPos = arith::AddIOp::create(kb, toI64(rowB), shift);
    auto tileLoop = scf::ForOp::create(
        kb, arith::IndexCastOp::create(kb, kb.getIndexType(), tileLo),
        arith::IndexCastOp::create(kb, kb.getIndexType(), tileHi), idx(1),
        init, [&](OpBuilder &nb, Location loc, Value tile, ValueRange st) {
          ImplicitLocOpBuilder ib(loc, nb);
          ScalarMath im(ib);
          Value key0 = arith::MulIOp::create(ib, tile, idx(kKeysPerTile));
          stage(ib, key, kvLead, key0, skv, headDim, kTile, thread,
                kKeysPerTile);
          stage(ib, value, kvLead, key0, skv, valueDim, vTile, thread,
                kKeysPerTile);
          gpu::BarrierOp::create(ib);
          Value lane8 = arith::RemUIOp::create(ib, lane, idx(8));
          Value matrix = arith::DivUIOp::create(ib, lane, idx(8));
          // S = Q·Kᵀ for 8 n-tiles of 8 keys; K's B fragments by ldmatrix,
          // two k-steps (4 matrices) per load.
          SmallVector<SmallVector<Value>> qFrag;
          Value qRow = arith::AddIOp::create(
              ib, arith::AddIOp::create(
                      ib, arith::MulIOp::create(ib, warp, idx(kRowsPerWarp)),
                      lane8),
              arith::MulIOp::create(
                  ib, arith::RemUIOp::create(ib, matrix, idx(2)), idx(8)));
          Value qColHalf = arith::MulIOp::create(
              ib, arith::DivUIOp::create(ib, matrix, idx(2)), idx(8));
          for (int64_t ks = 0; ks < kSteps; ++ks)
            qFrag.push_back(ldmatrix(
                ib, qTile, qRow,
                arith::AddIOp::create(ib, qColHalf, idx(16 * ks)), 4,
                /*transpose=*/false));
          SmallVector<Frag> s(kKeyTiles);
          for (int64_t nt = 0; nt < kKeyTiles; ++nt) {
            Value kRow = arith::AddIOp::create(ib, lane8, idx(8 * nt));
            Frag acc = {{zero, zero, zero, zero}};
            for (int64_t ks = 0; ks < kSteps; ks += 2) {
              int64_t tiles = ks + 1 < kSteps ? 4 : 2;
              Value col = arith::AddIOp::create(
                  ib, idx(16 * ks),
                  arith::MulIOp::create(
                      ib, arith::RemUIOp::create(ib, matrix, idx(tiles)),
                      idx(8)));
              SmallVector<Value> regs =
                  ldmatrix(ib, kTile, kRow, col, tiles, /*transpose=*/false);
              acc = mma(ib, qFrag[ks], {regs[0], regs[1]}, acc);
              if (tiles == 4)
                acc = mma(ib, qFrag[ks + 1], {regs[2], regs[3]}, acc);
            }
            s[nt] = acc;
          }
          // Scores in log2 units (scale·log2 e folded in, softcap applied
          // first), masked to -inf only on tiles the band or the kv length
          // cuts: tiles wholly inside skip the index arithmetic.
          constexpr double kLog2E = 1.4426950408889634;
          auto scores = [&](ImplicitLocOpBuilder &pb,
                            bool masked) -> SmallVector<Value> {
            ScalarMath pm(pb);
            SmallVector<Value> out;
            for (int64_t nt = 0; nt < kKeyTiles; ++nt)
              for (int64_t e = 0; e < 4; ++e) {
                Value v = s[nt].c[e];
                if (softcap) {
                  v = pm.mul(v, pm.constant(scale));
                  v = pm.mul(pm.constant(*softcap * kLog2E),
                             pm.tanh(pm.div(v, pm.constant(*softcap))));
                } else {
                  v = pm.mul(v, pm.constant(scale * kLog2E));
                }
                if (masked) {
                  Value col = arith::AddIOp::create(
                      pb, key0,
                      arith::AddIOp::create(pb, t2, idx(8 * nt + e % 2)));
                  Value j = toI64At(pb, col);
                  Value p = e < 2 ? rowAPos : rowBPos;
                  Value vis = arith::CmpIOp::create(
                      pb, arith::CmpIPredicate::slt, j, len);
                  auto andWith = [&](Value c) {
                    vis = arith::AndIOp::create(pb, vis, c);
                  };
                  if (causal)
                    andWith(arith::CmpIOp::create(pb, arith::CmpIPredicate::sle,
                                                  j, p));
                  if (left >= 0)
                    andWith(arith::CmpIOp::create(
                        pb, arith::CmpIPredicate::sge, j,
                        arith::SubIOp::create(pb, p, i64At(pb, left))));
                  if (right >= 0)
                    andWith(arith::CmpIOp::create(
                        pb, arith::CmpIPredicate::sle, j,
                        arith::AddIOp::create(pb, p, i64At(pb, right))));
                  v = pm.select(vis, v, pm.constant(-INFINITY));
                }
                out.push_back(v);
              }
            return out;
          };
          // Wholly visible: every key of the tile exists and lies inside
          // every row's band.
          Value keyFirst = toI64At(ib, key0);
          Value keyLast = arith::AddIOp::create(ib, keyFirst, i64At(ib, kKeysPerTile - 1));
          Value full = arith::CmpIOp::create(ib, arith::CmpIPredicate::slt,
                                             keyLast, len);
          auto fullAnd = [&](Value c) { full = arith::AndIOp::create(ib, full, c); };
          if (causal)
            fullAnd(arith::CmpIOp::create(ib, arith::CmpIPredicate::sle, keyLast,
                                          pFirst));
          if (right >= 0)
            fullAnd(arith::CmpIOp::create(
                ib, arith::CmpIPredicate::sle, keyLast,
                arith::AddIOp::create(ib, pFirst, i64At(ib, right))));
          if (left >= 0)
            fullAnd(arith::CmpIOp::create(
                ib, arith::CmpIPredicate::sge, keyFirst,
                arith::SubIOp::create(ib, pLast, i64At(ib, left))));
          auto branch = scf::IfOp::create(
              ib, full,
              [&](OpBuilder &tb, Location tl) {
                ImplicitLocOpBuilder pb(tl, tb);
                scf::YieldOp::create(pb, scores(pb, false));
              },
              [&](OpBuilder &eb, Location el) {
                ImplicitLocOpBuilder pb(el, eb);
                scf::YieldOp::create(pb, scores(pb, true));
              });
          Value mA = st[0], mB = st[1];
          Value tileMaxA = negBig, tileMaxB = negBig;
          for (int64_t nt = 0; nt < kKeyTiles; ++nt)
            for (int64_t e = 0; e < 4; ++e) {
              Value v = branch.getResult(4 * nt + e);
              s[nt].c[e] = v;
              if (e < 2)
                tileMaxA = im.maxnum(tileMaxA, v);
              else
                tileMaxB = im.maxnum(tileMaxB, v);
            }
          Value newMA = im.maxnum(mA, rowReduce(ib, tileMaxA, true));
          Value newMB = im.maxnum(mB, rowReduce(ib, tileMaxB, true));
          Value alphaA = exp2(ib, im.sub(mA, newMA));
          Value alphaB = exp2(ib, im.sub(mB, newMB));
          // P = 2^(S - m) (ex2.approx of -inf is 0), its lane sums.
          Value sumA = zero, sumB = zero;
          for (int64_t nt = 0; nt < kKeyTiles; ++nt)
            for (int64_t e = 0; e < 4; ++e) {
              bool upper = e < 2;
              Value pe = exp2(ib, im.sub(s[nt].c[e], upper ? newMA : newMB));
              s[nt].c[e] = pe;
              if (upper)
                sumA = im.add(sumA, pe);
              else
                sumB = im.add(sumB, pe);
            }
          SmallVector<Value> next = {newMA, newMB,
                                     math::FmaOp::create(ib, st[2], alphaA, sumA),
                                     math::FmaOp::create(ib, st[3], alphaB, sumB)};
          // O = alpha·O + P·V.
          SmallVector<Frag> o(vTiles);
          for (int64_t nv = 0; nv < vTiles; ++nv)
            for (int64_t e = 0; e < 4; ++e)
              o[nv].c[e] = im.mul(st[4 + 4 * nv + e], e < 2 ? alphaA : alphaB);
          for (int64_t kk = 0; kk < kKeysPerTile / 16; ++kk) {
            auto p16 = [&](Value x) { return im.to(x, elt); };
            Frag &lo16 = s[2 * kk], &hi16 = s[2 * kk + 1];
            Value aOps[4] = {pack(ib, p16(lo16.c[0]), p16(lo16.c[1])),
                             pack(ib, p16(lo16.c[2]), p16(lo16.c[3])),
                             pack(ib, p16(hi16.c[0]), p16(hi16.c[1])),
                             pack(ib, p16(hi16.c[2]), p16(hi16.c[3]))};
            // V's B fragments by transposing ldmatrix: matrix i of lane l
            // holds keys 16kk + 8(i % 2).., columns 8(nv + i / 2)..; two
            // n-tiles per load.
            Value vRow = arith::AddIOp::create(
                ib, arith::AddIOp::create(ib, lane8, idx(16 * kk)),
                arith::MulIOp::create(
                    ib, arith::RemUIOp::create(ib, matrix, idx(2)), idx(8)));
            for (int64_t nv = 0; nv < vTiles; nv += 2) {
              int64_t tiles = nv + 1 < vTiles ? 4 : 2;
              Value col = arith::AddIOp::create(
                  ib, idx(8 * nv),
                  arith::MulIOp::create(
                      ib,
                      arith::DivUIOp::create(
                          ib, arith::RemUIOp::create(ib, matrix, idx(tiles)),
                          idx(2)),
                      idx(8)));
              SmallVector<Value> regs =
                  ldmatrix(ib, vTile, vRow, col, tiles, /*transpose=*/true);
              o[nv] = mma(ib, aOps, {regs[0], regs[1]}, o[nv]);
              if (tiles == 4)
                o[nv + 1] = mma(ib, aOps, {regs[2], regs[3]}, o[nv + 1]);
            }
          }
          // Every warp is done with the tiles before the next are staged.
          gpu::BarrierOp::create(ib);
          for (int64_t nv = 0; nv < vTiles; ++nv)
            for (int64_t e = 0; e < 4; ++e)
              next.push_back(o[nv].c[e]);
          scf::YieldOp::create(ib, next);
        });

    // Normalize and store: rows with no visible key give 0 (and -inf LSE).
    Value lA = rowReduce(kb, tileLoop.getResult(2), false);
    Value lB = rowReduce(kb, tileLoop.getResult(3), false);
    auto inverse = [&](Value l) {
      Value any = m.cmp(arith::CmpFPredicate::OGT, l, zero);
      return std::pair{any, m.select(any, m.div(m.constant(1.0), l), zero)};
    };
    auto [anyA, invA] = inverse(lA);
    auto [anyB, invB] = inverse(lB);
    for (int64_t nv = 0; nv < vTiles; ++nv)
      for (int64_t e = 0; e < 4; ++e) {
        bool upper = e < 2;
        Value col = arith::AddIOp::create(kb, t2, idx(8 * nv + e % 2));
        Value v = m.mul(tileLoop.getResult(4 + 4 * nv + e), upper ? invA : invB);
        Value row = upper ? rowA : rowB;
        scf::IfOp::create(kb, upper ? rowAValid : rowBValid,
                          [&](OpBuilder &tb, Location tl) {
                            ImplicitLocOpBuilder tib(tl, tb);
                            k.store(tib, v, out, ValueRange{bIdx, h, row, col});
                            scf::YieldOp::create(tib);
                          });
      }
    if (lse) {
      Value firstOfRow = arith::CmpIOp::create(kb, arith::CmpIPredicate::eq, t,
                                               idx(0));
      for (int r = 0; r < 2; ++r) {
        Value any = r == 0 ? anyA : anyB, l = r == 0 ? lA : lB;
        Value mv = tileLoop.getResult(r);
        Value safe = m.select(any, l, m.constant(1.0));
        // m is in log2 units: lse = m·ln 2 + ln l.
        Value v = m.select(any,
                           m.add(m.mul(mv, m.constant(0.6931471805599453)),
                                 m.log(safe)),
                           m.constant(-INFINITY));
        Value row = r == 0 ? rowA : rowB;
        Value doStore = arith::AndIOp::create(kb, firstOfRow,
                                              r == 0 ? rowAValid : rowBValid);
        scf::IfOp::create(kb, doStore, [&](OpBuilder &tb, Location tl) {
          ImplicitLocOpBuilder tib(tl, tb);
          k.store(tib, v, lse, ValueRange{bIdx, h, row});
          scf::YieldOp::create(tib);
        });
      }
    }
  }, /*sharedFloats=*/0, /*extraWorkgroup=*/{}, sharedBytes);
  SmallVector<Value> results = {k.result(out, oType)};
  if (lse)
    results.push_back(k.result(lse, lseType));
  rewriter.replaceOp(op, results);
}
} // namespace

bool mlir::seqc::canLowerAttentionToMma(AttentionOp op) {
  auto qType = cast<RankedTensorType>(op.getQuery().getType());
  auto oType = cast<RankedTensorType>(op.getOutput().getType());
  Type elt = qType.getElementType();
  int64_t headDim = qType.getDimSize(3), valueDim = oType.getDimSize(3);
  // Q, K and V tiles (64 rows each, padded) within 100 KB of dynamic
  // shared memory (two blocks per SM).
  return (elt.isBF16() || elt.isF16()) && !op.getQSegmentIds() &&
         headDim % 16 == 0 && valueDim % 8 == 0 &&
         128 * (2 * headDim + valueDim + 24) <= 100 * 1024;
}

void mlir::seqc::lowerAttentionToMma(AttentionOp op, PatternRewriter &rewriter,
                                     GpuKernelBuilder &k) {
  MmaAttention(op, k).build(rewriter);
}
