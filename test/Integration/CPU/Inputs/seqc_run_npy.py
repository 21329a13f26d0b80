"""The .npy files of seqc-run.test, and the checks of what seqc-run wrote.

    seqc_run_npy.py make DIR               inputs (every header version and
                                           layout variant) and malformed files
    seqc_run_npy.py check-block DIR        o.npy, q.npy against NumPy (float64)
    seqc_run_npy.py check-passthrough DIR  p*.npy equal the inputs a..f

A check prints one line and exits 1 on a mismatch. Plain NumPy: the seqc
package is not imported.
"""

import io
import os
import struct
import sys

import numpy as np

EPS = 1e-5
TOLERANCE = 1e-5   # relative: max |out - ref| / max |ref|
PASSTHROUGH = "abcdef"


def raw_npy(header, data=b"", version=(1, 0), align=16):
    """A .npy file with `header` (a dict literal) taken verbatim."""
    major, minor = version
    prefix = 10 if major == 1 else 12
    text = header.encode("latin1")
    text += b" " * (-(prefix + len(text) + 1) % align) + b"\n"
    length = struct.pack("<H" if major == 1 else "<I", len(text))
    return b"\x93NUMPY" + bytes([major, minor]) + length + text + data


def npy_bytes(array, version=None):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, version=version)
    return buffer.getvalue()


def write(directory, name, content):
    with open(os.path.join(directory, name), "wb") as f:
        f.write(content)


def block_inputs():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 8, 16)).astype(np.float32)
    w = (1.0 + 0.1 * rng.standard_normal(16)).astype(np.float32)
    k = rng.standard_normal((2, 2, 8, 16)).astype(np.float32)
    v = rng.standard_normal((2, 2, 8, 16)).astype(np.float32)
    return x, w, k, v


def passthrough_inputs():
    return [np.array(2.5),                                   # 0-d f64
            np.array([1.5, -2.0, 65504.0], np.float16),
            np.array([[1, -2], [127, -128]], np.int8),
            np.array([True, False, True, True]),
            np.arange(-3, 3, dtype=np.int32).reshape(2, 3),
            np.zeros((0, 5), np.int64)]


def make(directory):
    x, w, k, v = block_inputs()
    # One input per header variant: NumPy's version 1.0, 2.0 and 3.0, and a
    # hand-written header (double quotes, other key order, no trailing
    # comma, 16-byte alignment as older writers use).
    write(directory, "x.npy", npy_bytes(x, (1, 0)))
    write(directory, "w.npy", npy_bytes(w, (2, 0)))
    write(directory, "k.npy", raw_npy(
        '{"shape": (2, 2, 8, 16), "fortran_order": False, "descr": "<f4"}',
        k.tobytes()))
    write(directory, "v.npy", npy_bytes(v, (3, 0)))

    a, b, c, d, e, f = passthrough_inputs()
    write(directory, "a.npy", npy_bytes(a))
    # Fortran order of a 1-d array is C order.
    write(directory, "b.npy", raw_npy(
        "{'descr': '<f2', 'fortran_order': True, 'shape': (3,), }",
        b.astype("<f2").tobytes()))
    for name, array in zip("cdef", (c, d, e, f)):
        write(directory, name + ".npy", npy_bytes(array))

    # Well-formed files that do not fit @block.
    write(directory, "wrong_shape.npy", npy_bytes(np.zeros((2, 3), np.float32)))
    write(directory, "wrong_dtype.npy", npy_bytes(w.astype(np.float64)))

    # Malformed or unsupported files.
    good = npy_bytes(w, (1, 0))
    write(directory, "empty.npy", b"")
    write(directory, "bad_magic.npy", b"this is not a .npy file\n")
    write(directory, "short.npy", b"\x93NUMPY\x01")
    write(directory, "truncated_header.npy", good[:40])
    write(directory, "truncated_data.npy", good[:-4])
    write(directory, "trailing.npy", good + b"\0\0\0\0")
    write(directory, "version.npy", b"\x93NUMPY\x04\x00" + good[8:])
    write(directory, "big_endian.npy", npy_bytes(w.astype(">f4")))
    write(directory, "uint16.npy", npy_bytes(w.astype(np.uint16)))
    write(directory, "structured.npy",
          npy_bytes(np.zeros(16, dtype=[("a", "<f4")])))
    write(directory, "fortran.npy",
          npy_bytes(np.asfortranarray(np.ones((4, 16), np.float32))))
    write(directory, "bad_header.npy", raw_npy(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (16, }",
        w.tobytes()))
    write(directory, "missing_key.npy", raw_npy(
        "{'descr': '<f4', 'shape': (16,), }", w.tobytes()))
    write(directory, "huge.npy", raw_npy(
        "{'descr': '<f4', 'fortran_order': False, "
        "'shape': (4294967296, 4294967296, 4294967296), }"))


def check_header(path, array):
    """seqc-run writes the header np.save writes: version 1.0, C order,
    data at a multiple of 64 bytes."""
    with open(path, "rb") as f:
        content = f.read()
    expected = npy_bytes(np.zeros(array.shape, array.dtype), (1, 0))
    header_length = len(expected) - array.nbytes
    if content[:header_length] != expected[:header_length]:
        return "header %r differs from NumPy's %r" % (
            content[:header_length], expected[:header_length])
    if header_length % 64 != 0 or len(content) != len(expected):
        return "bad layout (%d header bytes, %d in all)" % (
            header_length, len(content))
    return None


def reference_block(x, w, k, v):
    x, w, k, v = (a.astype(np.float64) for a in (x, w, k, v))
    q = x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + EPS) * w
    groups = q.shape[1] // k.shape[1]
    kk = np.repeat(k, groups, axis=1)     # query head h reads kv head h // G
    vv = np.repeat(v, groups, axis=1)
    s = np.einsum("bhid,bhjd->bhij", q, kk) / np.sqrt(q.shape[-1])
    sq, skv = s.shape[-2:]
    causal = np.arange(skv)[None, :] <= np.arange(sq)[:, None]
    s = np.where(causal, s, -np.inf)
    p = np.exp(s - s.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    return np.einsum("bhij,bhjd->bhid", p, vv), q


def check_block(directory):
    refs = dict(zip(("o", "q"), reference_block(*block_inputs())))
    errors = []
    for name, ref in refs.items():
        path = os.path.join(directory, name + ".npy")
        out = np.load(path)
        if out.dtype != np.float32 or out.shape != ref.shape:
            print("FAIL %s.npy: %s%s, expected float32%s"
                  % (name, out.dtype, out.shape, ref.shape))
            return 1
        problem = check_header(path, out)
        if problem:
            print("FAIL %s.npy: %s" % (name, problem))
            return 1
        error = np.abs(out - ref).max() / np.abs(ref).max()
        errors.append("%s.npy %.3g" % (name, error))
        if not error < TOLERANCE:
            print("max error %s: FAIL (tolerance %g)"
                  % (", ".join(errors), TOLERANCE))
            return 1
    print("max error %s: ok" % ", ".join(errors))
    return 0


def check_passthrough(directory):
    for name, expected in zip(PASSTHROUGH, passthrough_inputs()):
        path = os.path.join(directory, "p" + name + ".npy")
        out = np.load(path)
        if (out.dtype != expected.dtype or out.shape != expected.shape or
                not np.array_equal(out, expected)):
            print("FAIL p%s.npy: %s %s %r, expected %s %s %r"
                  % (name, out.dtype, out.shape, out, expected.dtype,
                     expected.shape, expected))
            return 1
        problem = check_header(path, out)
        if problem:
            print("FAIL p%s.npy: %s" % (name, problem))
            return 1
    print("passthrough: %d arrays round-trip exactly" % len(PASSTHROUGH))
    return 0


def main(argv):
    commands = {"make": make, "check-block": check_block,
                "check-passthrough": check_passthrough}
    if len(argv) != 3 or argv[1] not in commands:
        print(__doc__)
        return 2
    return commands[argv[1]](argv[2]) or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
