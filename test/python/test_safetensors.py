"""seqc.safetensors: round trips, the byte layout, and every malformed file.

Files are also built by hand (struct + json) so the reader is checked against
the format itself, not only against the writer. When the `safetensors`
package is importable it is a second oracle both ways; torch (when
importable) checks the bf16 widening.
"""

import importlib.util
import json
import os
import struct

import numpy as np
import pytest

from seqc import safetensors as st
from seqc.safetensors import SafetensorsError


def _importable(name):
    return importlib.util.find_spec(name) is not None


HAVE_SAFETENSORS = _importable("safetensors")
HAVE_TORCH = _importable("torch")

ALL_DTYPES = {
    "F64": np.float64, "F32": np.float32, "F16": np.float16,
    "I64": np.int64, "I32": np.int32, "I16": np.int16, "I8": np.int8,
    "U8": np.uint8, "BOOL": np.bool_,
}
SHAPES = [(), (0,), (5,), (3, 4), (2, 0, 3), (2, 3, 1, 2)]


def random_array(rng, dtype, shape):
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return rng.standard_normal(shape).astype(dtype)
    if dtype.kind == "b":
        return rng.integers(0, 2, shape).astype(bool)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, shape, dtype=dtype,
                        endpoint=True)


def write_raw(path, header, buffer=b"", pad=True):
    """A file from a header (dict, str or bytes) and a data buffer."""
    if isinstance(header, dict):
        header = json.dumps(header)
    if isinstance(header, str):
        header = header.encode("utf-8")
    if pad:
        header += b" " * (-len(header) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header)) + header + buffer)
    return str(path)


def read_raw(path):
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    return n, data[8:8 + n], data[8 + n:]


def assert_same(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------------------
# round trips
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("code", sorted(ALL_DTYPES))
def test_round_trip_every_dtype_and_shape(tmp_path, code):
    rng = np.random.default_rng(len(code))
    tensors = {"t%d" % i: random_array(rng, ALL_DTYPES[code], s)
               for i, s in enumerate(SHAPES)}
    path = tmp_path / "a.safetensors"
    st.save(path, tensors)
    info = st.load_info(path)
    assert info == {k: (code, v.shape) for k, v in tensors.items()}
    back = st.load(path)
    assert sorted(back) == sorted(tensors)
    for k, v in tensors.items():
        assert_same(back[k], v)
        assert back[k].flags.writeable and back[k].flags.c_contiguous
        assert back[k].dtype.isnative


def test_many_dtypes_in_one_file_and_unsigned_extras(tmp_path):
    rng = np.random.default_rng(1)
    tensors = {code.lower(): random_array(rng, dt, (3, 2))
               for code, dt in ALL_DTYPES.items()}
    tensors["u16"] = random_array(rng, np.uint16, (4,))
    tensors["u32"] = random_array(rng, np.uint32, (4,))
    tensors["u64"] = random_array(rng, np.uint64, (4,))
    path = tmp_path / "m.safetensors"
    st.save(path, tensors)
    info = st.load_info(path)
    assert info["u16"][0] == "U16" and info["u64"][0] == "U64"
    back = st.load(path)
    for k, v in tensors.items():
        assert_same(back[k], v)


def test_layout_sorted_contiguous_padded_little_endian(tmp_path):
    tensors = {
        "zeta": np.arange(3, dtype=">i4"),                 # big-endian input
        "alpha": np.arange(12, dtype=np.float64).reshape(3, 4).T,  # strided
        "mid": np.array(7, np.int8),
        "empty": np.zeros((0, 2), np.float32),
    }
    path = tmp_path / "l.safetensors"
    st.save(path, tensors, metadata={"format": "np"})
    n, header, buffer = read_raw(path)
    assert n % 8 == 0
    assert header.rstrip(b" ").endswith(b"}")
    assert len(header) - len(header.rstrip(b" ")) < 8
    obj = json.loads(header)
    assert list(obj) == ["__metadata__", "alpha", "empty", "mid", "zeta"]
    end = 0
    for k in list(obj)[1:]:
        b, e = obj[k]["data_offsets"]
        assert b == end
        end = e
    assert end == len(buffer)
    a = obj["alpha"]["data_offsets"]
    assert buffer[a[0]:a[1]] == np.arange(12.0).reshape(3, 4).T.astype(
        "<f8").tobytes(order="C")
    z = obj["zeta"]["data_offsets"]
    assert buffer[z[0]:z[1]] == struct.pack("<3i", 0, 1, 2)
    back = st.load(path)
    assert_same(back["zeta"], np.arange(3, dtype=np.int32))
    assert_same(back["alpha"], np.arange(12.0).reshape(3, 4).T.copy())
    assert_same(back["mid"], np.array(7, np.int8))
    # no temporary file left behind
    assert os.listdir(tmp_path) == ["l.safetensors"]


def test_read_hand_built_file(tmp_path):
    # Built from the format description, unsorted, with a gap-free buffer
    # in an order other than the header's.
    f32 = struct.pack("<4f", 1.5, -2.0, 0.25, 3.0)
    i16 = struct.pack("<3h", -7, 0, 300)
    header = {"b": {"dtype": "I16", "shape": [3], "data_offsets": [0, 6]},
              "a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [6, 22]},
              "c": {"dtype": "BOOL", "shape": [], "data_offsets": [22, 23]},
              "__metadata__": {"x": "y"}}
    path = write_raw(tmp_path / "h.safetensors", header, i16 + f32 + b"\x01")
    back = st.load(path)
    assert list(back) == ["b", "a", "c"]          # the header's order
    assert_same(back["a"], np.array([[1.5, -2.0], [0.25, 3.0]], np.float32))
    assert_same(back["b"], np.array([-7, 0, 300], np.int16))
    assert_same(back["c"], np.array(True))
    assert st.load_metadata(path) == {"x": "y"}
    # unpadded header, trailing bytes after the buffer: still fine
    path = write_raw(tmp_path / "u.safetensors", header,
                     i16 + f32 + b"\x01" + b"junk", pad=False)
    assert_same(st.load(path)["b"], back["b"])


def test_metadata(tmp_path):
    path = tmp_path / "md.safetensors"
    md = {"format": "pt", "note": "ünïcode ✓", "empty": ""}
    st.save(path, {"x": np.ones(2, np.float32)}, metadata=md)
    assert st.load_metadata(path) == md
    st.save(path, {"x": np.ones(2, np.float32)})
    assert st.load_metadata(path) == {}
    assert "__metadata__" not in json.loads(read_raw(path)[1])
    st.save(path, {}, metadata={"only": "metadata"})
    assert st.load(path) == {}
    assert st.load_metadata(path) == {"only": "metadata"}


def test_bf16_bits_and_float32(tmp_path):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 5)).astype(np.float32)
    x[0, :4] = [0.0, -0.0, np.inf, -np.inf]
    bits = (x.view(np.uint32) >> 16).astype(np.uint16)     # truncation
    path = tmp_path / "bf.safetensors"
    st.save(path, {"w": bits, "s": bits[0, 0], "e": bits[:0],
                   "plain": bits}, bf16_names={"w", "s", "e"})
    info = st.load_info(path)
    assert info == {"e": ("BF16", (0, 5)), "plain": ("U16", (3, 5)),
                    "s": ("BF16", ()), "w": ("BF16", (3, 5))}
    got = st.load(path)
    assert_same(got["w"], bits)
    assert_same(got["s"], bits[0, 0])
    wide = st.load(path, bf16="float32")
    expect = (bits.astype(np.uint32) << 16).view(np.float32)
    assert_same(wide["w"], expect)
    assert_same(wide["e"], np.zeros((0, 5), np.float32))
    assert_same(wide["plain"], bits)             # U16 is not widened
    # truncating a float32 to bf16 moves it by less than one bf16 ulp
    fin = np.isfinite(x)
    assert np.all(np.abs(wide["w"][fin] - x[fin]) <= np.abs(x[fin]) * 2.0 ** -7)
    assert np.array_equal(wide["w"][~fin], x[~fin])
    assert np.array_equal(np.signbit(wide["w"]), np.signbit(x))
    # int16 bits are accepted too
    st.save(path, {"w": bits.view(np.int16)}, bf16_names=["w"])
    assert_same(st.load(path)["w"], bits)
    with pytest.raises(ValueError, match="bf16"):
        st.load(path, bf16="float16")


@pytest.mark.skipif(not HAVE_TORCH, reason="torch is not importable")
def test_bf16_float32_matches_torch(tmp_path):
    import torch
    x = torch.randn(64, generator=torch.Generator().manual_seed(0)) * 100
    b = x.to(torch.bfloat16)
    bits = b.view(torch.int16).numpy().view(np.uint16)
    path = tmp_path / "t.safetensors"
    st.save(path, {"b": bits}, bf16_names={"b"})
    wide = st.load(path, bf16="float32")["b"]
    assert_same(wide, b.float().numpy())


def test_names_selection(tmp_path):
    tensors = {"model.layers.%d.weight" % i: np.full((2,), i, np.float32)
               for i in range(4)}
    tensors["lm_head.weight"] = np.zeros((3, 2), np.float32)
    path = tmp_path / "n.safetensors"
    st.save(path, tensors)
    got = st.load(path, names=["model.layers.2.weight", "lm_head.weight"])
    assert list(got) == ["model.layers.2.weight", "lm_head.weight"]
    assert_same(got["model.layers.2.weight"], tensors["model.layers.2.weight"])
    assert list(st.load(path, names="lm_head.weight")) == ["lm_head.weight"]
    assert st.load(path, names=[]) == {}
    assert list(st.load(path, names=["lm_head.weight"] * 2)) == [
        "lm_head.weight"]
    with pytest.raises(SafetensorsError) as e:
        st.load(path, names=["model.layers.2.wieght", "lm_head.weight",
                             "nothing_like_it"])
    msg = str(e.value)
    assert str(path) in msg
    assert "'model.layers.2.wieght'" in msg and "nothing_like_it" in msg
    assert "'model.layers.2.weight'" in msg          # the close match
    assert "lm_head" not in msg


def test_save_errors(tmp_path):
    path = tmp_path / "s.safetensors"
    ok = np.zeros(2, np.float32)
    with pytest.raises(SafetensorsError, match="'c'.*complex64"):
        st.save(path, {"c": np.zeros(2, np.complex64)})
    with pytest.raises(SafetensorsError, match="'o'.*object"):
        st.save(path, {"o": np.array([None, 1], dtype=object)})
    with pytest.raises(SafetensorsError, match="'x'.*bf16.*float32"):
        st.save(path, {"x": ok}, bf16_names={"x"})
    with pytest.raises(SafetensorsError, match="'nope'.*not among"):
        st.save(path, {"x": ok}, bf16_names={"nope"})
    with pytest.raises(SafetensorsError, match="metadata"):
        st.save(path, {"x": ok}, metadata={"n": 1})
    with pytest.raises(SafetensorsError, match="__metadata__"):
        st.save(path, {"__metadata__": ok})
    with pytest.raises(SafetensorsError, match="strings"):
        st.save(path, {3: ok})
    assert not os.path.exists(path)
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------------------
# malformed files
# ---------------------------------------------------------------------------

GOOD = {"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}}
BUF = bytes(16)


def entry(**kw):
    e = dict(GOOD["w"])
    e.update(kw)
    return {"w": e}


CORRUPT_HEADERS = [
    # (id, header, buffer, regex that the message must match)
    ("not_json", b"{not json", BUF, "not valid JSON"),
    ("not_utf8", b'{"w\xff": 1}', BUF, "not valid UTF-8"),
    ("json_array", b"[1, 2]", BUF, "not a JSON object"),
    ("json_number", b"3", BUF, "not a JSON object"),
    ("empty_header", b"", BUF, "not valid JSON"),
    ("duplicate_key", b'{"w": {}, "w": {}}', BUF, "more than once"),
    ("entry_not_object", {"w": [1, 2]}, BUF, "'w'.*not a JSON object"),
    ("no_dtype", {"w": {"shape": [4], "data_offsets": [0, 16]}}, BUF,
     "'w'.*no 'dtype'"),
    ("no_offsets", {"w": {"dtype": "F32", "shape": [4]}}, BUF,
     "'w'.*no 'data_offsets'"),
    ("unknown_dtype", entry(dtype="F128"), BUF, "'w'.*unknown dtype 'F128'"),
    ("dtype_not_str", entry(dtype=4), BUF, "'w'.*unknown dtype 4"),
    ("shape_not_list", entry(shape=4), BUF, "'w'.*shape 4 is not a list"),
    ("shape_negative", entry(shape=[-2, -2]), BUF, "'w'.*non-negative"),
    ("shape_float", entry(shape=[2.0, 2]), BUF, "'w'.*non-negative integers"),
    ("shape_bool", entry(shape=[True, 4]), BUF, "'w'.*non-negative integers"),
    ("offsets_len", entry(data_offsets=[0, 8, 16]), BUF, "'w'.*data_offsets"),
    ("offsets_reversed", entry(data_offsets=[16, 0]), BUF,
     "'w'.*begin <= end"),
    ("offsets_negative", entry(data_offsets=[-16, 0]), BUF,
     "'w'.*begin <= end"),
    ("offsets_not_list", entry(data_offsets="0:16"), BUF, "'w'.*data_offsets"),
    ("size_mismatch", entry(shape=[2, 3]), BUF + bytes(8),
     "'w'.*hold 16 bytes.*needs 24"),
    ("size_mismatch_dtype", entry(dtype="F64"), BUF, "'w'.*needs 32"),
    ("past_end", entry(data_offsets=[8, 24]), BUF,
     "'w'.*past the end of the 16-byte"),
    ("overlap", {"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 12]},
                 "b": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}},
     BUF, "'b'.*overlap.*'a'"),
    ("contained", {"a": {"dtype": "U8", "shape": [16], "data_offsets": [0, 16]},
                   "b": {"dtype": "U8", "shape": [2], "data_offsets": [4, 6]}},
     BUF, "overlap"),
    ("metadata_not_strings", {"__metadata__": {"n": 1}, **GOOD}, BUF,
     "__metadata__"),
    ("metadata_not_object", {"__metadata__": [], **GOOD}, BUF,
     "__metadata__"),
]


@pytest.mark.parametrize("name,header,buffer,pattern", CORRUPT_HEADERS,
                         ids=[c[0] for c in CORRUPT_HEADERS])
def test_corrupt_header(tmp_path, name, header, buffer, pattern):
    path = write_raw(tmp_path / ("%s.safetensors" % name), header, buffer)
    for fn in (st.load, st.load_metadata, st.load_info,
               lambda p: st.load(p, names=[])):
        with pytest.raises(SafetensorsError, match=pattern) as e:
            fn(path)
        assert str(e.value).startswith(path + ": ")
        assert e.value.path == path
        assert isinstance(e.value, ValueError)


def test_tensor_attribute_names_the_tensor(tmp_path):
    path = write_raw(tmp_path / "t.safetensors", entry(dtype="X"), BUF)
    with pytest.raises(SafetensorsError) as e:
        st.load(path)
    assert e.value.tensor == "w"
    assert "tensor 'w'" in str(e.value)


def test_empty_tensors_do_not_overlap(tmp_path):
    header = {"a": {"dtype": "F32", "shape": [0], "data_offsets": [4, 4]},
              "b": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
              "c": {"dtype": "F32", "shape": [0, 5], "data_offsets": [8, 8]}}
    path = write_raw(tmp_path / "e.safetensors", header,
                     struct.pack("<2f", 1, 2))
    got = st.load(path)
    assert got["a"].shape == (0,) and got["c"].shape == (0, 5)
    assert_same(got["b"], np.array([1, 2], np.float32))


@pytest.mark.parametrize("size", [0, 1, 7])
def test_short_file(tmp_path, size):
    path = tmp_path / "short.safetensors"
    path.write_bytes(b"\x01" * size)
    with pytest.raises(SafetensorsError,
                       match="%d bytes long, shorter than" % size) as e:
        st.load(path)
    assert str(path) in str(e.value)


def test_header_length_past_end(tmp_path):
    path = tmp_path / "long.safetensors"
    path.write_bytes(struct.pack("<Q", 100) + b"{}")
    with pytest.raises(SafetensorsError, match="header length 100 is larger"):
        st.load(path)
    path.write_bytes(struct.pack("<Q", 2 ** 64 - 1) + b"{}")
    with pytest.raises(SafetensorsError, match="is larger"):
        st.load_metadata(path)


def test_truncated_buffer(tmp_path):
    path = tmp_path / "trunc.safetensors"
    st.save(path, {"a": np.ones(4, np.float32), "b": np.ones(4, np.float64)})
    data = path.read_bytes()
    path.write_bytes(data[:-1])
    with pytest.raises(SafetensorsError, match="'b'.*past the end"):
        st.load(path, names=["a"])            # the whole header is checked


# ---------------------------------------------------------------------------
# check_shapes
# ---------------------------------------------------------------------------

def test_check_shapes():
    expected = {"embed.weight": (10, 4), "layers.0.w": (4, 4),
                "layers.1.w": (4, 4), "norm": (4,), "any": (None, 2)}
    good = {k: np.zeros([3 if d is None else d for d in s])
            for k, s in expected.items()}
    assert st.check_shapes(good, expected) is None
    assert st.check_shapes({k: v.shape for k, v in good.items()},
                           expected) is None

    bad = dict(good)
    del bad["layers.1.w"]
    del bad["norm"]
    bad["layer.1.w"] = np.zeros((4, 4))                  # misspelt
    bad["extra"] = np.zeros(1)
    bad["embed.weight"] = np.zeros((4, 10))              # transposed
    bad["any"] = np.zeros((3, 2, 1))                     # wrong rank
    with pytest.raises(SafetensorsError) as e:
        st.check_shapes(bad, expected, what="llama weights")
    msg = str(e.value)
    assert msg.startswith("llama weights: 2 missing, 2 unexpected, "
                          "2 with the wrong shape")
    assert "missing: 'layers.1.w', shape (4, 4) (did you mean 'layer.1.w'?)" \
        in msg
    assert "missing: 'norm', shape (4,)" in msg
    assert "unexpected: 'layer.1.w'" in msg and "unexpected: 'extra'" in msg
    assert "wrong shape: 'embed.weight': expected (10, 4), got (4, 10)" in msg
    assert "wrong shape: 'any': expected (?, 2), got (3, 2, 1)" in msg

    with pytest.raises(SafetensorsError) as e:
        st.check_shapes(bad, expected, allow_extra=True)
    assert "unexpected" not in str(e.value)
    assert str(e.value).startswith("weights: 2 missing, 2 with the wrong")
    extra_only = dict(good, extra=np.zeros(1))
    st.check_shapes(extra_only, expected, allow_extra=True)
    with pytest.raises(SafetensorsError, match="1 unexpected"):
        st.check_shapes(extra_only, expected)


# ---------------------------------------------------------------------------
# the safetensors package as a second oracle
# ---------------------------------------------------------------------------

@pytest.mark.skipif(not HAVE_SAFETENSORS, reason="safetensors not importable")
def test_against_safetensors_package(tmp_path):
    from safetensors.numpy import load_file, save_file
    rng = np.random.default_rng(7)
    tensors = {"%s_%d" % (code, i): random_array(rng, dt, s)
               for code, dt in ALL_DTYPES.items()
               for i, s in enumerate([(), (3, 4), (0, 2)])}
    ours = tmp_path / "ours.safetensors"
    theirs = tmp_path / "theirs.safetensors"
    st.save(ours, tensors, metadata={"a": "b"})
    save_file(tensors, str(theirs), metadata={"a": "b"})
    for k, v in load_file(str(ours)).items():
        assert_same(v, tensors[k])
    got = st.load(theirs)
    assert sorted(got) == sorted(tensors)
    for k, v in got.items():
        assert_same(v, tensors[k])
    assert st.load_metadata(theirs) == {"a": "b"}


# ---------------------------------------------------------------------------
# The C++ reader behind the C API (seqc_weights_*), on the same files
# ---------------------------------------------------------------------------

def _c_weights():
    import ctypes
    from seqc import _capi
    try:
        return ctypes, _capi, _capi.lib()
    except Exception as e:  # pragma: no cover - the library is built in CI
        pytest.fail("libseqc_c is needed for the C++ reader: %s" % e)


def _c_open(path):
    ctypes, _capi, lib = _c_weights()
    handle = ctypes.c_void_p()
    status = lib.seqc_weights_open(str(path).encode(), ctypes.byref(handle))
    return status, handle, _capi.last_error()


def test_cpp_reader_reads_what_python_writes(tmp_path):
    ctypes, _capi, lib = _c_weights()
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    b = np.array([1, -2, 3], np.int64)
    path = tmp_path / "w.safetensors"
    st.save(str(path), {"b": b, "a": a}, metadata={"k": "v"})
    status, h, err = _c_open(path)
    assert status == 0, err
    try:
        assert lib.seqc_weights_count(h) == 2
        assert [lib.seqc_weights_name(h, i) for i in range(2)] == [b"a", b"b"]
        assert lib.seqc_weights_metadata(h, b"k") == b"v"
        assert lib.seqc_weights_metadata(h, b"missing") is None
        buf = _capi.SeqcBuffer()
        shape = (ctypes.c_int64 * 2)(3, 4)
        assert lib.seqc_weights_get(h, b"a", _capi.SEQC_F32, 2, shape,
                                    ctypes.byref(buf)) == 0
        got = np.ctypeslib.as_array(ctypes.cast(buf.data, ctypes.POINTER(ctypes.c_float)),
                                    shape=(12,)).reshape(3, 4)
        np.testing.assert_array_equal(got, a)
        assert [buf.strides[i] for i in range(2)] == [4, 1]
        # Wrong shape, wrong dtype, missing name: located errors.
        bad = (ctypes.c_int64 * 2)(4, 3)
        assert lib.seqc_weights_get(h, b"a", _capi.SEQC_F32, 2, bad, ctypes.byref(buf)) != 0
        assert "tensor 'a' is F32[3, 4], expected f32[4,3]" in _capi.last_error()
        one = (ctypes.c_int64 * 1)(3)
        assert lib.seqc_weights_get(h, b"b", _capi.SEQC_I32, 1, one, ctypes.byref(buf)) != 0
        assert "tensor 'b' is I64[3], expected i32[3]" in _capi.last_error()
        assert lib.seqc_weights_get(h, b"aa", _capi.SEQC_F32, 2, shape, ctypes.byref(buf)) != 0
        assert "no tensor 'aa' (closest: 'a', 'b')" in _capi.last_error()
    finally:
        lib.seqc_weights_close(h)


@pytest.mark.parametrize("header, message", [
    (b"{not json", "header is not valid JSON"),
    (b"[1, 2]", "header is not a JSON object"),
    (b'{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}',
     "tensor 'a': holds 4 bytes, but F32[2] needs 8"),
    (b'{"a": {"dtype": "Q8", "shape": [1], "data_offsets": [0, 1]}}',
     "tensor 'a': unknown dtype 'Q8'"),
    (b'{"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}',
     "tensor 'a': data_offsets [0, 16] run past the end of the data (8 bytes)"),
    (b'{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},'
     b' "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}',
     "tensors overlap in the data"),
    (b'{"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 0]}}',
     "shape entries must be non-negative integers"),
    (b'{"__metadata__": {"k": 1}}', "__metadata__['k'] is not a string"),
])
def test_cpp_reader_errors(tmp_path, header, message):
    import struct
    path = tmp_path / "bad.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 8)
    status, _, err = _c_open(path)
    assert status != 0
    assert str(path) in err and message in err, err


def test_cpp_reader_short_files(tmp_path):
    path = tmp_path / "short.safetensors"
    path.write_bytes(b"\1\2\3")
    status, _, err = _c_open(path)
    assert status != 0 and "shorter than the 8-byte header length" in err
    path.write_bytes((1000).to_bytes(8, "little") + b"{}")
    status, _, err = _c_open(path)
    assert status != 0 and "header length 1000 runs past the end of the file" in err
    status, _, err = _c_open(tmp_path / "absent.safetensors")
    assert status != 0 and "absent.safetensors: cannot open" in err
