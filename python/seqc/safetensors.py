"""A pure-Python (NumPy only) reader and writer of the ``.safetensors`` format.

Layout of a file::

    u64 little-endian N | N bytes of UTF-8 JSON header | byte buffer

The header is a JSON object ``{name: {"dtype": "F32", "shape": [...],
"data_offsets": [begin, end]}, ..., "__metadata__": {str: str}}`` (the
metadata entry is optional); offsets are relative to the start of the byte
buffer. Tensors are stored C-contiguous and little-endian.

    from seqc import safetensors as st
    st.save("w.safetensors", {"a": np.ones((2, 3), np.float32)},
            metadata={"format": "np"})
    w = st.load("w.safetensors")                 # {"a": array(...)}
    w = st.load("w.safetensors", names=["a"])    # only some tensors
    st.load_metadata("w.safetensors")            # {"format": "np"}
    st.load_info("w.safetensors")                # {"a": ("F32", (2, 3))}
    st.check_shapes(w, {"a": (2, 3)})            # raises on any mismatch

``load`` returns fresh, writable, C-contiguous arrays in native byte order
that own their memory (the file is read with ``readinto``, not mapped: the
arrays stay valid after the file changes or goes away).

bf16 has no NumPy dtype: ``BF16`` tensors load as their raw bit patterns in
``uint16`` arrays (``bf16="bits"``, the default) or widened exactly to
``float32`` (``bf16="float32"``). ``save`` writes a ``uint16`` (or ``int16``)
array as ``BF16`` when its name is in ``bf16_names``, else as ``U16``;
arrays of an ``ml_dtypes``-style ``bfloat16`` dtype are written as ``BF16``
too.

Every format problem raises :class:`SafetensorsError` (a ``ValueError``)
whose message names the file and, where there is one, the tensor.
"""

import difflib
import json
import math
import os
import struct

import numpy as np

__all__ = [
    "SafetensorsError", "load", "load_metadata", "load_info", "save",
    "check_shapes", "DTYPES",
]

# safetensors dtype -> little-endian NumPy dtype. BF16 is read as its bits.
DTYPES = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "BF16": np.dtype("<u2"),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"),
    "U64": np.dtype("<u8"),
    "U32": np.dtype("<u4"),
    "U16": np.dtype("<u2"),
    "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}

# NumPy dtype (kind, itemsize) -> safetensors dtype, for save().
_FROM_NUMPY = {
    ("f", 8): "F64", ("f", 4): "F32", ("f", 2): "F16",
    ("i", 8): "I64", ("i", 4): "I32", ("i", 2): "I16", ("i", 1): "I8",
    ("u", 8): "U64", ("u", 4): "U32", ("u", 2): "U16", ("u", 1): "U8",
    ("b", 1): "BOOL",
}

_METADATA_KEY = "__metadata__"
_BF16_MODES = ("bits", "float32")


class SafetensorsError(ValueError):
    """A malformed file, or tensors that do not fit what was asked.

    ``path`` is the file (or None), ``tensor`` the tensor concerned (or None).
    """

    def __init__(self, message, path=None, tensor=None):
        super().__init__(message)
        self.path = path
        self.tensor = tensor


def _name(path):
    return os.fsdecode(path)


def _fail(path, message, tensor=None):
    where = _name(path)
    if tensor is not None:
        text = "%s: tensor %r: %s" % (where, tensor, message)
    else:
        text = "%s: %s" % (where, message)
    raise SafetensorsError(text, path=where, tensor=tensor)


def _is_int(x):
    return isinstance(x, int) and not isinstance(x, bool)


def _close(name, candidates, n=3):
    m = difflib.get_close_matches(name, list(candidates), n=n, cutoff=0.6)
    return ", ".join(repr(c) for c in m)


# ---------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------

class _Header:
    """A parsed and validated header."""

    def __init__(self, entries, metadata, data_start):
        self.entries = entries          # name -> (dtype str, shape, begin, end)
        self.metadata = metadata        # dict[str, str]
        self.data_start = data_start    # file offset of the byte buffer


class _Duplicate(Exception):
    pass


def _no_duplicates(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise _Duplicate(k)
        out[k] = v
    return out


def _read_header(f, path):
    size = os.fstat(f.fileno()).st_size
    if size < 8:
        _fail(path, "file is %d bytes long, shorter than the 8-byte header "
              "length" % size)
    (n,) = struct.unpack("<Q", f.read(8))
    if n > size - 8:
        _fail(path, "header length %d is larger than the rest of the file "
              "(%d bytes)" % (n, size - 8))
    raw = f.read(n)
    if len(raw) != n:
        _fail(path, "could not read the %d-byte header" % n)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        _fail(path, "header is not valid UTF-8 (%s)" % e)
    try:
        header = json.loads(text, object_pairs_hook=_no_duplicates)
    except _Duplicate as e:
        _fail(path, "header has the key %r more than once" % e.args[0])
    except ValueError as e:
        _fail(path, "header is not valid JSON (%s)" % e)
    if not isinstance(header, dict):
        _fail(path, "header is not a JSON object (got %s)"
              % type(header).__name__)

    buffer_len = size - 8 - n
    metadata = header.pop(_METADATA_KEY, None)
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict) or not all(
            isinstance(v, str) for v in metadata.values()):
        _fail(path, "%s is not an object of strings to strings"
              % _METADATA_KEY)

    entries = {}
    for name, info in header.items():
        if not isinstance(info, dict):
            _fail(path, "entry is not a JSON object", name)
        for key in ("dtype", "shape", "data_offsets"):
            if key not in info:
                _fail(path, "entry has no %r" % key, name)
        dtype = info["dtype"]
        if not isinstance(dtype, str) or dtype not in DTYPES:
            _fail(path, "unknown dtype %r (known: %s)"
                  % (dtype, ", ".join(DTYPES)), name)
        shape = info["shape"]
        if not isinstance(shape, list) or not all(
                _is_int(s) and s >= 0 for s in shape):
            _fail(path, "shape %r is not a list of non-negative integers"
                  % (shape,), name)
        offsets = info["data_offsets"]
        if (not isinstance(offsets, list) or len(offsets) != 2
                or not all(_is_int(o) and o >= 0 for o in offsets)
                or offsets[0] > offsets[1]):
            _fail(path, "data_offsets %r are not [begin, end] with "
                  "0 <= begin <= end" % (offsets,), name)
        begin, end = offsets
        nbytes = math.prod(shape) * DTYPES[dtype].itemsize
        if end - begin != nbytes:
            _fail(path, "data_offsets [%d, %d] hold %d bytes, but %s of shape "
                  "%s needs %d" % (begin, end, end - begin, dtype,
                                   tuple(shape), nbytes), name)
        if end > buffer_len:
            _fail(path, "data_offsets [%d, %d] run past the end of the "
                  "%d-byte data buffer" % (begin, end, buffer_len), name)
        entries[name] = (dtype, tuple(shape), begin, end)

    # No two tensors may share a byte (empty tensors occupy none).
    spans = sorted((b, e, k) for k, (_, _, b, e) in entries.items() if e > b)
    for (b0, e0, k0), (b1, e1, k1) in zip(spans, spans[1:]):
        if b1 < e0:
            _fail(path, "bytes [%d, %d) overlap those of tensor %r [%d, %d)"
                  % (b1, e1, k0, b0, e0), k1)
    return _Header(entries, metadata, 8 + n)


def _open_header(path):
    with open(path, "rb") as f:
        return _read_header(f, path)


def _read_into(f, arr, path, name):
    view = memoryview(arr.reshape(-1).view(np.uint8))
    got = 0
    while got < len(view):
        k = f.readinto(view[got:])
        if not k:
            _fail(path, "file ended while reading the data", name)
        got += k


def load(path, names=None, bf16="bits"):
    """Reads tensors from a .safetensors file: ``{name: np.ndarray}``.

    names: an iterable of tensor names (or one name) to read; None reads all.
        A name the file does not hold raises SafetensorsError naming it and
        the closest names the file has.
    bf16: "bits" returns BF16 tensors as uint16 bit patterns; "float32"
        widens them (exactly) to float32.

    The whole header is validated, whatever ``names`` selects. The arrays are
    fresh copies (writable, C-contiguous, native byte order), in the order of
    ``names`` or else of the header.
    """
    if bf16 not in _BF16_MODES:
        raise ValueError("bf16 must be one of %s, got %r" % (_BF16_MODES, bf16))
    with open(path, "rb") as f:
        header = _read_header(f, path)
        if names is None:
            wanted = list(header.entries)
        else:
            if isinstance(names, str):
                names = [names]
            wanted = list(dict.fromkeys(names))
            missing = [k for k in wanted if k not in header.entries]
            if missing:
                parts = []
                for k in missing:
                    close = _close(k, header.entries)
                    parts.append("%r%s" % (k, " (close matches: %s)" % close
                                           if close else ""))
                _fail(path, "no tensor named %s; the file has %d tensors"
                      % ("; ".join(parts), len(header.entries)))
        out = {}
        for name in wanted:
            dtype, shape, begin, end = header.entries[name]
            np_dtype = DTYPES[dtype]
            if dtype == "BOOL":
                raw = np.empty(shape, dtype=np.uint8)
            else:
                raw = np.empty(shape, dtype=np_dtype)
            if end > begin:
                f.seek(header.data_start + begin)
                _read_into(f, raw, path, name)
            # (np.asarray: on 0-d arrays these operators return scalars)
            if dtype == "BOOL":
                arr = np.asarray(raw != 0)
            elif dtype == "BF16" and bf16 == "float32":
                wide = raw.astype(np.uint32)
                np.left_shift(wide, np.uint32(16), out=wide)
                arr = wide.view(np.float32)
            else:
                arr = raw
            if not arr.dtype.isnative:
                arr = arr.astype(arr.dtype.newbyteorder("="))
            out[name] = arr
    return out


def load_metadata(path):
    """The file's ``__metadata__`` (a dict of str to str; {} when absent)."""
    return dict(_open_header(path).metadata)


def load_info(path):
    """``{name: (dtype, shape)}`` from the header, without reading data.

    dtype is the safetensors dtype string ("F32", "BF16", ...); the order is
    the header's.
    """
    return {k: (d, s) for k, (d, s, _, _) in _open_header(path).entries.items()}


# ---------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------

def _as_bytes_view(arr):
    return memoryview(np.ascontiguousarray(arr).reshape(-1).view(np.uint8))


def save(path, tensors, metadata=None, bf16_names=()):
    """Writes ``tensors`` ({name: array}) to ``path`` as .safetensors.

    Tensors are written sorted by name, back to back (no gaps), C-contiguous
    and little-endian; the header is padded with spaces to a multiple of 8
    bytes and lists ``__metadata__`` first. metadata: a dict of str to str,
    or None. bf16_names: names of uint16 (or int16) arrays of bf16 bit
    patterns, written with dtype BF16. The file is written next to ``path``
    under a temporary name and then renamed over it.
    """
    where = _name(path)
    if not hasattr(tensors, "items"):
        raise SafetensorsError("%s: tensors must be a mapping of names to "
                               "arrays, got %s" % (where, type(tensors).__name__),
                               path=where)
    if isinstance(bf16_names, str):
        bf16_names = [bf16_names]
    bf16_names = set(bf16_names or ())
    unknown = sorted(bf16_names - set(tensors))
    if unknown:
        _fail(path, "bf16_names lists %s, which are not among the tensors"
              % ", ".join(repr(k) for k in unknown))
    if metadata is not None:
        if not isinstance(metadata, dict) or not all(
                isinstance(k, str) and isinstance(v, str)
                for k, v in metadata.items()):
            _fail(path, "metadata must be a dict of str to str")

    for name in tensors:
        if not isinstance(name, str):
            _fail(path, "tensor names must be strings, got %r" % (name,))
        if name == _METADATA_KEY:
            _fail(path, "%r cannot be a tensor name" % name)

    arrays = {}
    header = {}
    if metadata is not None:
        header[_METADATA_KEY] = dict(metadata)
    offset = 0
    for name in sorted(tensors):
        arr = np.asarray(tensors[name])
        if name in bf16_names:
            if arr.dtype.kind not in "ui" or arr.dtype.itemsize != 2:
                _fail(path, "listed in bf16_names, so it must hold bf16 bits "
                      "in a uint16 array, got dtype %s" % arr.dtype, name)
            dtype = "BF16"
        elif arr.dtype.name == "bfloat16":          # ml_dtypes and the like
            dtype = "BF16"
            arr = arr.view(np.uint16)
        else:
            dtype = _FROM_NUMPY.get((arr.dtype.kind, arr.dtype.itemsize))
            if dtype is None:
                _fail(path, "dtype %s has no safetensors equivalent"
                      % arr.dtype, name)
        # C order, little-endian (a no-op for native little-endian arrays)
        # (np.ascontiguousarray would turn 0-d arrays into 1-d ones)
        arr = np.asarray(arr, order="C").astype(
            arr.dtype.newbyteorder("<"), order="C", copy=False)
        header[name] = {"dtype": dtype, "shape": [int(s) for s in arr.shape],
                        "data_offsets": [offset, offset + arr.nbytes]}
        arrays[name] = arr
        offset += arr.nbytes

    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False)
    raw = text.encode("utf-8")
    raw += b" " * (-len(raw) % 8)
    tmp = "%s.tmp%d" % (where, os.getpid())
    try:
        with open(tmp, "wb") as f:
            f.write(struct.pack("<Q", len(raw)))
            f.write(raw)
            for name in header:
                if name != _METADATA_KEY and arrays[name].size:
                    f.write(_as_bytes_view(arrays[name]))
        os.replace(tmp, where)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


# ---------------------------------------------------------------------------
# checking a set of tensors against expected names and shapes
# ---------------------------------------------------------------------------

def _shape_of(v):
    if hasattr(v, "shape"):
        return tuple(int(s) for s in v.shape)
    return tuple(int(s) for s in v)


def _shape_matches(expected, got):
    return len(expected) == len(got) and all(
        e is None or int(e) == g for e, g in zip(expected, got))


def _fmt_shape(s):
    return "(" + ", ".join("?" if d is None else str(d) for d in s) + \
        ("," if len(s) == 1 else "") + ")"


def check_shapes(tensors, expected, what="weights", allow_extra=False):
    """Checks that ``tensors`` has exactly the names and shapes ``expected``.

    tensors: {name: array} (anything with ``.shape``, or a shape tuple).
    expected: {name: shape}; a None dimension matches any size.
    Raises one SafetensorsError listing every missing name (with close
    matches among the unexpected ones), every unexpected name (unless
    allow_extra) and every tensor of the wrong shape (expected and got).
    Returns None when all is well.
    """
    missing = [k for k in expected if k not in tensors]
    extra = [k for k in tensors if k not in expected]
    wrong = []
    for k, shape in expected.items():
        if k in tensors:
            got = _shape_of(tensors[k])
            exp = tuple(shape)
            if not _shape_matches(exp, got):
                wrong.append((k, exp, got))
    lines = []
    for k in missing:
        close = _close(k, extra) if extra else ""
        lines.append("  missing: %r, shape %s%s" % (
            k, _fmt_shape(tuple(expected[k])),
            " (did you mean %s?)" % close if close else ""))
    if not allow_extra:
        for k in extra:
            lines.append("  unexpected: %r, shape %s"
                         % (k, _fmt_shape(_shape_of(tensors[k]))))
    for k, exp, got in wrong:
        lines.append("  wrong shape: %r: expected %s, got %s"
                     % (k, _fmt_shape(exp), _fmt_shape(got)))
    if lines:
        counts = ["%d missing" % len(missing)] if missing else []
        if extra and not allow_extra:
            counts.append("%d unexpected" % len(extra))
        if wrong:
            counts.append("%d with the wrong shape" % len(wrong))
        raise SafetensorsError("%s: %s\n%s" % (what, ", ".join(counts),
                                               "\n".join(lines)))
