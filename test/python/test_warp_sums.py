"""The lane bookkeeping of the split-key attention's transposed warp sum
(AttentionToGPU::warpSumTransposed, option attention-decode-transpose),
simulated over 32 lanes step by step as the kernel does it: halving
xor-shuffles, plain xor-shuffles for the offsets left, then one indexed
shuffle per value from the lane the bookkeeping names. Every lane must end
with every value's sum over the lanes. (The lit test
attention-split-keys.mlir checks that the kernel emits these shuffles with
these lane numbers.)"""

import numpy as np
import pytest

LANES = 32


def xor_shuffle(per_lane, offset):
    return [per_lane[lane ^ offset] for lane in range(LANES)]


def transposed_sums(values):
    """values[lane][v] -> sums[lane][v], as the kernel computes them."""
    count = len(values[0])
    padded = 1 << max(count - 1, 0).bit_length()
    vals = [list(v) + [0.0] * (padded - count) for v in values]
    halvings = min(5, padded.bit_length() - 1)
    for k in range(halvings):
        o = 16 >> k
        half = len(vals[0]) // 2
        upper = [(lane & o) != 0 for lane in range(LANES)]
        send = [[vals[l][i] if upper[l] else vals[l][i + half] for i in range(half)]
                for l in range(LANES)]
        keep = [[vals[l][i + half] if upper[l] else vals[l][i] for i in range(half)]
                for l in range(LANES)]
        recv = xor_shuffle(send, o)
        vals = [[keep[l][i] + recv[l][i] for i in range(half)] for l in range(LANES)]
    for k in range(halvings, 5):
        recv = xor_shuffle(vals, 16 >> k)
        vals = [[a + b for a, b in zip(vals[l], recv[l])] for l in range(LANES)]
    slots = len(vals[0])
    sums = [[None] * count for _ in range(LANES)]
    for v in range(count):
        high, owner = v // slots, 0
        for k in range(halvings):
            if high >> (halvings - 1 - k) & 1:
                owner |= 16 >> k
        for lane in range(LANES):           # an indexed shuffle from `owner`
            sums[lane][v] = vals[owner][v % slots]
    return sums


@pytest.mark.parametrize("count", [1, 3, 4, 5, 16, 24, 32, 33, 64, 128])
def test_every_lane_gets_every_sum(count):
    r = np.random.default_rng(count)
    values = r.standard_normal((LANES, count))
    got = np.array(transposed_sums(values.tolist()))
    want = np.broadcast_to(values.sum(axis=0), (LANES, count))
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)

