"""A roofline plot of benchmark rows, written as a PNG with nothing beyond
the standard library (the GPU machines have torch and NumPy, not matplotlib).

    write(path, points, peak_flops, bandwidth)

Each point is a dict: ``label`` (a short text, e.g. the row's number),
``flops`` and ``bytes`` (the work and the minimal bytes moved) and ``seconds``
for seqc, and optionally ``baseline_seconds``. The x axis is arithmetic
intensity (FLOP per byte), the y axis FLOP/s, both logarithmic; the roof is
min(peak, bandwidth x intensity) with the ceilings measured in the same run.
seqc's points are filled squares, the baselines' hollow ones, joined by a
line to their seqc point.
"""

import math
import struct
import zlib

# A 5x7 bitmap font: each glyph is 7 rows of 5 pixels, '#' set.
_GLYPHS = {
    "0": [".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."],
    "1": ["..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."],
    "2": [".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"],
    "3": ["####.", "....#", "....#", ".###.", "....#", "....#", "####."],
    "4": ["...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."],
    "5": ["#####", "#....", "####.", "....#", "....#", "#...#", ".###."],
    "6": [".###.", "#....", "#....", "####.", "#...#", "#...#", ".###."],
    "7": ["#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."],
    "8": [".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."],
    "9": [".###.", "#...#", "#...#", ".####", "....#", "....#", ".###."],
    "e": [".....", ".....", ".###.", "#...#", "#####", "#....", ".###."],
    ".": [".....", ".....", ".....", ".....", ".....", ".##..", ".##.."],
    ",": [".....", ".....", ".....", ".....", ".##..", "..#..", ".#..."],
    "-": [".....", ".....", ".....", "#####", ".....", ".....", "....."],
    "/": ["....#", "....#", "...#.", "..#..", ".#...", "#....", "#...."],
    ":": [".....", ".##..", ".##..", ".....", ".##..", ".##..", "....."],
    "(": ["...#.", "..#..", ".#...", ".#...", ".#...", "..#..", "...#."],
    ")": [".#...", "..#..", "...#.", "...#.", "...#.", "..#..", ".#..."],
    " ": ["....."] * 7,
    "A": [".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"],
    "B": ["####.", "#...#", "#...#", "####.", "#...#", "#...#", "####."],
    "C": [".###.", "#...#", "#....", "#....", "#....", "#...#", ".###."],
    "D": ["####.", "#...#", "#...#", "#...#", "#...#", "#...#", "####."],
    "E": ["#####", "#....", "#....", "####.", "#....", "#....", "#####"],
    "F": ["#####", "#....", "#....", "####.", "#....", "#....", "#...."],
    "G": [".###.", "#...#", "#....", "#.###", "#...#", "#...#", ".####"],
    "H": ["#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"],
    "I": [".###.", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."],
    "K": ["#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#"],
    "L": ["#....", "#....", "#....", "#....", "#....", "#....", "#####"],
    "N": ["#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#", "#...#"],
    "O": [".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."],
    "P": ["####.", "#...#", "#...#", "####.", "#....", "#....", "#...."],
    "Q": [".###.", "#...#", "#...#", "#...#", "#.#.#", "#..#.", ".##.#"],
    "R": ["####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#"],
    "S": [".####", "#....", "#....", ".###.", "....#", "....#", "####."],
    "T": ["#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."],
    "V": ["#...#", "#...#", "#...#", "#...#", "#...#", ".#.#.", "..#.."],
    "W": ["#...#", "#...#", "#...#", "#.#.#", "#.#.#", "##.##", "#...#"],
    "Y": ["#...#", "#...#", ".#.#.", "..#..", "..#..", "..#..", "..#.."],
}

WHITE, BLACK = (255, 255, 255), (0, 0, 0)
GRID, ROOF = (225, 225, 225), (40, 90, 200)
SEQC, BASELINE = (200, 30, 30), (110, 110, 110)


class Canvas:
    """An RGB raster with the few drawing operations a roofline needs."""

    def __init__(self, width, height):
        self.width, self.height = width, height
        self.pixels = bytearray(WHITE * (width * height))

    def set(self, x, y, color):
        x, y = int(round(x)), int(round(y))
        if 0 <= x < self.width and 0 <= y < self.height:
            i = 3 * (y * self.width + x)
            self.pixels[i:i + 3] = bytes(color)

    def get(self, x, y):
        i = 3 * (y * self.width + x)
        return tuple(self.pixels[i:i + 3])

    def line(self, x0, y0, x1, y1, color, width=1):
        steps = int(max(abs(x1 - x0), abs(y1 - y0))) + 1
        for s in range(steps + 1):
            t = s / steps
            x, y = x0 + (x1 - x0) * t, y0 + (y1 - y0) * t
            for dx in range(width):
                for dy in range(width):
                    self.set(x + dx - width // 2, y + dy - width // 2, color)

    def square(self, x, y, half, color, filled):
        for dx in range(-half, half + 1):
            for dy in range(-half, half + 1):
                if filled or max(abs(dx), abs(dy)) == half:
                    self.set(x + dx, y + dy, color)

    def text(self, x, y, text, color=BLACK, scale=2):
        """Text with its top-left corner at (x, y); unknown characters are
        drawn as spaces. Returns the width drawn."""
        for k, ch in enumerate(text):
            glyph = _GLYPHS.get(ch, _GLYPHS.get(ch.upper(), _GLYPHS[" "]))
            for row, bits in enumerate(glyph):
                for col, bit in enumerate(bits):
                    if bit == "#":
                        for sx in range(scale):
                            for sy in range(scale):
                                self.set(x + (6 * k + col) * scale + sx,
                                         y + row * scale + sy, color)
        return 6 * len(text) * scale

    def png(self):
        def chunk(kind, data):
            body = kind + data
            return (struct.pack(">I", len(data)) + body +
                    struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF))
        stride = 3 * self.width
        raw = b"".join(b"\x00" + bytes(self.pixels[y * stride:(y + 1) * stride])
                       for y in range(self.height))
        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) +
                chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def _decades(lo, hi):
    return range(int(math.floor(math.log10(lo))), int(math.ceil(math.log10(hi))) + 1)


def render(points, peak_flops, bandwidth, width=960, height=640):
    """The roofline of `points` as PNG bytes (see the module docstring)."""
    if peak_flops <= 0 or bandwidth <= 0:
        raise ValueError("the ceilings must be positive")
    points = [p for p in points if p["flops"] > 0 and p["bytes"] > 0 and p["seconds"] > 0]
    ridge = peak_flops / bandwidth
    intensities = [p["flops"] / p["bytes"] for p in points] + [ridge]
    rates = [p["flops"] / p["seconds"] for p in points] + [peak_flops]
    rates += [p["flops"] / p["baseline_seconds"] for p in points
              if p.get("baseline_seconds")]
    x_dec = _decades(min(intensities) / 2, max(intensities) * 2)
    y_dec = _decades(min(rates) / 2, peak_flops * 2)
    x0, x1 = x_dec[0], x_dec[-1]
    y0, y1 = y_dec[0], y_dec[-1]
    left, right, top, bottom = 110, width - 30, 60, height - 70
    c = Canvas(width, height)

    def px(intensity):
        return left + (math.log10(intensity) - x0) / (x1 - x0) * (right - left)

    def py(rate):
        return bottom - (math.log10(rate) - y0) / (y1 - y0) * (bottom - top)

    for d in x_dec:
        c.line(px(10 ** d), top, px(10 ** d), bottom, GRID)
        c.text(px(10 ** d) - 12, bottom + 10, "1e%d" % d)
    for d in y_dec:
        c.line(left, py(10 ** d), right, py(10 ** d), GRID)
        c.text(left - 70, py(10 ** d) - 7, "1e%d" % d)
    c.line(left, top, left, bottom, BLACK, 2)
    c.line(left, bottom, right, bottom, BLACK, 2)
    c.text(left + (right - left) // 2 - 54, bottom + 40, "FLOP/BYTE")
    c.text(10, top - 40, "FLOP/S")
    c.text(left + 90, 12, "SEQC FILLED, BASELINE HOLLOW")
    # The roof: bandwidth x intensity up to the ridge, then the peak.
    lo = 10 ** x0
    c.line(px(lo), py(bandwidth * lo), px(ridge), py(peak_flops), ROOF, 2)
    c.line(px(ridge), py(peak_flops), px(10 ** x1), py(peak_flops), ROOF, 2)
    c.text(px(ridge) + 8, py(peak_flops) - 24,
           "PEAK %.0f TFLOP/S" % (peak_flops / 1e12), ROOF)
    c.text(px(lo) + 12, py(bandwidth * lo) + 12,
           "COPY %.0f GB/S" % (bandwidth / 1e9), ROOF)
    for p in points:
        x = px(p["flops"] / p["bytes"])
        y = py(p["flops"] / p["seconds"])
        if p.get("baseline_seconds"):
            yb = py(p["flops"] / p["baseline_seconds"])
            c.line(x, y, x, yb, BASELINE)
            c.square(x, yb, 4, BASELINE, filled=False)
        c.square(x, y, 4, SEQC, filled=True)
        c.text(x + 8, y - 7, str(p["label"]), SEQC)
    return c.png()


def write(path, points, peak_flops, bandwidth):
    with open(path, "wb") as f:
        f.write(render(points, peak_flops, bandwidth))
