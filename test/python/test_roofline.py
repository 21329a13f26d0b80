"""The benchmark's roofline PNG (benchmarks/roofline.py): a valid PNG whose
pixels put each point, its baseline and the roof where the axes say."""

import math
import os
import struct
import sys
import zlib

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                "benchmarks"))
import roofline  # noqa: E402


def decode(png):
    """(width, height, rows of RGB tuples) of an 8-bit RGB PNG whose rows
    all use filter 0 (what roofline writes)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos:pos + 4])
        kind, data = png[pos + 4:pos + 8], png[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", png[pos + 8 + length:pos + 12 + length])
        assert crc == zlib.crc32(kind + data) & 0xFFFFFFFF
        chunks[kind] = chunks.get(kind, b"") + data
        pos += 12 + length
    width, height, depth, color, _, _, _ = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert (depth, color) == (8, 2)
    raw = zlib.decompress(chunks[b"IDAT"])
    assert b"IEND" in chunks and len(raw) == height * (1 + 3 * width)
    rows = []
    for y in range(height):
        line = raw[y * (1 + 3 * width):(y + 1) * (1 + 3 * width)]
        assert line[0] == 0
        rows.append([tuple(line[1 + 3 * x:4 + 3 * x]) for x in range(width)])
    return width, height, rows


def near(rows, x, y, color, radius=2):
    return any(rows[y + dy][x + dx] == color
               for dx in range(-radius, radius + 1)
               for dy in range(-radius, radius + 1))


def test_roofline_points_and_roof():
    peak, bw = 700e12, 3e12                  # ridge at 233 FLOP/byte
    points = [
        # A compute-bound row at 350 TFLOP/s, its baseline at 500.
        dict(label=1, flops=1e12, bytes=1e9, seconds=1e12 / 350e12,
             baseline_seconds=1e12 / 500e12),
        # A bandwidth-bound row at 1.5 TB/s (intensity 0.25: 375 GFLOP/s).
        dict(label=2, flops=1e9, bytes=4e9, seconds=4e9 / 1.5e12),
    ]
    png = roofline.render(points, peak, bw, width=800, height=600)
    width, height, rows = decode(png)
    assert (width, height) == (800, 600)
    # Recover the axes' mapping from the renderer's own layout: decades
    # span [1e-1, 1e4] in x and [1e11, 1e15] in y here.
    left, right, top, bottom = 110, width - 30, 60, height - 70
    x_dec = (math.floor(math.log10(0.25 / 2)), math.ceil(math.log10(1000 * 2)))
    y_dec = (math.floor(math.log10((1e9 / (4e9 / 1.5e12)) / 2)),
             math.ceil(math.log10(peak * 2)))

    def px(i):
        return round(left + (math.log10(i) - x_dec[0]) /
                     (x_dec[1] - x_dec[0]) * (right - left))

    def py(r):
        return round(bottom - (math.log10(r) - y_dec[0]) /
                     (y_dec[1] - y_dec[0]) * (bottom - top))

    assert near(rows, px(1000), py(350e12), roofline.SEQC)
    assert near(rows, px(0.25), py(1.5e12 * 0.25), roofline.SEQC)
    # The baseline's hollow square: its edge is drawn, its inside (off the
    # vertical line joining it to seqc's point) is not.
    bx, by = px(1000), py(500e12)
    assert rows[by - 4][bx + 2] == roofline.BASELINE
    assert rows[by + 1][bx + 2] == roofline.WHITE
    # The roof: on the bandwidth slope at intensity 1, flat at the peak
    # past the ridge.
    assert near(rows, px(1), py(bw * 1), roofline.ROOF)
    assert near(rows, px(2000), py(peak), roofline.ROOF)
    # Nothing of the roof above the peak.
    assert not near(rows, px(9000), py(peak * 1.6), roofline.ROOF, radius=1)
    assert near(rows, px(9000), py(peak), roofline.ROOF)


def test_roofline_skips_empty_rows_and_checks_ceilings(tmp_path):
    path = tmp_path / "r.png"
    roofline.write(str(path), [dict(label=1, flops=0, bytes=1, seconds=1)],
                   1e12, 1e11)
    assert decode(path.read_bytes())[0] == 960
    with pytest.raises(ValueError, match="ceilings must be positive"):
        roofline.render([], 0, 1e11)


def test_benchmark_rows_become_points(tmp_path):
    """gpu_bench's rows with a `plot` become numbered points (the ceiling
    rows and failed rows have none)."""
    import gpu_bench
    rows = [dict(workload="ceiling: copy", shape="1 GiB f32"),
            dict(workload="attention bf16", shape="B8 S4096",
                 plot=dict(flops=1e12, bytes=1e9, seconds=3e-3,
                           baseline_seconds=2e-3)),
            dict(workload="selective_scan", shape="-", seqc="FAILED: x"),
            dict(workload="linear recurrence f32", shape="B16",
                 plot=dict(flops=2e8, bytes=1.2e9, seconds=6e-4,
                           baseline_seconds=None))]
    path = tmp_path / "roof.png"
    legend = gpu_bench.plot_rows(rows, str(path), 700.0, 3000.0)
    assert legend == ["roofline point 1: attention bf16 B8 S4096",
                      "roofline point 2: linear recurrence f32 B16",
                      "roofline: %s" % path]
    width, height, pixels = decode(path.read_bytes())
    assert (width, height) == (960, 640)
    assert any(roofline.SEQC in row for row in pixels)
