//===- AttentionWgmma.cpp - seq.attention on sm_90a warpgroup MMA ---------===//
//
// Part of seqc. FlashAttention-3's forward pass on Hopper's asynchronous
// tensor cores (wgmma, sm_90a), for bf16/f16 storage. A block takes 128
// (or 192) query rows of one (batch, head): a producer warpgroup and two
// (or three) consumer warpgroups of 64 rows each (one m64 wgmma tile). Per
// key tile (128 to 192 keys by the band and head dim; chooseWgmmaTiling):
//
//   S = Q·Kᵀ      wgmma m64nKk16 per 16 head dims, A (Q) and B (K) both
//                 K-major in shared memory
//   masks         the visibility predicate on each element's (row, key),
//                 only on tiles the band or kv length cuts for the
//                 warpgroup's rows (AttentionBand)
//   online softmax as the mma.sync kernel (AttentionMma.cpp): row max on
//                 the raw scores over the 4 lanes of a row, P = 2^(c·S - m)
//                 by one FMA and ex2.approx, O and the row sums rescaled
//   O += P·V      wgmma m64nDvk16 per 16 keys, A (P) from registers (the
//                 accumulator layout of S is the A layout of P), B (V)
//                 N-major in shared memory
//
// Overlap: S[j+1] = Q·K[j+1]ᵀ and O += P[j]·V[j] are issued together and
// the softmax of tile j + 1 runs while P·V does (intra-warpgroup
// pipelining); the consumer warpgroups take turns to issue on named
// barriers, so that one's products run during another's softmax
// (ping-pong).
//
// Q, K and V arrive by TMA (cp.async.bulk.tensor) with the 128-byte
// swizzle that wgmma reads, in boxes of 64 head dims (128 bytes) by the
// tile's rows, completing on mbarriers. K and V tiles go through a ring of
// `stages` buffers: one thread of the producer warpgroup (which gives its
// registers to the consumers by setmaxnreg) refills a stage once every
// consumer warp released it (an "empty" mbarrier each warp arrives on
// after its wgmma reads completed), K and V separately. Rows and keys past
// the tensors' ends are zero-filled by the copy engine (a 4-d tensor map
// per operand: [B, H, S, D]).
//
// Register fragments per warp w of a warpgroup (g = lane / 4, t = lane %
// 4), per PTX's wgmma.m64nNk16:
//   D (f32):  d[4n + e] = (row 16w + g + 8(e / 2), col 8n + 2t + e % 2)
//   A (regs): a0 = (16w + g, 2t..2t+1), a1 = (16w + g + 8, 2t..),
//             a2 = (16w + g, 2t+8..),   a3 = (16w + g + 8, 2t+8..)
// Shared-memory matrix descriptors: start address >> 4 (bits 0-13), the
// leading byte offset >> 4 (16-29), the stride byte offset >> 4 (32-45),
// the 128-byte swizzle (bit 62). K-major operands: 8-row groups 1024 bytes
// apart (stride offset), a k-step of 16 advances the start by 32 bytes
// inside the 128-byte row; N-major V: 8-key groups 1024 bytes apart
// (stride offset), 64-column boxes one box apart (leading offset).
//
//===----------------------------------------------------------------------===//

#include "SeqToGPUPatterns.h"

#include "../SeqToLinalg/LoweringUtils.h"

#include "seq/IR/SeqOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include "llvm/ADT/StringExtras.h"

#include <cfloat>
#include <cmath>

using namespace mlir;
using namespace mlir::seqc;
using namespace mlir::seqc::seq;

namespace {

/// Columns of one TMA box and swizzle row: 128 bytes of 16-bit floats.
constexpr int64_t kBoxCols = kAttentionBoxCols;
constexpr int64_t kRowBytes = 128;

/// The shape of one kernel: keys per tile, K/V ring stages and consumer
/// warpgroups (warps 0 to 4W-1; the producer warpgroup follows, one thread
/// of which issues the copies).
struct WgmmaTiling {
  int64_t keysPerTile, stages, warpgroups;
  /// What the masks and score transforms add to a consumer's registers
  /// (wgmmaMasking).
  int64_t masking = 0;
  /// Under a window, key tiles must divide the 128-row blocks: with a
  /// window (1023, 0) and 96- or 144-key tiles (no spills) the kernel
  /// never finished on an H100 (64 and 128 keys did). Not understood yet;
  /// such tiles go to mma.sync.
  bool windowed = false;
  /// Resident blocks that take the work items in turn (0: a block per
  /// item; -1: as many as the device has multiprocessors, at run time).
  int64_t persistentBlocks = 0;
  /// Blocks resident on a multiprocessor: 1, or 2 with two consumer
  /// warpgroups (ptxas then caps the 384 threads at 80 registers, and the
  /// consumers take 104 after setmaxnreg), one block's prologue and
  /// epilogue overlapping the other's loop.
  int64_t blocksPerSM = 1;
  int64_t blockRows() const { return 64 * warpgroups; }
  int64_t consumerThreads() const { return 128 * warpgroups; }
  int64_t threads() const { return consumerThreads() + 128; }
  /// A consumer's registers after setmaxnreg.inc. ptxas caps the kernel at
  /// 65536 / threads (168 with two consumers: 12 warps, 3 on each quarter
  /// of the register file; 128 with three; 96 with four, 640 threads); the
  /// producer gives all but 24 (40 when persistent) back and the consumers
  /// take what that frees: 240 or 232 (two), 160 or 152 (three), 112 or 104
  /// (four), multiples of 8. setmaxnreg.inc past the file waits forever.
  int64_t consumerRegisters() const {
    if (blocksPerSM == 2)
      return kPairConsumerRegisters;
    return kConsumerRegisters[warpgroups - 2][persistentBlocks != 0];
  }
  /// The producer's registers after setmaxnreg.dec: 24, or 40 where its
  /// thread walks the items (persistent: at 24 ptxas spilled 36-40 bytes
  /// of the item loop; the consumers give 8 each for it).
  int64_t producerRegisters() const {
    return kProducerRegisters[persistentBlocks != 0];
  }
  /// [one item a block, persistent]; consumers by [two, three, four]
  /// warpgroups.
  static constexpr int64_t kProducerRegisters[2] = {24, 40};
  static constexpr int64_t kConsumerRegisters[3][2] = {
      {240, 232}, {160, 152}, {112, 104}};
  /// Two consumer warpgroups, two blocks a multiprocessor (80 at entry).
  static constexpr int64_t kPairConsumerRegisters = 104;
  /// Whether a consumer's S (keys / 2 registers), two tiles of P (keys / 4
  /// each) and O (Dv / 2) fit its registers, as keys + Dv / 2 against a
  /// bound that ptxas (sm_90a) drew: with two consumers and no band 192 +
  /// 64 fits without spills at D = 128 and 208 + 64 spills; `masking` takes
  /// from that bound. With three, 128 + 32 fits at D = 64, 144 + 32 spills
  /// 108 bytes and 112 + 64 (D = 128) 192; at D = 128 even 96 + 64 spills
  /// 56, so three consumers take head dims up to 64, and no window or
  /// softcap (128 + 32 spills 52 bytes with both). With four (256 rows,
  /// 112 registers), 64 + 32 fits at D = 64 and 80 + 32 spills 96 bytes;
  /// a causal band's masks spill 8 even at 64 keys, so no masks there.
  /// Two blocks a multiprocessor (104 registers): 48 + 32 fits at D = 64,
  /// 64 + 32 spilled 48 bytes.
  bool fits(int64_t headDim, int64_t valueDim) const {
    if (windowed && 128 % keysPerTile != 0)
      return false;
    if (blocksPerSM == 2)
      return warpgroups == 2 && persistentBlocks == 0 && headDim <= 64 &&
             masking == 0 && keysPerTile + valueDim / 2 <= 80;
    // (Persistent consumers have 8 registers fewer.)
    int64_t fewer = kConsumerRegisters[warpgroups - 2][0] -
                    consumerRegisters();
    if (warpgroups == 2)
      return keysPerTile + valueDim / 2 <= 256 - masking - fewer;
    int64_t bound = warpgroups == 3 ? 160 : 104;
    return headDim <= 64 && masking <= (warpgroups == 3 ? 16 : 0) &&
           keysPerTile + valueDim / 2 <= bound - fewer;
  }
};
// ptxas's caps at launch: 168 a thread with two consumer warpgroups (384
// threads), 128 with three (512), 96 with four (640); 80 with two and two
// blocks a multiprocessor.
static_assert(
    [] {
      for (int p = 0; p < 2; ++p)
        if (WgmmaTiling::kProducerRegisters[p] * 128 +
                    WgmmaTiling::kConsumerRegisters[0][p] * 256 >
                168 * 384 ||
            WgmmaTiling::kProducerRegisters[p] * 128 +
                    WgmmaTiling::kConsumerRegisters[1][p] * 384 >
                128 * 512 ||
            WgmmaTiling::kProducerRegisters[p] * 128 +
                    WgmmaTiling::kConsumerRegisters[2][p] * 512 >
                96 * 640)
          return false;
      return WgmmaTiling::kProducerRegisters[0] * 128 +
                 WgmmaTiling::kPairConsumerRegisters * 256 <=
             80 * 384;
    }(),
    "setmaxnreg must stay within the register file");

/// Whether `op` has a window (either side).
bool isWindowed(AttentionOp op) {
  ArrayRef<int64_t> window = op.getWindow();
  return window[0] >= 0 || window[1] >= 0;
}

/// What the band and the score transform take from a consumer's registers
/// (WgmmaTiling::fits), from ptxas -v on D = 128 kernels with two
/// consumers: a causal band or kv lengths 16 (176 + 64 fits, 192 + 64
/// spills 4-44 bytes), a window 48 (144 + 64 fits, 160 + 64 spills 104-116),
/// a softcap 64 (128 + 64 fits, 144 + 64 spills 36 without a band).
int64_t wgmmaMasking(AttentionOp op) {
  int64_t masking = 0;
  if (op.getCausal() || op.getKvLengths())
    masking = 16;
  if (isWindowed(op))
    masking = 48;
  if (op.getSoftcap())
    masking = 64;
  return masking;
}

/// Boxes of 64 columns covering `dim` head dims.
int64_t boxesFor(int64_t dim) { return llvm::divideCeil(dim, kBoxCols); }

/// Bytes of dynamic shared memory: 1 KB of alignment slack, Q, and the
/// ring's K and V tiles.
int64_t wgmmaSharedBytes(int64_t headDim, int64_t valueDim,
                         const WgmmaTiling &tiling) {
  int64_t q = boxesFor(headDim) * tiling.blockRows() * kRowBytes;
  int64_t kv = (boxesFor(headDim) + boxesFor(valueDim)) * tiling.keysPerTile *
               kRowBytes;
  return 1024 + q + tiling.stages * kv;
}

/// Keys per tile: `keysPerTile` if given, else 128 under a causal band or
/// a window and with three consumer warpgroups, 192 without (176 for head
/// dims below 128), at most the keys rounded up to 16. Measured on an H100
/// (session 9, kernel times against cuDNN's in the same run, after the
/// row maxima became one max.f32 each): B8 H16 S4096 D128 causal 128 keys
/// 0.922 ms, 176 keys 1.004-1.017 ms (cuDNN 0.988); GQA 32:8 S8192 and
/// S16384 causal within the run's noise (about 4%) either way; full D128
/// 192 and 128 keys within the noise. With the softmax cheaper, the
/// diagonal tiles' wasted half costs more than a tile's fixed costs.
/// Then `stages` K/V stages if given, else as many (2 to 4) as fit in
/// 200 KB (D128's 128-key tiles: 2). Measured on an H100: session 12 took
/// 3 stages (225 KB) under a causal band from kernel times (B8 H16 S4096
/// D128 1.025 -> 1.001 ms in one run, 1.027 -> 1.017 in another); session
/// 13 timed both in three runs on one machine, kernel times and walls
/// (medians, ms, 2 stages against 3): S4096 1.013 / 1.030 and 1.017 /
/// 1.036, GQA 32:8 S8192 1.807 / 1.829 and 1.862 / 1.954, S16384 1.828 /
/// 1.845 and 1.834 / 1.875 (a single call with 3 stages waited up to 0.2
/// ms longer before it ran), so causal bands keep 2 as well; under a
/// window (persistent) 3 took 0.549 -> 0.603 ms.
WgmmaTiling wgmmaTilingFor(AttentionOp op, int64_t keysPerTile,
                           int64_t warpgroups, int64_t stages,
                           int64_t persistent, int64_t blocksPerSM = 1) {
  auto qType = cast<RankedTensorType>(op.getQuery().getType());
  auto kType = cast<RankedTensorType>(op.getKey().getType());
  auto oType = cast<RankedTensorType>(op.getOutput().getType());
  bool windowed = isWindowed(op);
  bool banded = op.getCausal() || windowed;
  bool explicitKeys = keysPerTile != 0;
  if (!keysPerTile)
    keysPerTile = std::min<int64_t>(
        blocksPerSM == 2              ? 48
        : warpgroups >= 3 || banded   ? 128
        : qType.getDimSize(3) < 128 ? 176
                                      : 192,
        std::max<int64_t>(llvm::alignTo(kType.getDimSize(2), 16), 16));
  // Under a window, a power of two (WgmmaTiling::windowed).
  if (!explicitKeys && windowed)
    keysPerTile = llvm::PowerOf2Ceil(keysPerTile);
  WgmmaTiling tiling{keysPerTile, 2, warpgroups, wgmmaMasking(op), windowed};
  tiling.blocksPerSM = blocksPerSM;
  // Persistent blocks (one an SM, the device's count at run time) where
  // the band is a window: every row block then visits about as many key
  // tiles (the window's), so a static turn order stays balanced, and the
  // items are short (9 tiles of 128 keys at a 1024-key window), so one
  // item's stores and the next's loads overlapping pays. Measured on an
  // H100 (session 12, B4 H16 S8192 D128 window 1024): kernel 0.589 ->
  // 0.549 ms. Causal and full attention keep a block an item: the
  // hardware's block scheduler balances the causal band's unequal items
  // (session 10: causal 4k 1.000 -> 1.101 ms persistent; session 12:
  // 1.025 -> 1.077), and full D128 lost 2%.
  // (By default only where the tile stays what it would be without: a
  // window with a softcap leaves no 8 registers to spare at 128 keys.)
  int64_t headDim = qType.getDimSize(3), valueDim = oType.getDimSize(3);
  auto shrink = [&](WgmmaTiling t) {
    // The default tile shrinks (16 keys at a time) until it fits.
    while (!explicitKeys && t.keysPerTile > 64 && !t.fits(headDim, valueDim))
      t.keysPerTile -= 16;
    return t;
  };
  tiling.persistentBlocks = persistent >= 0 ? persistent : 0;
  tiling = shrink(tiling);
  if (persistent < 0 && windowed) {
    WgmmaTiling resident = tiling;
    resident.persistentBlocks = -1;
    if (resident.fits(headDim, valueDim))
      tiling = resident;
  }
  if (stages) {
    tiling.stages = stages;
    return tiling;
  }
  // As many stages as fit (at most 4), in half the shared memory where
  // two blocks share a multiprocessor.
  int64_t budget = blocksPerSM == 2 ? 112 * 1024 : 200 * 1024;
  auto deeper = tiling;
  for (++deeper.stages;
       deeper.stages <= 4 &&
       wgmmaSharedBytes(qType.getDimSize(3), oType.getDimSize(3), deeper) <=
           budget;
       ++deeper.stages)
    tiling = deeper;
  return tiling;
}

/// The tiling for `blockRows` rows a block (128: two consumer warpgroups,
/// 192: three, 256: four; 0: the kernel's choice), the next fewer where
/// the registers do not hold the tile. The choice: two for head dims above
/// 64 or at most 128 query rows; else three, or four (64-key tiles, no
/// masks) where 192-row blocks would pad the rows by 9% more than 256-row
/// ones: the
/// last row block of each head then computes mostly past the end
/// (S1024: 6 blocks of 192 for 1024 rows). Measured on an H100, kernel
/// times (cuDNN's in the same run): session 9, B4 H16 S4096 D64 0.531 ms
/// with three, 0.576 with two (cuDNN 0.567), S1024 0.048 and 0.050 (0.042);
/// session 15, four against three: S1024 0.047 against 0.049 (0.043),
/// S4096 0.587 against 0.555 (0.568).
WgmmaTiling chooseWgmmaTiling(AttentionOp op,
                              const MmaAttentionOptions &options) {
  auto qType = cast<RankedTensorType>(op.getQuery().getType());
  auto oType = cast<RankedTensorType>(op.getOutput().getType());
  int64_t keysPerTile = options.keysPerTile, blockRows = options.wgmmaRows,
          stages = options.wgmmaStages;
  int64_t sq = qType.getDimSize(2), headDim = qType.getDimSize(3),
          valueDim = oType.getDimSize(3);
  // Short key loops at head dims 33-64 without a band take the shape cuDNN
  // runs there (ncu, session 18: 132 resident blocks of 384 threads on
  // 64x128x64 tiles at B4 H16 S1024 D64): 128-row blocks, 128-key tiles,
  // 2 stages, one resident block a multiprocessor taking the items in
  // turn. Measured on an H100 (session 18, kernel ms, 3 rounds, against
  // the tiles the rule replaced): B4 H16 S1024 0.0479-0.0483 -> 0.0468-
  // 0.0475, B8 H16 S512 0.0308-0.0313 -> 0.0296-0.0297, B8 H16 S256 0.0128
  // -> 0.0118, B1 H16 S300 0.0096 -> 0.0082, B2 H8 S200 0.0092 -> 0.0068,
  // B1 H8 S1024 0.0220 -> 0.0139 (fewer items than multiprocessors: twice
  // the blocks), B2 H16 S2048 over 512 keys 0.0316 -> 0.0293. Not longer
  // loops (S2048 0.159 either way, S4096 0.526-0.531 -> 0.583-0.601) nor
  // D 32 (B4 H16 S1024: 0.0338 -> 0.0393); D 48 is not measured.
  bool banded = op.getCausal() || isWindowed(op);
  int64_t skv =
      cast<RankedTensorType>(op.getKey().getType()).getDimSize(2);
  if (!blockRows && !keysPerTile && !stages && options.wgmmaPersistent < 0 &&
      options.wgmmaBlocksPerSM == 0 && headDim > 32 && headDim <= 64 &&
      !banded &&
      sq > 128 && skv <= 1024) {
    WgmmaTiling shortLoop = wgmmaTilingFor(op, /*keysPerTile=*/128,
                                           /*warpgroups=*/2, /*stages=*/2,
                                           /*persistent=*/0);
    shortLoop.persistentBlocks = -1;
    if (shortLoop.fits(headDim, valueDim))
      return shortLoop;
  }
  if (!blockRows) {
    blockRows = 128;
    if (headDim <= 64 && sq > 128)
      blockRows =
          llvm::alignTo(sq, 192) * 100 > llvm::alignTo(sq, 256) * 109 ? 256
                                                                      : 192;
  }
  // Two blocks a multiprocessor: two consumer warpgroups at 104
  // registers, where that holds the tile (else one block).
  if (options.wgmmaBlocksPerSM == 2) {
    WgmmaTiling pair = wgmmaTilingFor(op, keysPerTile, 2, stages,
                                      /*persistent=*/0, /*blocksPerSM=*/2);
    if (pair.fits(headDim, valueDim))
      return pair;
  }
  WgmmaTiling tiling = wgmmaTilingFor(op, keysPerTile, blockRows / 64, stages,
                                      options.wgmmaPersistent);
  while (tiling.warpgroups > 2 && !tiling.fits(headDim, valueDim))
    tiling = wgmmaTilingFor(op, keysPerTile, tiling.warpgroups - 1, stages,
                            options.wgmmaPersistent);
  return tiling;
}

class WgmmaAttention {
public:
  WgmmaAttention(AttentionOp op, GpuKernelBuilder &k, WgmmaTiling tiling)
      : op(op), k(k), tiling(tiling) {}

  void build(PatternRewriter &rewriter);

private:
  Value idx(int64_t v) { return k.index(v); }

  /// An inline-PTX statement; results as a struct of `results` f32 (none:
  /// no result).
  SmallVector<Value> ptx(ImplicitLocOpBuilder &kb, int64_t results,
                         ValueRange operands, StringRef text,
                         StringRef constraints) {
    MLIRContext *ctx = kb.getContext();
    Type resultType =
        results ? Type(LLVM::LLVMStructType::getLiteral(
                      ctx, SmallVector<Type>(results, kb.getF32Type())))
                : Type(LLVM::LLVMVoidType::get(ctx));
    auto asmOp = LLVM::InlineAsmOp::create(
        kb, resultType, operands, text, constraints,
        /*has_side_effects=*/true, /*is_align_stack=*/false,
        LLVM::tailcallkind::TailCallKind::None,
        /*asm_dialect=*/LLVM::AsmDialectAttr(),
        /*operand_attrs=*/ArrayAttr());
    SmallVector<Value> out;
    for (int64_t i = 0; i < results; ++i)
      out.push_back(LLVM::ExtractValueOp::create(kb, asmOp.getResult(0),
                                                 ArrayRef<int64_t>{i}));
    return out;
  }

  /// "{$first, ..., $(first + n - 1)}".
  static std::string regList(int64_t first, int64_t n) {
    std::string s = "{";
    for (int64_t i = 0; i < n; ++i)
      s += (i ? ", $" : "$") + std::to_string(first + i);
    return s + "}";
  }

  /// Constraints of `n` f32 results, then `inputs`, then (`tied`) the n
  /// accumulators tied to the results.
  static std::string constraints(int64_t n, ArrayRef<StringRef> inputs,
                                 bool tied) {
    SmallVector<std::string> c(n, "=f");
    for (StringRef in : inputs)
      c.push_back(in.str());
    for (int64_t i = 0; tied && i < n; ++i)
      c.push_back(std::to_string(i));
    return llvm::join(c, ",");
  }

  /// acc (m64 x n f32 fragments) = A·B (+ acc when `acc` is given), one
  /// wgmma.mma_async k16 step. A is `aDesc` (K-major shared memory) or,
  /// with `aRegs`, four registers of pairs; B is `bDesc` (N-major when
  /// `transB`).
  SmallVector<Value> wgmma(ImplicitLocOpBuilder &kb, int64_t n,
                           ArrayRef<Value> acc, Value aDesc,
                           ArrayRef<Value> aRegs, Value bDesc, bool transB) {
    int64_t regs = n / 2;
    std::string type = elt.isBF16() ? "bf16" : "f16";
    SmallVector<Value> operands;
    SmallVector<StringRef> inputs;
    std::string a;
    if (aRegs.empty()) {
      operands.push_back(aDesc);
      inputs.push_back("l");
      a = "$" + std::to_string(regs);
    } else {
      operands.append(aRegs.begin(), aRegs.end());
      inputs.append(4, "r");
      a = regList(regs, 4);
    }
    int64_t bAt = regs + operands.size();
    operands.push_back(bDesc);
    inputs.push_back("l");
    operands.push_back(arith::ConstantIntOp::create(kb, kb.getI32Type(),
                                                    acc.empty() ? 0 : 1));
    inputs.push_back("r");
    int64_t scaleAt = bAt + 1;
    operands.append(acc.begin(), acc.end());
    std::string text =
        "{\n.reg .pred p;\nsetp.ne.b32 p, $" + std::to_string(scaleAt) +
        ", 0;\nwgmma.mma_async.sync.aligned.m64n" + std::to_string(n) +
        "k16.f32." + type + "." + type + " " + regList(0, regs) + ", " + a +
        ", $" + std::to_string(bAt) + ", p, 1, 1, " +
        (aRegs.empty() ? "0, " : "") + (transB ? "1" : "0") + ";\n}";
    return ptx(kb, regs, operands, text,
               constraints(regs, inputs, !acc.empty()));
  }

  /// Waits until at most `pending` of this warp's wgmma groups are in
  /// flight. `values` (f32 accumulators, i32 A registers) pass through the
  /// wait, so that nothing reads or reuses their registers before it.
  SmallVector<Value> wgmmaWait(ImplicitLocOpBuilder &kb, ArrayRef<Value> values,
                               int64_t pending) {
    MLIRContext *ctx = kb.getContext();
    SmallVector<Type> types;
    SmallVector<std::string> c;
    for (Value v : values) {
      types.push_back(v.getType());
      c.push_back(v.getType().isF32() ? "=f" : "=r");
    }
    for (size_t i = 0; i < values.size(); ++i)
      c.push_back(std::to_string(i));
    auto asmOp = LLVM::InlineAsmOp::create(
        kb, LLVM::LLVMStructType::getLiteral(ctx, types), values,
        "wgmma.wait_group.sync.aligned " + std::to_string(pending) + ";",
        llvm::join(c, ","), /*has_side_effects=*/true,
        /*is_align_stack=*/false, LLVM::tailcallkind::TailCallKind::None,
        /*asm_dialect=*/LLVM::AsmDialectAttr(), /*operand_attrs=*/ArrayAttr());
    SmallVector<Value> out;
    for (size_t i = 0; i < values.size(); ++i)
      out.push_back(LLVM::ExtractValueOp::create(kb, asmOp.getResult(0),
                                                 ArrayRef<int64_t>{int64_t(i)}));
    return out;
  }

  /// The shared-memory matrix descriptor of the 128-byte-swizzled matrix
  /// at shared address `addr` (i64).
  Value descriptor(ImplicitLocOpBuilder &kb, Value addr, int64_t leading,
                   int64_t stride) {
    auto c = [&](int64_t v) {
      return arith::ConstantIntOp::create(kb, kb.getI64Type(), v).getResult();
    };
    Value start = arith::ShRUIOp::create(
        kb, arith::AndIOp::create(kb, addr, c(0x3FFFF)), c(4));
    int64_t fields = ((leading >> 4) << 16) | ((stride >> 4) << 32) |
                     (int64_t(1) << 62);
    return arith::OrIOp::create(kb, start, c(fields));
  }

  /// `desc` moved by `bytes` (a multiple of 16, inside the same 256 KB).
  Value advance(ImplicitLocOpBuilder &kb, Value desc, int64_t bytes) {
    if (bytes == 0)
      return desc;
    return arith::AddIOp::create(
        kb, desc,
        arith::ConstantIntOp::create(kb, kb.getI64Type(), bytes >> 4));
  }

  /// Two f32 as one register of two 16-bit floats, `lo` in the low half.
  Value pack(ImplicitLocOpBuilder &kb, Value lo, Value hi) {
    Value halves = narrowPair(kb, elt, lo, hi);
    Value i = vector::BitCastOp::create(
        kb, VectorType::get({1}, kb.getI32Type()), halves);
    return vector::ExtractOp::create(kb, i, ArrayRef<int64_t>{0});
  }

  AttentionOp op;
  GpuKernelBuilder &k;
  WgmmaTiling tiling;
  Type elt;
};

void WgmmaAttention::build(PatternRewriter &rewriter) {
  MLIRContext *ctx = rewriter.getContext();
  RankedTensorType qType = cast<RankedTensorType>(op.getQuery().getType());
  RankedTensorType kType = cast<RankedTensorType>(op.getKey().getType());
  RankedTensorType oType = cast<RankedTensorType>(op.getOutput().getType());
  elt = qType.getElementType();
  const int64_t keysPerTile = tiling.keysPerTile, stages = tiling.stages;
  int64_t batch = qType.getDimSize(0), qHeads = qType.getDimSize(1),
          sq = qType.getDimSize(2), headDim = qType.getDimSize(3),
          kvHeads = kType.getDimSize(1), skv = kType.getDimSize(2),
          valueDim = oType.getDimSize(3);
  int64_t group = qHeads / kvHeads;
  int64_t kSteps = headDim / 16, vSteps = keysPerTile / 16;
  int64_t sRegs = keysPerTile / 2, oRegs = valueDim / 2;
  int64_t qBoxes = boxesFor(headDim), vBoxes = boxesFor(valueDim);
  const int64_t blockRows = tiling.blockRows(),
                warpgroups = tiling.warpgroups,
                consumerThreads = tiling.consumerThreads();
  int64_t qTiles = llvm::divideCeil(sq, blockRows);
  AttentionScores scores(op);
  AttentionBand band(op, sq, skv);

  // Host side: a tensor map per operand, boxes of [1, 1, rows, 64].
  ImplicitLocOpBuilder &b = k.b;
  auto boxType = [&](int64_t rows) {
    return k.sharedType({1, 1, rows, kBoxCols}, elt);
  };
  Value qMap = attentionTensorMap(k, op.getQuery(), blockRows),
        kMap = attentionTensorMap(k, op.getKey(), keysPerTile),
        vMap = attentionTensorMap(k, op.getValue(), keysPerTile);
  Value lengths = k.buffer(op.getKvLengths());
  AttentionOutputs outputs(op, k);
  Value out = outputs.out, lse = outputs.lse;

  // Shared memory from a 1024-byte-aligned base (the swizzle pattern is
  // taken from address bits 4-9): Q's boxes, then per stage K's and V's.
  int64_t qBoxBytes = blockRows * kRowBytes, kvBoxBytes = keysPerTile * kRowBytes;
  int64_t kOffset0 = qBoxes * qBoxBytes;
  int64_t stageBytes = (qBoxes + vBoxes) * kvBoxBytes;
  int64_t sharedBytes = wgmmaSharedBytes(headDim, valueDim, tiling);
  // Barriers: Q full; per stage K full, V full, K empty, V empty; Q empty.
  int64_t numBarriers = 2 + 4 * stages;
  enum Kind : int64_t { KFull = 0, VFull = 1, KEmpty = 2, VEmpty = 3 };
  const int64_t qEmptyBarrier = 1 + 4 * stages;

  // Work items: (batch, head, row block)s in attentionBlockOrder's order.
  // A block takes items block, block + grid, ... (persistent: `grid` is
  // the resident blocks, so that one item's output stores and the next's
  // first loads overlap and no block launches after the first wave; else
  // one item a block). The K/V ring's uses count on across a block's
  // items; Q is reloaded per item once every consumer warp's last S = Q·Kᵀ
  // completed (the Q-empty barrier).
  int64_t works = batch * qHeads * qTiles;
  int64_t staticGrid = tiling.persistentBlocks > 0
                           ? std::min(works, tiling.persistentBlocks)
                           : works;
  Value hostGrid = idx(staticGrid);
  func::FuncOp smCount;
  if (tiling.persistentBlocks < 0)
    smCount = cudaRuntimeFunction(b, op, "seqcCudaMultiprocessorCount",
                                  b.getI32Type());
  // (Without the runtime's function, a symbol of the user's by that name:
  // a block an item, which the stride by the grid size also runs.)
  if (smCount) {
    // min(items, the device's multiprocessors), asked at run time.
    Value sms = func::CallOp::create(b, smCount, ValueRange{}).getResult(0);
    hostGrid = arith::MinUIOp::create(
        b, idx(works),
        arith::MaxSIOp::create(
            b, idx(1), arith::IndexCastOp::create(b, b.getIndexType(), sms)));
  }
  k.launch(hostGrid, tiling.threads(), [&](ImplicitLocOpBuilder &kb,
                                           Value block, Value thread) {
    // The items' stride: the launch's block count.
    Value grid = tiling.persistentBlocks < 0
                     ? gpu::GridDimOp::create(kb, gpu::Dimension::x).getResult()
                     : idx(staticGrid);
    ScalarMath m(kb);
    auto bytesType = MemRefType::get(
        {ShapedType::kDynamic}, kb.getI8Type(), AffineMap(),
        gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup));
    Value dyn = gpu::DynamicSharedMemoryOp::create(kb, bytesType);
    // The dynamic bytes begin at the symbol (seqc-gpu-dynamic-shared makes
    // it `.extern`; as upstream leaves it, a one-byte static among the
    // mbarriers, aligning it landed the tiles on the barriers or past the
    // block's shared memory once two blocks shared a multiprocessor).
    Value rawBase = memref::ExtractAlignedPointerAsIndexOp::create(kb, dyn);
    Value pad = arith::AndIOp::create(
        kb, arith::SubIOp::create(kb, idx(0), rawBase), idx(1023));
    Value base = arith::AddIOp::create(kb, rawBase, pad);
    Value base64 = arith::IndexCastOp::create(kb, kb.getI64Type(), base);
    auto barType = nvgpu::MBarrierGroupType::get(
        ctx, gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup),
        numBarriers);
    Value bars = nvgpu::MBarrierCreateOp::create(kb, barType);

    Value warp = arith::DivUIOp::create(kb, thread, idx(32));
    Value lane = arith::RemUIOp::create(kb, thread, idx(32));
    Value wg = arith::DivUIOp::create(kb, warp, idx(4));
    Value warpInWg = arith::RemUIOp::create(kb, warp, idx(4));
    Value g = arith::DivUIOp::create(kb, lane, idx(4));
    Value t = arith::RemUIOp::create(kb, lane, idx(4));
    Value t2 = arith::MulIOp::create(kb, t, idx(2));
    Value isProducer =
        arith::CmpIOp::create(kb, arith::CmpIPredicate::eq, thread, idx(0));
    Value isLane0 =
        arith::CmpIOp::create(kb, arith::CmpIPredicate::eq, lane, idx(0));
    // A work item's (batch, head, row block), this thread's rows and the
    // key tiles [tileLo, tileLo + numTiles) its block visits (at least
    // one: with none visible, one whose every score the masks take, since
    // wgmma under a branch would make ptxas serialize them all; its rows
    // come out as 0 with a -inf LSE). Sets the band's batch.
    struct Item {
      Value bIdx, h, kvh, blockRow0, wgRow0, tileLo, numTiles;
      SmallVector<Value> rows, rowValid;
    };
    auto itemAt = [&](ImplicitLocOpBuilder &ib, Value work) {
      Item item;
      SmallVector<Value> bi = attentionBlockOrder(
          ib, work, batch, qHeads, group, qTiles,
          skv * (headDim + valueDim) * 2, band.causal);
      item.bIdx = bi[0], item.h = bi[1];
      item.kvh = arith::DivUIOp::create(ib, item.h, idx(group));
      item.blockRow0 = arith::MulIOp::create(ib, bi[2], idx(blockRows));
      item.wgRow0 = arith::AddIOp::create(
          ib, item.blockRow0, arith::MulIOp::create(ib, wg, idx(64)));
      Value warpRow0 = arith::AddIOp::create(
          ib, item.wgRow0, arith::MulIOp::create(ib, warpInWg, idx(16)));
      for (int64_t r = 0; r < 2; ++r) {
        item.rows.push_back(arith::AddIOp::create(
            ib, warpRow0, arith::AddIOp::create(ib, g, idx(8 * r))));
        item.rowValid.push_back(arith::CmpIOp::create(
            ib, arith::CmpIPredicate::ult, item.rows.back(), idx(sq)));
      }
      band.setup(ib, lengths, item.bIdx);
      std::pair<Value, Value> range =
          band.tileRange(ib, item.blockRow0, blockRows, keysPerTile);
      item.tileLo = range.first;
      item.numTiles = arith::MaxUIOp::create(
          ib, arith::SubIOp::create(ib, range.second, range.first), idx(1));
      return item;
    };

    auto ifThen = [&](ImplicitLocOpBuilder &ib, Value cond,
                      function_ref<void(ImplicitLocOpBuilder &)> body) {
      scf::IfOp::create(ib, cond, [&](OpBuilder &nb, Location loc) {
        ImplicitLocOpBuilder tb(loc, nb);
        body(tb);
        scf::YieldOp::create(tb);
      });
    };
    // Ring stage s (a run-time index) of tile number `it` (counted from the
    // first visible tile), the phase parity of its use, and the id of its
    // barrier of `kind`.
    auto stageOf = [&](ImplicitLocOpBuilder &ib, Value it) {
      return arith::RemUIOp::create(ib, it, idx(stages)).getResult();
    };
    auto parityOf = [&](ImplicitLocOpBuilder &ib, Value it) {
      Value use = arith::DivUIOp::create(ib, it, idx(stages));
      return arith::IndexCastOp::create(
                 ib, ib.getI1Type(), arith::RemUIOp::create(ib, use, idx(2)))
          .getResult();
    };
    auto barrierId = [&](ImplicitLocOpBuilder &ib, Kind kind, Value stage) {
      return arith::AddIOp::create(ib, stage, idx(1 + kind * stages))
          .getResult();
    };
    // Shared byte offset (from the aligned base) of stage s's K (or V).
    auto stageOffset = [&](ImplicitLocOpBuilder &ib, Value stage, bool value) {
      return arith::AddIOp::create(
                 ib, arith::MulIOp::create(ib, stage, idx(stageBytes)),
                 idx(kOffset0 + (value ? qBoxes * kvBoxBytes : 0)))
          .getResult();
    };
    auto waitParity = [&](ImplicitLocOpBuilder &ib, Value barrier,
                          Value parity) {
      nvgpu::MBarrierTryWaitParityOp::create(ib, bars, parity, idx(10000000),
                                             barrier);
    };
    auto arrive = [&](ImplicitLocOpBuilder &ib, Value barrier) {
      nvgpu::MBarrierArriveOp::create(ib, nvgpu::MBarrierTokenType::get(ctx),
                                      bars, barrier);
    };
    auto boxView = [&](ImplicitLocOpBuilder &ib, Value offset, int64_t rows) {
      return memref::ViewOp::create(ib, boxType(rows), dyn,
                                    arith::AddIOp::create(ib, pad, offset),
                                    ValueRange{})
          .getResult();
    };
    // Loads K (or V) tile `tile` into stage s: the boxes, then the
    // barrier's expected bytes.
    auto loadTile = [&](ImplicitLocOpBuilder &ib, Value tile, Value stage,
                        bool value, Value bIdx, Value kvh) {
      Value row0 = arith::MulIOp::create(ib, tile, idx(keysPerTile));
      Value offset = stageOffset(ib, stage, value);
      Value barrier = barrierId(ib, value ? VFull : KFull, stage);
      int64_t boxes = value ? vBoxes : qBoxes;
      for (int64_t c = 0; c < boxes; ++c)
        nvgpu::TmaAsyncLoadOp::create(
            ib,
            boxView(ib, arith::AddIOp::create(ib, offset, idx(c * kvBoxBytes)),
                    keysPerTile),
            bars, value ? vMap : kMap,
            ValueRange{idx(c * kBoxCols), row0, kvh, bIdx}, barrier,
            /*multicastMask=*/Value(), /*predicate=*/Value());
      nvgpu::MBarrierArriveExpectTxOp::create(
          ib, bars, idx(boxes * kvBoxBytes), barrier, Value());
    };

    // Barriers initialised by thread 0 (full: the producer's arrival plus
    // the bytes; empty: one arrival per warp), made visible to the copy
    // engine, then to every thread.
    ifThen(kb, isProducer, [&](ImplicitLocOpBuilder &ib) {
      for (int64_t i = 0; i < numBarriers; ++i)
        nvgpu::MBarrierInitOp::create(
            ib, bars,
            idx(i >= 1 + KEmpty * stages ? consumerThreads / 32 : 1),
            idx(i), Value());
      ptx(ib, 0, {}, "fence.mbarrier_init.release.cluster;", "");
    });
    gpu::BarrierOp::create(kb);
    // The first thread of the producer warpgroup issues every copy: Q,
    // then K and V of each tile once the consumers released the tile
    // `stages` before it from the same stage.
    Value producerWg = arith::CmpIOp::create(kb, arith::CmpIPredicate::eq, wg,
                                             idx(warpgroups));
    auto roles = scf::IfOp::create(kb, producerWg, /*withElseRegion=*/true);
    OpBuilder::InsertPoint afterRoles = kb.saveInsertionPoint();
    kb.setInsertionPoint(roles.thenBlock()->getTerminator());
    ptx(kb, 0, {},
        "setmaxnreg.dec.sync.aligned.u32 " +
            std::to_string(tiling.producerRegisters()) + ";",
        "");
    Value firstProducer = arith::CmpIOp::create(
        kb, arith::CmpIPredicate::eq, thread, idx(consumerThreads));
    // Carried over the items: the ring uses so far, and the items done.
    auto parityOfCount = [&](ImplicitLocOpBuilder &ib, Value count) {
      return arith::IndexCastOp::create(
                 ib, ib.getI1Type(), arith::RemUIOp::create(ib, count, idx(2)))
          .getResult();
    };
    ifThen(kb, firstProducer, [&](ImplicitLocOpBuilder &ib) {
      scf::ForOp::create(
          ib, block, idx(works), grid, ValueRange{idx(0), idx(0)},
          [&](OpBuilder &wb, Location wl, Value work, ValueRange done) {
            ImplicitLocOpBuilder pb(wl, wb);
            Item item = itemAt(pb, work);
            Value base = done[0], count = done[1];
            // Q again once the consumers are done with the last item's.
            ifThen(pb,
                   arith::CmpIOp::create(pb, arith::CmpIPredicate::uge, count,
                                         idx(1)),
                   [&](ImplicitLocOpBuilder &rb) {
                     waitParity(rb, idx(qEmptyBarrier),
                                parityOfCount(
                                    rb, arith::SubIOp::create(rb, count,
                                                              idx(1))));
                   });
            for (int64_t c = 0; c < qBoxes; ++c)
              nvgpu::TmaAsyncLoadOp::create(
                  pb, boxView(pb, idx(c * qBoxBytes), blockRows), bars, qMap,
                  ValueRange{idx(c * kBoxCols), item.blockRow0, item.h,
                             item.bIdx},
                  idx(0), Value(), Value());
            nvgpu::MBarrierArriveExpectTxOp::create(
                pb, bars, idx(qBoxes * qBoxBytes), idx(0), Value());
            scf::ForOp::create(
                pb, idx(0), item.numTiles, idx(1), ValueRange{},
                [&](OpBuilder &nb, Location loc, Value local, ValueRange) {
                  ImplicitLocOpBuilder lb(loc, nb);
                  Value it = arith::AddIOp::create(lb, base, local);
                  Value stage = stageOf(lb, it);
                  Value reuse = arith::CmpIOp::create(
                      lb, arith::CmpIPredicate::uge, it, idx(stages));
                  Value tile = arith::AddIOp::create(lb, item.tileLo, local);
                  for (bool value : {false, true}) {
                    ifThen(lb, reuse, [&](ImplicitLocOpBuilder &rb) {
                      Value before = arith::SubIOp::create(rb, it, idx(stages));
                      waitParity(rb,
                                 barrierId(rb, value ? VEmpty : KEmpty, stage),
                                 parityOf(rb, before));
                    });
                    loadTile(lb, tile, stage, value, item.bIdx, item.kvh);
                  }
                  scf::YieldOp::create(lb);
                });
            scf::YieldOp::create(
                pb, ValueRange{arith::AddIOp::create(pb, base, item.numTiles),
                               arith::AddIOp::create(pb, count, idx(1))});
          });
    });
    kb.setInsertionPoint(roles.elseBlock()->getTerminator());
    ptx(kb, 0, {},
        "setmaxnreg.inc.sync.aligned.u32 " +
            std::to_string(tiling.consumerRegisters()) + ";",
        "");
    // Ping-pong (FlashAttention-3's): the warpgroups take turns, in order,
    // to issue their tile's matrix products, each then running its softmax
    // while the others' products run. Named barrier 1 + w: warpgroup w
    // waits there (bar.sync) for the arrival (bar.arrive) of the warpgroup
    // before it, after that one issued; the last lets warpgroup 0 go first.
    Value lastWg = arith::CmpIOp::create(kb, arith::CmpIPredicate::eq, wg,
                                         idx(warpgroups - 1));
    Value myTurn = arith::IndexCastOp::create(
        kb, kb.getI32Type(), arith::AddIOp::create(kb, wg, idx(1)));
    Value otherTurn = arith::IndexCastOp::create(
        kb, kb.getI32Type(),
        arith::SelectOp::create(kb, lastWg, idx(1),
                                arith::AddIOp::create(kb, wg, idx(2))));
    auto waitTurn = [&](ImplicitLocOpBuilder &ib) {
      ptx(ib, 0, {myTurn}, "bar.sync $0, 256;", "r");
    };
    auto passTurn = [&](ImplicitLocOpBuilder &ib) {
      ptx(ib, 0, {otherTurn}, "bar.arrive $0, 256;", "r");
    };

    // Descriptors: this warpgroup's 64 Q rows (A); K and V tiles (B) from
    // their stage's offset.
    auto address = [&](ImplicitLocOpBuilder &ib, Value offset) {
      return arith::AddIOp::create(
                 ib, base64,
                 arith::IndexCastOp::create(ib, ib.getI64Type(), offset))
          .getResult();
    };
    Value qDesc = descriptor(
        kb, address(kb, arith::MulIOp::create(kb, wg, idx(64 * kRowBytes))),
        0, 1024);

    // The items: each once its Q landed. (The loop body's builder `kb` and
    // the item's values shadow the kernel's.)
    scf::ForOp::create(
        kb, block, idx(works), grid, ValueRange{idx(0), idx(0)},
        [&](OpBuilder &wb, Location wl, Value work, ValueRange done) {
    ImplicitLocOpBuilder kb(wl, wb);
    ScalarMath m(kb);
    Item item = itemAt(kb, work);
    Value base = done[0], count = done[1];
    Value bIdx = item.bIdx, h = item.h, tileLo = item.tileLo,
          numTiles = item.numTiles, wgRow0 = item.wgRow0;
    SmallVector<Value> rows = item.rows, rowValid = item.rowValid;
    // Ring use of the item's tile `local`.
    auto glob = [&](ImplicitLocOpBuilder &ib, Value local) -> Value {
      return arith::AddIOp::create(ib, base, local);
    };
    waitParity(kb, idx(0), parityOfCount(kb, count));
    // The last warpgroup lets warpgroup 0 go first.
    ifThen(kb, lastWg, passTurn);

    // Positions of this thread's rows and of the warpgroup's first/last.
    Value wgFirst = band.position(kb, wgRow0);
    Value wgLast = arith::AddIOp::create(kb, wgFirst, band.i32(kb, 63));
    SmallVector<Value> rowPos = {band.position(kb, rows[0]),
                                 band.position(kb, rows[1])};

    Value negBig = m.constant(-FLT_MAX), zero = m.constant(0.0);
    // This warp is done with the stage of tile `it`'s K (or V).
    auto release = [&](ImplicitLocOpBuilder &ib, Value it, bool value) {
      ifThen(ib, isLane0, [&](ImplicitLocOpBuilder &ab) {
        arrive(ab, barrierId(ab, value ? VEmpty : KEmpty, stageOf(ab, it)));
      });
    };
    // Issues S = Q·K[it]ᵀ (one commit group) once K landed.
    auto issueScores = [&](ImplicitLocOpBuilder &ib, Value it) {
      Value stage = stageOf(ib, it);
      waitParity(ib, barrierId(ib, KFull, stage), parityOf(ib, it));
      Value kDesc =
          descriptor(ib, address(ib, stageOffset(ib, stage, false)), 0, 1024);
      NVVM::WgmmaFenceAlignedOp::create(ib);
      SmallVector<Value> s;
      for (int64_t ks = 0; ks < kSteps; ++ks) {
        int64_t box = ks / 4, within = (ks % 4) * 32;
        s = wgmma(ib, keysPerTile, s,
                  advance(ib, qDesc, box * qBoxBytes + within), {},
                  advance(ib, kDesc, box * kvBoxBytes + within),
                  /*transB=*/false);
      }
      NVVM::WgmmaGroupSyncAlignedOp::create(ib);
      return s;
    };
    // Issues O += P·V[it] (one commit group) once V landed.
    auto issueValues = [&](ImplicitLocOpBuilder &ib, Value it,
                           ArrayRef<Value> o, ArrayRef<Value> p) {
      Value stage = stageOf(ib, it);
      waitParity(ib, barrierId(ib, VFull, stage), parityOf(ib, it));
      Value vDesc = descriptor(ib, address(ib, stageOffset(ib, stage, true)),
                               kvBoxBytes, 1024);
      NVVM::WgmmaFenceAlignedOp::create(ib);
      SmallVector<Value> acc(o);
      for (int64_t kk = 0; kk < vSteps; ++kk)
        acc = wgmma(ib, valueDim, acc, Value(), p.slice(4 * kk, 4),
                    advance(ib, vDesc, kk * 16 * kRowBytes),
                    /*transB=*/true);
      NVVM::WgmmaGroupSyncAlignedOp::create(ib);
      return acc;
    };
    // The online softmax of tile `it`'s scores `s` given the running max
    // and sum: the new max and sum, the rescale factor of O, and P as A
    // fragments (accumulator n-blocks 2kk and 2kk + 1 are k-step kk).
    struct Softmax {
      SmallVector<Value> m, l, alpha, p;
    };
    auto softmax = [&](ImplicitLocOpBuilder &ib, Value it,
                       SmallVector<Value> s, ValueRange mPrev,
                       ValueRange lPrev) {
      ScalarMath im(ib);
      Value key0 = arith::MulIOp::create(
          ib, arith::AddIOp::create(ib, tileLo, it), idx(keysPerTile));
      // Scores, masked only on tiles the band or the kv length cut for
      // this warpgroup's rows.
      auto scoreValues = [&](ImplicitLocOpBuilder &pb,
                             bool masked) -> SmallVector<Value> {
        SmallVector<Value> vals;
        for (int64_t n = 0; n < keysPerTile / 8; ++n)
          for (int64_t e = 0; e < 4; ++e) {
            Value v = scores.transform(pb, s[4 * n + e]);
            if (masked)
              v = band.mask(
                  pb, v,
                  arith::AddIOp::create(
                      pb, key0, arith::AddIOp::create(pb, t2, idx(8 * n + e % 2))),
                  rowPos[e / 2]);
            vals.push_back(v);
          }
        return vals;
      };
      SmallVector<Value> masked =
          band.maskedTile(ib, key0, keysPerTile, wgFirst, wgLast, scoreValues);
      SmallVector<Value> tileMax(2, negBig);
      for (int64_t i = 0; i < sRegs; ++i) {
        s[i] = masked[i];
        tileMax[(i % 4) / 2] = gpuMax(ib, tileMax[(i % 4) / 2], s[i]);
      }
      Softmax out;
      SmallVector<Value> negM, sum(2, zero);
      for (int64_t r = 0; r < 2; ++r) {
        Value rowMax = quadReduce(ib, tileMax[r], /*isMax=*/true);
        if (scores.c != 1.0)
          rowMax = im.mul(rowMax, im.constant(scores.c));
        out.m.push_back(gpuMax(ib, mPrev[r], rowMax));
        negM.push_back(arith::NegFOp::create(ib, out.m.back()));
        out.alpha.push_back(nvvmExp2(ib, im.sub(mPrev[r], out.m.back())));
      }
      for (int64_t i = 0; i < sRegs; ++i) {
        int64_t r = (i % 4) / 2;
        Value x = scores.c != 1.0
                      ? math::FmaOp::create(ib, s[i], im.constant(scores.c),
                                            negM[r])
                            .getResult()
                      : im.add(s[i], negM[r]);
        s[i] = nvvmExp2(ib, x);
        sum[r] = im.add(sum[r], s[i]);
      }
      for (int64_t r = 0; r < 2; ++r)
        out.l.push_back(math::FmaOp::create(ib, lPrev[r], out.alpha[r], sum[r]));
      for (int64_t kk = 0; kk < vSteps; ++kk) {
        int64_t lo = 8 * kk, hi = 8 * kk + 4;
        out.p.append({pack(ib, s[lo], s[lo + 1]), pack(ib, s[lo + 2], s[lo + 3]),
                      pack(ib, s[hi], s[hi + 1]),
                      pack(ib, s[hi + 2], s[hi + 3])});
      }
      return out;
    };

    // Carried from tile to tile: the running max m and sum l of the
    // thread's two rows, the previous tile's P (its P·V not yet issued),
    // then O. Tile 0's scores and softmax come first.
    int64_t pRegs = 4 * vSteps;
    SmallVector<Value> init;
    {
      waitTurn(kb);
      SmallVector<Value> s = issueScores(kb, glob(kb, idx(0)));
      passTurn(kb);
      s = wgmmaWait(kb, s, 0);
      release(kb, glob(kb, idx(0)), /*value=*/false);
      Softmax sm = softmax(kb, idx(0), s, ValueRange{negBig, negBig},
                           ValueRange{zero, zero});
      init.append(sm.m);
      init.append(sm.l);
      init.append(sm.p);
    }
    init.append(oRegs, zero);
    // Tile it: S = Q·K[it]ᵀ and O += P[it-1]·V[it-1] in flight together;
    // the softmax of tile it runs while P·V still does.
    auto loop = scf::ForOp::create(
        kb, idx(1), numTiles, idx(1), init,
        [&](OpBuilder &nb, Location loc, Value it, ValueRange st) {
          ImplicitLocOpBuilder ib(loc, nb);
          ScalarMath im(ib);
          Value prev = arith::SubIOp::create(ib, it, idx(1));
          SmallVector<Value> pPrev(st.begin() + 4, st.begin() + 4 + pRegs);
          SmallVector<Value> o(st.begin() + 4 + pRegs, st.end());
          waitTurn(ib);
          SmallVector<Value> s = issueScores(ib, glob(ib, it));
          o = issueValues(ib, glob(ib, prev), o, pPrev);
          passTurn(ib);
          s = wgmmaWait(ib, s, 1);
          release(ib, glob(ib, it), /*value=*/false);
          Softmax sm = softmax(ib, it, s, st.take_front(2), st.slice(2, 2));
          // P·V done: O and the previous P's registers are free again.
          SmallVector<Value> pending(o);
          pending.append(pPrev);
          pending = wgmmaWait(ib, pending, 0);
          release(ib, glob(ib, prev), /*value=*/true);
          SmallVector<Value> next(sm.m);
          next.append(sm.l);
          next.append(sm.p);
          for (int64_t i = 0; i < oRegs; ++i)
            next.push_back(im.mul(pending[i], sm.alpha[(i % 4) / 2]));
          scf::YieldOp::create(ib, next);
        });
    // Every S = Q·Kᵀ of this warp completed: its share of Q's release.
    ifThen(kb, isLane0, [&](ImplicitLocOpBuilder &ab) {
      arrive(ab, idx(qEmptyBarrier));
    });
    // The last tile's P·V.
    SmallVector<Value> pLast(loop.getResults().begin() + 4,
                             loop.getResults().begin() + 4 + pRegs);
    SmallVector<Value> oLast(loop.getResults().begin() + 4 + pRegs,
                             loop.getResults().end());
    waitTurn(kb);
    oLast = issueValues(
        kb, glob(kb, arith::SubIOp::create(kb, numTiles, idx(1))), oLast,
        pLast);
    // Each passes its last turn on but the last warpgroup, whose next
    // would be warpgroup 0's (each barrier sees as many arrivals as waits).
    ifThen(kb,
           arith::CmpIOp::create(kb, arith::CmpIPredicate::ne, wg,
                                 idx(warpgroups - 1)),
           passTurn);
    oLast = wgmmaWait(kb, oLast, 0);
    // The last tile's V stage too: the ring goes on into the next item.
    release(kb, glob(kb, arith::SubIOp::create(kb, numTiles, idx(1))),
            /*value=*/true);
    auto rowSum = [&](int64_t r) { return loop.getResult(2 + r); };
    auto rowMax = [&](int64_t r) { return loop.getResult(r); };
    auto oAt = [&](int64_t i) { return oLast[i]; };

    // Normalize and store, two columns per store: rows with no visible key
    // give 0 (and a -inf LSE).
    SmallVector<AttentionRowTotals> totals;
    for (int64_t r = 0; r < 2; ++r)
      totals.emplace_back(kb, rowSum(r));
    for (int64_t n = 0; n < valueDim / 8; ++n)
      for (int64_t r = 0; r < 2; ++r)
        storeOutputPair(
            kb, out,
            ValueRange{bIdx, h, rows[r],
                       arith::AddIOp::create(kb, t2, idx(8 * n))},
            rowValid[r], m.mul(oAt(4 * n + 2 * r), totals[r].inv),
            m.mul(oAt(4 * n + 2 * r + 1), totals[r].inv));
    if (lse) {
      Value firstOfRow =
          arith::CmpIOp::create(kb, arith::CmpIPredicate::eq, t, idx(0));
      for (int64_t r = 0; r < 2; ++r) {
        Value v = totals[r].lse(kb, rowMax(r));
        ifThen(kb, arith::AndIOp::create(kb, firstOfRow, rowValid[r]),
               [&](ImplicitLocOpBuilder &tb) {
                 k.store(tb, v, lse, ValueRange{bIdx, h, rows[r]});
               });
      }
    }
    scf::YieldOp::create(
        kb, ValueRange{arith::AddIOp::create(kb, base, numTiles),
                       arith::AddIOp::create(kb, count, idx(1))});
        });
    kb.restoreInsertionPoint(afterRoles);
  }, /*sharedFloats=*/0, /*extraWorkgroup=*/{}, sharedBytes,
     tiling.blocksPerSM);
  outputs.replace(op, rewriter, k);
}
} // namespace

bool mlir::seqc::canLowerAttentionToWgmma(AttentionOp op,
                                          const MmaAttentionOptions &options) {
  auto qType = cast<RankedTensorType>(op.getQuery().getType());
  auto oType = cast<RankedTensorType>(op.getOutput().getType());
  Type elt = qType.getElementType();
  int64_t sq = qType.getDimSize(2), headDim = qType.getDimSize(3),
          valueDim = oType.getDimSize(3);
  // More than one warpgroup's worth of query rows; a consumer's
  // accumulators within its registers (WgmmaTiling::fits; larger tiles go
  // to mma.sync).
  WgmmaTiling tiling = chooseWgmmaTiling(op, options);
  return (elt.isBF16() || elt.isF16()) && !op.getQSegmentIds() && sq > 64 &&
         headDim % 16 == 0 && valueDim % 16 == 0 && headDim <= 256 &&
         valueDim <= 128 && tiling.keysPerTile % 16 == 0 &&
         tiling.fits(headDim, valueDim) &&
         wgmmaSharedBytes(headDim, valueDim, tiling) <= 227 * 1024;
}

void mlir::seqc::lowerAttentionToWgmma(AttentionOp op,
                                       PatternRewriter &rewriter,
                                       GpuKernelBuilder &k,
                                       const MmaAttentionOptions &options) {
  WgmmaAttention(op, k, chooseWgmmaTiling(op, options)).build(rewriter);
}
