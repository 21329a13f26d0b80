"""Modules and functions over the C API: compile, load, invoke."""

import ctypes
import os
import re
import sys
import threading

import numpy as np

from . import _capi
from ._capi import SeqcError

__all__ = ["compile", "load", "Module", "Function", "TARGETS",
           "cuda_available", "cuda_device_name"]

TARGETS = ("auto", "cpu", "cuda")

# numpy dtype <-> seqc_dtype
_NP_TO_SEQC = {
    np.dtype(np.float32): _capi.SEQC_F32,
    np.dtype(np.float64): _capi.SEQC_F64,
    np.dtype(np.float16): _capi.SEQC_F16,
    np.dtype(np.int32): _capi.SEQC_I32,
    np.dtype(np.int64): _capi.SEQC_I64,
    np.dtype(np.int8): _capi.SEQC_I8,
    np.dtype(np.bool_): _capi.SEQC_I1,
}
_SEQC_TO_NP = {code: dt for dt, code in _NP_TO_SEQC.items()}

_BF16_MESSAGE = ("NumPy has no bfloat16: pass bf16 values as their raw bits in "
                 "a uint16 array (seqc.to_bf16_bits), or as a torch bfloat16 "
                 "tensor")

# bf16 travels as its raw 16-bit patterns in uint16 arrays (NumPy has no
# bfloat16); torch bfloat16 tensors are converted to and from that view.
_BF16_BITS = np.dtype(np.uint16)


def to_bf16_bits(x):
    """float32 values -> bf16 bit patterns (uint16), rounding to nearest even
    (NaN stays NaN)."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    bits = x.view(np.uint32).astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    nan = np.isnan(x)
    out = rounded.astype(np.uint16)
    out[nan] = 0x7FC0
    return out


def from_bf16_bits(bits):
    """bf16 bit patterns (uint16) -> float32 values (exact)."""
    bits = np.ascontiguousarray(bits, dtype=np.uint16)
    return (bits.astype(np.uint32) << 16).view(np.float32)


def _dtype_name(code):
    if code in _SEQC_TO_NP:
        return "%s (%s)" % (_SEQC_TO_NP[code].name, _capi.DTYPE_NAMES[code])
    return _capi.DTYPE_NAMES.get(code, "seqc_dtype %d" % code)


def seqc_dtype(dtype):
    """The seqc_dtype code of a NumPy dtype; TypeError if unsupported."""
    dtype = np.dtype(dtype)
    if dtype.name == "bfloat16":
        raise TypeError(_BF16_MESSAGE)
    if dtype.byteorder not in "=|":
        dtype = dtype.newbyteorder("=")
    code = _NP_TO_SEQC.get(dtype)
    if code is None:
        raise TypeError("dtype %s is not supported by seqc (supported: %s)"
                        % (dtype, ", ".join(d.name for d in _NP_TO_SEQC)))
    return code


def numpy_dtype(code):
    """The NumPy dtype of a seqc_dtype code (uint16 bit patterns for bf16);
    TypeError if it has none."""
    if code == _capi.SEQC_BF16:
        return _BF16_BITS
    try:
        return _SEQC_TO_NP[code]
    except KeyError:
        raise TypeError("unknown seqc_dtype %d" % code) from None


# ---------------------------------------------------------------------------
# Array conversion (NumPy, torch, any DLPack producer)
# ---------------------------------------------------------------------------

def _is_torch(x):
    return type(x).__module__.split(".")[0] == "torch" and hasattr(x, "__dlpack__")


_DLPACK_GPU_DEVICES = (2, 13)  # kDLCUDA, kDLCUDAManaged


def _on_dlpack_gpu(x):
    """Whether x is a non-torch DLPack producer (CuPy, JAX, ...) whose memory
    is on a CUDA device."""
    if _is_torch(x) or not hasattr(x, "__dlpack_device__"):
        return False
    try:
        return int(x.__dlpack_device__()[0]) in _DLPACK_GPU_DEVICES
    except Exception:  # a producer that cannot say: not a GPU array
        return False


def torch_tensor_type():
    """torch.Tensor once torch is imported (seqc never imports it first),
    else None: an exact-type check against it is the cheapest test of a
    plain torch tensor on the per-call paths."""
    torch = sys.modules.get("torch")
    return getattr(torch, "Tensor", None)


def current_raw_stream(torch, device):
    """The current torch stream of `device` (a torch.device) as an int:
    torch's own raw-stream query where it has one (what Triton's launcher
    calls; no Stream object is made), else the public API."""
    raw = getattr(torch._C, "_cuda_getCurrentRawStream", None)
    if raw is not None and device.index is not None:
        return raw(device.index)
    return torch.cuda.current_stream(device).cuda_stream


def is_cuda_tensor(x):
    """A torch CUDA tensor, or any DLPack producer on a CUDA device."""
    if _is_torch(x):
        return x.device.type == "cuda"
    return _on_dlpack_gpu(x)


def _torch_from_dlpack(x):
    """A GPU DLPack producer as a torch tensor on the same memory."""
    try:
        import torch
    except ImportError:
        raise TypeError("a DLPack array on a CUDA device needs torch to be "
                        "imported zero-copy (seqc passes GPU memory through "
                        "torch.from_dlpack); install torch or pass a torch "
                        "tensor") from None
    return torch.from_dlpack(x)


# torch dtype -> the NumPy dtype seqc passes it as (filled as met).
_TORCH_TO_NP = {}


def _cuda_sync_calls():
    """Whether every CUDA call waits for its kernels (SEQC_CUDA_SYNC=1 or
    CUDA_LAUNCH_BLOCKING=1: faults raised by the call that caused them)."""
    return any(os.environ.get(v, "") not in ("", "0")
               for v in ("SEQC_CUDA_SYNC", "CUDA_LAUNCH_BLOCKING"))


class DeviceArray:
    """A CUDA tensor as seqc passes it: data pointer, shape, strides (bytes,
    as NumPy's), dtype (uint16 bit patterns for bf16) and the torch tensor
    that owns the memory (a DLPack producer on the GPU other than torch is
    imported with torch.from_dlpack, zero copy)."""

    device = True

    def __init__(self, tensor):
        import torch
        if not _is_torch(tensor):
            # Any DLPack producer on the GPU: the same memory, zero copy.
            tensor = _torch_from_dlpack(tensor)
        if tensor.requires_grad:
            tensor = tensor.detach()
        self.tensor = tensor
        dtype = _TORCH_TO_NP.get(tensor.dtype)
        if dtype is None:
            dtype = (_BF16_BITS if tensor.dtype == torch.bfloat16 else
                     np.dtype(str(tensor.dtype).replace("torch.", "")))
            _TORCH_TO_NP[tensor.dtype] = dtype
        self.dtype = dtype
        self.itemsize = self.dtype.itemsize
        self.shape = tuple(tensor.shape)
        self.ndim = len(self.shape)
        self.strides = tuple(s * self.itemsize for s in tensor.stride())
        self.ptr = tensor.data_ptr()

    @property
    def size(self):
        n = 1
        for d in self.shape:
            n *= d
        return n

    # What argument checks need of index-like operands (reads the values
    # back to the host: small tensors only).
    def min(self):
        return self.tensor.min().item()

    def max(self):
        return self.tensor.max().item()

    def tolist(self):
        return self.tensor.tolist()

    # The few array manipulations the functional ops apply to operands.
    def reshape(self, *shape):
        return DeviceArray(self.tensor.reshape(*shape).contiguous())

    def astype(self, dtype):
        import torch
        return DeviceArray(self.tensor.to(getattr(torch, np.dtype(dtype).name)))


def to_device_array(arr, device):
    """A host array (one the functional ops made, or a small operand passed
    from the host) as a DeviceArray on `device`."""
    import torch
    arr = np.array(arr, order="C")  # (ascontiguousarray makes 0-d arrays 1-d)
    if arr.dtype == _BF16_BITS:
        t = torch.from_numpy(arr.view(np.int16)).to(device).view(torch.bfloat16)
    else:
        t = torch.from_numpy(arr).to(device)
    return DeviceArray(t)


_TORCH_DTYPES = {}


def torch_dtype(code):
    import torch
    if not _TORCH_DTYPES:
        _TORCH_DTYPES.update({
            _capi.SEQC_F32: torch.float32, _capi.SEQC_F64: torch.float64,
            _capi.SEQC_F16: torch.float16, _capi.SEQC_BF16: torch.bfloat16,
            _capi.SEQC_I32: torch.int32, _capi.SEQC_I64: torch.int64,
            _capi.SEQC_I8: torch.int8, _capi.SEQC_I1: torch.bool})
    return _TORCH_DTYPES[code]


def cuda_available():
    """(True, None) when a CUDA driver and GPU answer, else (False, why)."""
    lib = _capi.lib()
    why = ctypes.c_char_p()
    ok = bool(lib.seqc_cuda_available(ctypes.byref(why)))
    return ok, (None if ok else (why.value or b"").decode())


def cuda_device_name():
    """Device 0's name and architecture ("" without a GPU)."""
    return (_capi.lib().seqc_cuda_device_name() or b"").decode()


def to_numpy(x, what="argument"):
    """(ndarray, is_torch) for an ndarray, a torch tensor or a DLPack object.

    Anything else (lists, scalars) is returned as given with is_torch False;
    callers convert those with the expected dtype.
    """
    if isinstance(x, np.ndarray):
        return x, False
    if _is_torch(x):
        import torch  # only when the input is a torch tensor
        if x.device.type != "cpu":
            raise ValueError("%s is a torch tensor on %s, but this module was "
                             "compiled for the cpu target (compile with "
                             "target='cuda' to run on the GPU)"
                             % (what, x.device))
        if x.requires_grad:
            x = x.detach()
        if getattr(x, "is_conj", lambda: False)():
            x = x.resolve_conj()
        if x.dtype == torch.bfloat16:
            # Through DLPack as int16, then the same bits as uint16.
            return np.from_dlpack(x.view(torch.int16)).view(_BF16_BITS), True
        return np.from_dlpack(x), True
    if hasattr(x, "__dlpack__"):
        if hasattr(x, "__dlpack_device__"):
            device_type = x.__dlpack_device__()[0]
            if int(device_type) != 1:  # kDLCPU
                raise ValueError("%s lives on DLPack device %r; only CPU "
                                 "memory is supported by the cpu target"
                                 % (what, x.__dlpack_device__()))
        try:
            return np.from_dlpack(x), False
        except (TypeError, BufferError, RuntimeError) as e:
            raise TypeError("%s: cannot import through DLPack: %s"
                            % (what, e)) from None
    return x, False


def from_numpy_like(arrays, as_torch, codes=None):
    """Results as torch tensors when the inputs were (bf16 results, which are
    uint16 bit patterns here, become torch bfloat16)."""
    if not as_torch:
        return arrays
    import torch
    convert = getattr(torch, "from_dlpack", None) or torch.from_numpy
    codes = codes or [None] * len(arrays)
    return [convert(a.view(np.int16)).view(torch.bfloat16)
            if code == _capi.SEQC_BF16 else convert(a)
            for a, code in zip(arrays, codes)]


def _native(arr):
    if arr.dtype.byteorder not in "=|":
        arr = arr.astype(arr.dtype.newbyteorder("="))
    return arr


def _strided(arr):
    """arr, or a contiguous copy when its layout cannot be expressed in
    non-negative element strides (or its data is misaligned)."""
    flags = arr.flags
    if flags.c_contiguous and flags.aligned:
        return arr
    item = arr.itemsize
    if not flags.aligned or any(s < 0 or s % item for s in arr.strides):
        return np.ascontiguousarray(arr)
    return arr


_UNSET = object()


class _RawBuffer(ctypes.Structure):
    """``struct seqc_buffer`` as _capi.SeqcBuffer lays it out, with the
    shape and strides pointers as plain addresses (set without a ctypes
    cast per array)."""

    _fields_ = [(name, ctypes.c_void_p if name in ("shape", "strides") else t)
                for name, t in _capi.SeqcBuffer._fields_]


class _Buffers:
    """seqc_buffer structs for a list of arrays (keeping their memory alive):
    the shapes and strides of all of them in one int64 array. ``structs``
    is the array as a ``SeqcBuffer *``."""

    def __init__(self, arrays, codes=None):
        self.arrays = arrays
        n = len(arrays)
        self.raw = structs = (_RawBuffer * max(n, 1))()
        self.structs = ctypes.cast(structs, ctypes.POINTER(_capi.SeqcBuffer))
        dims = []
        for arr in arrays:
            dims.extend(arr.shape)
            item = arr.itemsize
            dims.extend([s // item for s in arr.strides])
        self.dims = (ctypes.c_int64 * max(len(dims), 1))(*dims)
        base = ctypes.addressof(self.dims)
        offset = 0
        for i, arr in enumerate(arrays):
            rank = arr.ndim
            buf = structs[i]
            if isinstance(arr, DeviceArray):
                buf.data = arr.ptr
                buf.device = _capi.SEQC_CUDA
            else:
                buf.data = arr.ctypes.data
            buf.dtype = (codes[i] if codes is not None
                         else _NP_TO_SEQC[arr.dtype])
            buf.rank = rank
            buf.shape = base + 8 * offset
            buf.strides = base + 8 * (offset + rank)
            offset += 2 * rank


def _poison(arr):
    if arr.dtype.kind == "f":
        arr.fill(np.nan)
    elif arr.dtype.kind == "b":
        arr.fill(True)
    else:
        arr.fill(np.iinfo(arr.dtype).min + 7)


def _shape_text(shape):
    if len(shape) == 1:
        return "(%s,)" % ("?" if shape[0] < 0 else shape[0])
    return "(%s)" % ", ".join("?" if s < 0 else str(s) for s in shape)


# ---------------------------------------------------------------------------
# Argument names from MLIR text (best effort; for error messages only)
# ---------------------------------------------------------------------------

_FUNC_RE = re.compile(
    r'func\.func\s+(?:(?:public|private|nested)\s+)?@("(?:[^"\\]|\\.)*"|[\w$.-]+)\s*\(')
_ARG_RE = re.compile(r'^\s*%([\w$.-]+)\s*:')
_OPEN, _CLOSE = "(<[{", ")>]}"


def _split_top_level(text):
    """The text up to the parenthesis closing an argument list, split at
    top-level commas."""
    depth, parts, start = 0, [], 0
    for i, ch in enumerate(text):
        if ch == ">" and i > 0 and text[i - 1] == "-":
            continue  # '->' of a function type, not a bracket
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            if depth == 0:
                parts.append(text[start:i])
                return parts
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    return None


def argument_names(source):
    """{function name: [argument names]} parsed from MLIR text."""
    names = {}
    for m in _FUNC_RE.finditer(source):
        fname = m.group(1)
        if fname.startswith('"'):
            fname = fname[1:-1]
        parts = _split_top_level(source[m.end():])
        if parts is None:
            continue
        args = []
        for p in parts:
            am = _ARG_RE.match(p)
            if not p.strip():
                continue
            args.append(am.group(1) if am else None)
        names.setdefault(fname, args)
    return names


# ---------------------------------------------------------------------------
# Functions and modules
# ---------------------------------------------------------------------------

class Function:
    """A public function of a compiled module, callable on arrays.

    Inputs may be NumPy arrays, torch CPU tensors or any DLPack producer
    (lists and scalars are converted to the expected dtype). Results are
    freshly allocated and returned as one array or a tuple (torch tensors
    when any input was a torch tensor).
    """

    def __init__(self, module, name, arg_names=None):
        self._module = module
        self.name = name
        self._cname = name.encode()
        # [(seqc_dtype, shape with -1 for dynamic sizes)]
        self.inputs, self.results = module._backend.signature(name)
        #: For each result, the input it is written into in place
        #: (``seq.in_place``: a KV cache, a recurrent state), or -1.
        self.in_place = list(module._backend.in_place(name))
        if arg_names is not None and len(arg_names) != len(self.inputs):
            arg_names = None
        self.arg_names = arg_names
        # The fast path's plan for torch CUDA tensors (_fast_plan), made at
        # the first call after torch is imported; None: no fast path.
        self._fast = _UNSET
        self._fast_local = threading.local()

    def __repr__(self):
        def fmt(entry):
            code, shape = entry
            return "%s%s" % (_capi.DTYPE_NAMES.get(code, "?"),
                             list("?" if s < 0 else s for s in shape))
        return "<seqc.Function @%s(%s) -> (%s)>" % (
            self.name, ", ".join(fmt(e) for e in self.inputs),
            ", ".join(fmt(e) for e in self.results))

    @staticmethod
    def _updatable(arr):
        """A buffer the compiled code may update in place: the array itself
        when it is writable and contiguous, else a contiguous copy (which the
        call then returns)."""
        if isinstance(arr, DeviceArray):
            if arr.tensor.is_contiguous() and arr.ptr % 16 == 0:
                return arr
            return DeviceArray(arr.tensor.contiguous().clone())
        if arr.flags.c_contiguous and arr.flags.writeable:
            return arr
        return np.array(arr, order="C")

    @staticmethod
    def _to_device(arr, device):
        if isinstance(arr, DeviceArray):
            return arr
        import torch
        return DeviceArray(torch.from_numpy(np.ascontiguousarray(arr))
                           .to(device))

    def _check_out(self, out, inputs=None):
        if isinstance(out, np.ndarray):
            out = (out,)
        out = list(out)
        if inputs is not None:
            # A result written in place is its input: pass it or None.
            for j, k in enumerate(self.in_place):
                if k < 0 or j >= len(out):
                    continue
                if out[j] is not None and not (
                        isinstance(out[j], np.ndarray) and
                        isinstance(inputs[k], np.ndarray) and
                        out[j].ctypes.data == inputs[k].ctypes.data):
                    raise ValueError(
                        "out[%d] (result %d of @%s) is written in place into "
                        "%s (seq.in_place): pass that array, or None"
                        % (j, j + 1, self.name, self._argname(k)))
                out[j] = inputs[k]
        if len(out) != len(self.results):
            raise TypeError("@%s has %d result%s, got %d out array%s"
                            % (self.name, len(self.results),
                               "" if len(self.results) == 1 else "s",
                               len(out), "" if len(out) == 1 else "s"))
        return [_check_out_array(self, j, arr, code, shape)
                for j, (arr, (code, shape)) in enumerate(zip(out,
                                                             self.results))]

    def _argname(self, i):
        name = self.arg_names[i] if self.arg_names else None
        if name:
            return "argument %d ('%s') of @%s" % (i + 1, name, self.name)
        return "argument #%d of @%s" % (i + 1, self.name)

    def _input(self, i, x):
        code, shape = self.inputs[i]
        if isinstance(x, np.ndarray) and x.flags.c_contiguous and \
                x.flags.aligned and x.dtype.byteorder in "=|" and \
                self._fits(x, code, shape):
            # The common case, checked cheaply: a native, aligned,
            # C-contiguous array of the right dtype and shape.
            return x, False
        if isinstance(x, DeviceArray) or (is_cuda_tensor(x) and
                                          self._module.target == "cuda"):
            arr = x if isinstance(x, DeviceArray) else DeviceArray(x)
            if not self._fits(arr, code, shape):
                self._check_input(self._argname(i), arr, code, shape)
            if arr.ptr % 16 or (arr.ndim and arr.shape[-1] > 1 and
                                arr.strides[-1] != arr.itemsize) or (
                    any(st % 16 for st, e in zip(arr.strides[:-1],
                                                 arr.shape[:-1]) if e > 1)
                    and not arr.tensor.is_contiguous()):
                # Kernels read 16 bytes at a time with a unit innermost
                # stride, from rows that start on 16-byte boundaries where
                # the shapes say so: an odd view becomes an aligned
                # contiguous copy.
                arr = DeviceArray(arr.tensor.contiguous().clone())
            return arr, "cuda"
        what = self._argname(i)
        arr, was_torch = to_numpy(x, what)
        if not isinstance(arr, np.ndarray):
            arr = np.asarray(arr, dtype=numpy_dtype(code))
        if arr.dtype.name == "bfloat16":
            raise TypeError("%s: %s" % (what, _BF16_MESSAGE))
        arr = _native(arr)
        self._check_input(what, arr, code, shape)
        return _strided(arr), was_torch

    @staticmethod
    def _fits(arr, code, shape):
        """Whether `arr` has the dtype and shape the signature asks for (the
        cheap test; _check_input says what is wrong, or accepts bf16)."""
        return (_NP_TO_SEQC.get(arr.dtype) == code and arr.ndim == len(shape)
                and all(e < 0 or e == a for e, a in zip(shape, arr.shape)))

    @staticmethod
    def _check_input(what, arr, code, shape):
        if code == _capi.SEQC_BF16:
            if arr.dtype != _BF16_BITS:
                raise TypeError("%s: expected bf16 (%s), got %s"
                                % (what, _BF16_MESSAGE, arr.dtype))
        elif _NP_TO_SEQC.get(arr.dtype) != code:
            raise TypeError("%s: expected dtype %s, got %s"
                            % (what, _dtype_name(code), arr.dtype))
        if arr.ndim != len(shape):
            raise ValueError("%s: expected rank %d with shape %s, got rank %d "
                             "with shape %s" % (what, len(shape),
                                                _shape_text(shape), arr.ndim,
                                                _shape_text(arr.shape)))
        if any(e >= 0 and e != a for e, a in zip(shape, arr.shape)):
            raise ValueError("%s: expected shape %s, got %s"
                             % (what, _shape_text(shape),
                                _shape_text(arr.shape)))

    def _fast_plan(self):
        """For a `cuda` module held by the C API whose signature is static
        and has no in-place result: (torch.Tensor, input dtypes and shapes,
        result dtypes and shapes); else None."""
        if "torch" not in sys.modules:
            return _UNSET  # no torch tensor can come yet
        import torch
        backend = self._module._backend
        if (self._module.target != "cuda" or
                not isinstance(backend, _CAPIBackend) or
                any(k >= 0 for k in self.in_place) or
                any(s < 0 for _, shape in self.inputs + self.results
                    for s in shape)):
            return None
        spec = lambda entries: [(torch_dtype(c), torch.Size(s))
                                for c, s in entries]
        # The current stream of a device index, by torch's own raw query
        # where it has one (no Stream object made a call).
        raw = getattr(torch._C, "_cuda_getCurrentRawStream", None)
        stream_of = raw if raw is not None else (
            lambda index: torch.cuda.current_stream(index).cuda_stream)
        return (torch.Tensor, spec(self.inputs), spec(self.results),
                stream_of, torch.empty)

    def _fast_buffers(self):
        """This thread's seqc_buffer array for the function, with the
        shapes and contiguous strides (as torch gives them) filled in once:
        (structs, the dims they point into, the array as SeqcBuffer *). A
        call sets only the data pointers."""
        cached = getattr(self._fast_local, "buffers", None)
        if cached is None:
            entries = self.inputs + self.results
            raw = (_RawBuffer * max(len(entries), 1))()
            dims = []
            for _, shape in entries:
                strides, n = [], 1
                for d in reversed(shape):
                    strides.append(n)
                    n *= max(d, 1)
                dims.extend(shape)
                dims.extend(reversed(strides))
            dims = (ctypes.c_int64 * max(len(dims), 1))(*dims)
            base, offset = ctypes.addressof(dims), 0
            for i, (code, shape) in enumerate(entries):
                buf = raw[i]
                # Both fast paths have seen each tensor's is_cuda.
                buf.device = _capi.SEQC_CUDA_CHECKED
                buf.dtype = code
                buf.rank = len(shape)
                buf.shape = base + 8 * offset
                buf.strides = base + 8 * (offset + len(shape))
                offset += 2 * len(shape)
            cached = (raw, dims, ctypes.cast(raw, ctypes.POINTER(_capi.SeqcBuffer)))
            self._fast_local.buffers = cached
        return cached

    def _call_fast(self, args):
        """The call on torch CUDA tensors that need no conversion: of the
        signature's dtypes and shapes, on one device, then (this thread's
        runner for the device) contiguous, 16-byte aligned, not requiring
        grad. The checks are a few attribute reads and the arguments go
        straight to seqc_invoke; returns None where any check fails (the
        general path then runs, converts or says what is wrong)."""
        tensor_type, inputs = self._fast[0], self._fast[1]
        if len(args) != len(inputs):
            return None
        # (A few attribute reads a tensor: this runs on every call, and on
        # a lent H100's host each read costs tenths of a microsecond.)
        index = -1
        tensors = []
        for i, x in enumerate(args):
            if type(x) is DeviceArray:  # the functional ops pass these
                x = x.tensor
            dtype, shape = inputs[i]
            if (type(x) is not tensor_type or x.dtype != dtype or
                    x.shape != shape or not x.is_cuda):
                return None
            d = x.get_device()
            if d < 0 or (index >= 0 and d != index):
                return None
            index = d
            tensors.append(x)
        if index < 0:
            return None
        return self._runner(index, tensors[0].device)(tensors)

    def _runner(self, index, device):
        """This thread's runner for calls on device `index` (`device` as a
        torch.device); None where the function has no fast path. A
        functional op keeps the one its key's first call made (ops)."""
        runners = getattr(self._fast_local, "runners", None)
        if runners is None:
            runners = self._fast_local.runners = {}
        run = runners.get(index)
        if run is None:
            run = runners[index] = self._make_runner(index, device)
        return run

    def _make_runner(self, index, device):
        """A function of torch CUDA tensors of the signature's types,
        dtypes and shapes on device `index` (the caller checked those):
        the rest of the checks (grad, contiguity, alignment), then the call,
        with everything a call reads bound once (the C functions, the
        module's handle, this thread's buffers, the results' specs, the
        poison setting as it is now); it returns None where a check fails.
        Called on another thread than the one that made it, it takes that
        thread's runner (the buffers it binds are this thread's). None where
        the function has no fast path."""
        if not isinstance(self._fast, tuple):
            return None
        _, inputs, results, stream_of, empty = self._fast
        if not inputs:
            return None
        raw, _, structs = self._fast_buffers()
        backend = self._module._backend
        handle, cname, name = backend._handle, self._cname, self.name
        if handle is None:
            return None
        lib = _capi.lib()
        invoke, set_stream = lib.seqc_invoke, lib.seqc_cuda_set_stream
        get_ident, owner = threading.get_ident, threading.get_ident()
        count = len(self.inputs) + len(results)
        single = len(results) == 1
        poison = os.environ.get("SEQC_POISON_OUTPUTS", "") not in ("", "0")
        nan = float("nan")
        own_runner = self._runner
        # Results of the first input's dtype come from its new_empty (on a
        # lent H100's host ~1 us less than torch.empty's argument parsing);
        # None: torch.empty.
        like_first = [shape if dtype == inputs[0][0] else None
                      for dtype, shape in results]

        def run(args):
            if get_ident() != owner:
                return own_runner(index, device)(args)
            if backend._handle is not handle:  # the module was closed
                return None
            i = 0
            for x in args:
                ptr = x.data_ptr()
                if x.requires_grad or ptr % 16 or not x.is_contiguous():
                    return None
                raw[i].data = ptr
                i += 1
            outs = []
            first = args[0]
            for (dtype, shape), like in zip(results, like_first):
                t = (first.new_empty(like) if like is not None else
                     empty(shape, dtype=dtype, device=device))
                if poison and t.is_floating_point():
                    t.fill_(nan)
                raw[i].data = t.data_ptr()
                i += 1
                outs.append(t)
            set_stream(stream_of(index))
            if invoke(handle, cname, structs, count):
                _capi.check(-1, "@%s" % name)
            return outs[0] if single else tuple(outs)
        return run

    def __call__(self, *args, out=None):
        """Runs the function. ``out``: optional caller-provided result arrays
        (one per result, C-contiguous, writeable, of the result's dtype and
        shape), written in place and returned; otherwise results are new
        arrays."""
        if self._fast is _UNSET:
            self._fast = self._fast_plan()
        if self._fast is not None and self._fast is not _UNSET and out is None:
            result = self._call_fast(args)
            if result is not None:
                return result
        if self._module._backend is None:
            raise SeqcError("its module was closed", "@%s" % self.name)
        if len(args) != len(self.inputs):
            raise TypeError("@%s takes %d argument%s, got %d"
                            % (self.name, len(self.inputs),
                               "" if len(self.inputs) == 1 else "s",
                               len(args)))
        inputs, as_torch, on_gpu = [], False, None
        updated = {k for k in self.in_place if k >= 0}
        for i, x in enumerate(args):
            arr, was_torch = self._input(i, x)
            if i in updated:
                arr = self._updatable(arr)
            inputs.append(arr)
            as_torch = as_torch or bool(was_torch)
            if was_torch == "cuda" and on_gpu is None:
                on_gpu = arr.tensor.device
        poison = os.environ.get("SEQC_POISON_OUTPUTS", "") not in ("", "0")
        backend = self._module._backend
        if self._module.target == "cuda":
            # Kernels run on the current torch stream of the inputs' device
            # (the legacy default stream for NumPy inputs).
            stream = 0
            if on_gpu is not None:
                import torch
                stream = current_raw_stream(torch, on_gpu)
            backend.set_stream(stream)
        if on_gpu is not None and out is None:
            import torch
            outputs = []
            for j, (code, shape) in enumerate(self.results):
                if self.in_place[j] >= 0:
                    outputs.append(self._to_device(inputs[self.in_place[j]],
                                                   on_gpu))
                    inputs[self.in_place[j]] = outputs[-1]
                    continue
                t = torch.empty(shape, dtype=torch_dtype(code), device=on_gpu)
                if poison and t.is_floating_point():
                    t.fill_(float("nan"))
                outputs.append(DeviceArray(t))
            backend.invoke(self.name, inputs + outputs)
            result = [o.tensor for o in outputs]
            return result[0] if len(result) == 1 else tuple(result)
        if out is not None:
            outputs = self._check_out(out, inputs)
            if poison:
                for j, o in enumerate(outputs):
                    if self.in_place[j] < 0:
                        _poison(o)
            self._module._backend.invoke(self.name, inputs + outputs)
            return outputs[0] if len(outputs) == 1 else tuple(outputs)
        outputs = []
        for j, (code, shape) in enumerate(self.results):
            if self.in_place[j] >= 0:
                outputs.append(inputs[self.in_place[j]])
                continue
            if any(s < 0 for s in shape):
                raise ValueError("result %d of @%s has a dynamic shape %s; "
                                 "results must have static shapes to be "
                                 "called from Python"
                                 % (j + 1, self.name, _shape_text(shape)))
            out = np.empty(shape, dtype=numpy_dtype(code))
            if poison:
                _poison(out)
            outputs.append(out)
        self._module._backend.invoke(self.name, inputs + outputs)
        outputs = from_numpy_like(outputs, as_torch,
                                  [code for code, _ in self.results])
        return outputs[0] if len(outputs) == 1 else tuple(outputs)


def _check_out_array(fn, j, arr, code, shape):
    what = "out[%d] (result %d of @%s)" % (j, j + 1, fn.name)
    if not isinstance(arr, np.ndarray):
        raise TypeError("%s: expected a NumPy array, got %s"
                        % (what, type(arr).__name__))
    if _NP_TO_SEQC.get(arr.dtype) != code:
        raise TypeError("%s: expected dtype %s, got %s"
                        % (what, _dtype_name(code), arr.dtype))
    if tuple(arr.shape) != tuple(shape):
        raise ValueError("%s: expected shape %s, got %s"
                         % (what, _shape_text(shape), _shape_text(arr.shape)))
    if not arr.flags.c_contiguous or not arr.flags.writeable:
        raise ValueError("%s: must be C-contiguous and writeable" % what)
    return arr


class Module:
    """A compiled seqc module. Each public function is an attribute
    (``module.main``) and an item (``module["main"]``)."""

    def __init__(self, backend, source=None, origin=None):
        self._backend = backend
        self._functions = {}
        self.origin = origin
        self._names = argument_names(source) if source else {}
        self._function_names = backend.function_names()
        #: "cpu" or "cuda": where the functions run.
        self.target = backend.target()

    @property
    def functions(self):
        """Names of the public functions."""
        return list(self._function_names)

    def __getitem__(self, name):
        fn = self._functions.get(name)
        if fn is None:
            if name not in self._function_names:
                raise KeyError("module has no public function @%s (it has: %s)"
                               % (name, ", ".join("@" + n for n in
                                                   self._function_names)
                                  or "none"))
            fn = Function(self, name, self._names.get(name))
            self._functions[name] = fn
        return fn

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError as e:
            raise AttributeError(e.args[0]) from None

    def __contains__(self, name):
        return name in self._function_names

    def __iter__(self):
        return iter(self.functions)

    def __len__(self):
        return len(self._function_names)

    def __dir__(self):
        return sorted(set(super().__dir__()) |
                      {n for n in self._function_names if n.isidentifier()})

    def __repr__(self):
        return "<seqc.Module%s: %s>" % (
            " from %s" % self.origin if self.origin else "",
            ", ".join("@" + n for n in self._function_names))

    def close(self):
        """Releases the module now (it is also released when collected)."""
        backend, self._backend = getattr(self, "_backend", None), None
        if backend is not None:
            backend.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


class _CAPIBackend:
    """A module held by the C API (compiled by seqc_compile or seqc_load)."""

    def __init__(self, handle):
        self._handle = handle
        self._signatures = {}

    def function_names(self):
        lib = _capi.lib()
        names = []
        for i in range(lib.seqc_num_functions(self._handle)):
            raw = lib.seqc_function_name(self._handle, i)
            names.append(raw.decode() if raw is not None else "")
        return names

    def signature(self, name):
        cached = self._signatures.get(name)
        if cached is None:
            cached = self._signatures[name] = self._read_signature(name)
        return cached

    def _read_signature(self, name):
        lib = _capi.lib()
        cname = name.encode()
        n_in, n_out = ctypes.c_int64(), ctypes.c_int64()
        _capi.check(lib.seqc_function_arity(self._handle, cname,
                                            ctypes.byref(n_in),
                                            ctypes.byref(n_out)),
                    "@%s" % name)
        sig = []
        for i in range(n_in.value + n_out.value):
            dtype, rank = ctypes.c_int(), ctypes.c_int64()
            shape = ctypes.POINTER(ctypes.c_int64)()
            _capi.check(lib.seqc_function_arg(self._handle, cname, i,
                                              ctypes.byref(dtype),
                                              ctypes.byref(rank),
                                              ctypes.byref(shape)),
                        "@%s argument %d" % (name, i + 1))
            sig.append((dtype.value, tuple(shape[d] for d in range(rank.value))))
        return sig[:n_in.value], sig[n_in.value:]

    def in_place(self, name):
        """For each result: the input it is written into (seq.in_place), or
        -1."""
        lib = _capi.lib()
        _, results = self.signature(name)
        out = []
        for j in range(len(results)):
            k = ctypes.c_int64()
            _capi.check(lib.seqc_function_in_place(self._handle, name.encode(),
                                                   j, ctypes.byref(k)),
                        "@%s result %d" % (name, j + 1))
            out.append(k.value)
        return out

    def invoke(self, name, arrays):
        inputs, results = self.signature(name)
        codes = [code for code, _ in inputs + results]
        buffers = _Buffers(arrays, codes if len(codes) == len(arrays) else None)
        _capi.check(_capi.lib().seqc_invoke(self._handle, name.encode(),
                                            buffers.structs, len(arrays)),
                    "@%s" % name)

    def invoke_buffers(self, name, cname, structs, count):
        """seqc_invoke on seqc_buffer structs the caller filled in."""
        _capi.check(_capi.lib().seqc_invoke(self._handle, cname, structs,
                                            count), "@%s" % name)

    def target(self):
        return (_capi.lib().seqc_module_target(self._handle) or b"cpu").decode()

    def set_stream(self, stream):
        _capi.lib().seqc_cuda_set_stream(stream or None)

    def close(self):
        handle, self._handle = self._handle, None
        if handle:
            _capi.lib().seqc_module_destroy(handle)


_DTYPE_CODES = {name: code for code, name in _capi.DTYPE_NAMES.items()}


class _LibraryBackend:
    """A shared library written by ``seqc model.mlir -o model.so``, called
    through ctypes alone: neither LLVM nor the seqc C library is loaded.

    The library holds ``_seqc_signatures`` (one ``name:f32[2,3];...->...``
    line per function) and ``_seqc_packed_<name>(void **descriptors)``, which
    takes a pointer to each argument's memref descriptor
    ``{allocated, aligned, offset, sizes[r], strides[r]}``.
    """

    def __init__(self, path):
        try:
            self._lib = ctypes.CDLL(path, mode=ctypes.RTLD_LOCAL)
        except OSError as e:
            raise SeqcError("cannot load '%s': %s" % (path, e)) from None
        try:
            table = ctypes.c_char.in_dll(self._lib, "_seqc_signatures")
        except ValueError:
            raise SeqcError("'%s' is not a seqc module (it has no "
                            "_seqc_signatures)" % path) from None
        self._signatures = {}
        self._in_place = {}
        text = ctypes.string_at(ctypes.addressof(table)).decode()
        for line in filter(None, text.split("\n")):
            name, _, types = line.partition(":")
            ins, _, outs = types.partition("->")
            outs = [t for t in outs.split(";") if t]
            # `f32[2,3]@k`: the result is written into input k.
            self._in_place[name] = [int(t.partition("@")[2] or -1)
                                    for t in outs]
            self._signatures[name] = ([self._spec(t) for t in ins.split(";") if t],
                                      [self._spec(t.partition("@")[0])
                                       for t in outs])
        # CUDA modules carry seqc's CUDA runtime; its entry points stage host
        # arrays and report errors.
        self._cuda = hasattr(self._lib, "seqcCudaTakeError")
        if self._cuda:
            rt = self._lib
            rt.seqcCudaTakeError.restype = ctypes.c_char_p
            rt.seqcCudaAlloc.restype = ctypes.c_void_p
            rt.seqcCudaAlloc.argtypes = [ctypes.c_size_t]
            rt.seqcCudaFree.argtypes = [ctypes.c_void_p]
            rt.seqcCudaCopy.argtypes = [ctypes.c_void_p, ctypes.c_void_p,
                                        ctypes.c_size_t, ctypes.c_int]
            rt.seqcCudaSetStream.argtypes = [ctypes.c_void_p]
            # Its constructors loaded the kernels, or recorded why not.
            error = rt.seqcCudaTakeError()
            if error:
                raise SeqcError("loading '%s': %s" % (path, error.decode()))
        # A CPU module's allocation hooks (lib/Runtime/HostRuntime.c): the
        # size of this thread's failed allocation, cleared when read.
        self._take_alloc_failure = getattr(self._lib,
                                           "seqcHostTakeAllocFailure", None)
        if self._take_alloc_failure is not None:
            self._take_alloc_failure.restype = ctypes.c_int64
            self._take_alloc_failure.argtypes = []
        self._entries = {}
        for name in self._signatures:
            entry = getattr(self._lib, "_seqc_packed_" + name, None)
            if entry is None:
                raise SeqcError("'%s' has no entry point for @%s" % (path, name))
            entry.argtypes = [ctypes.c_void_p]
            entry.restype = None
            self._entries[name] = entry

    @staticmethod
    def _spec(text):
        dtype, _, dims = text.partition("[")
        shape = tuple(int(d) for d in dims.rstrip("]").split(",") if d)
        return _DTYPE_CODES[dtype], shape

    def function_names(self):
        return list(self._signatures)

    def signature(self, name):
        return self._signatures[name]

    def in_place(self, name):
        return self._in_place[name]

    def target(self):
        return "cuda" if self._cuda else "cpu"

    def set_stream(self, stream):
        if self._cuda:
            self._lib.seqcCudaSetStream(stream or None)

    def invoke(self, name, arrays):
        # Function.__call__ has checked every input against the signature
        # and allocated the outputs; here only the descriptors are built.
        # Compiled code takes inputs with a unit innermost stride (the
        # outputs are allocated contiguous by the caller).
        n_inputs = len(self._signatures[name][0])
        in_place = self._in_place[name]
        updated = {k for k in in_place if k >= 0}
        for i, a in enumerate(arrays):
            if isinstance(a, DeviceArray):
                if not self._cuda:
                    raise SeqcError("@%s: argument #%d is CUDA device memory, "
                                    "but the module was compiled for the cpu "
                                    "target" % (name, i + 1))
                contiguous = (a.ndim == 0 or a.shape[-1] <= 1 or
                              a.strides[-1] == a.itemsize)
                if not contiguous or (i >= n_inputs and
                                      not a.tensor.is_contiguous()):
                    raise SeqcError("@%s: argument #%d must be contiguous on "
                                    "the device" % (name, i + 1))
        arrays = [a if isinstance(a, DeviceArray) else
                  np.ascontiguousarray(a)
                  if a.ndim and a.shape[-1] > 1 and a.strides[-1] != a.itemsize
                  or (self._cuda and not a.flags.c_contiguous)
                  else a for a in arrays]
        staged = []
        try:
            pointers_of = []
            for i, arr in enumerate(arrays):
                if isinstance(arr, DeviceArray) or not self._cuda:
                    pointers_of.append(arr.ptr if isinstance(arr, DeviceArray)
                                       else arr.ctypes.data)
                    continue
                # Host memory for a CUDA module: a device copy.
                if i >= n_inputs and in_place[i - n_inputs] >= 0:
                    # Written into its input's (staged) buffer.
                    pointers_of.append(pointers_of[in_place[i - n_inputs]])
                    continue
                ptr = self._lib.seqcCudaAlloc(max(arr.nbytes, 1))
                if not ptr:
                    self._raise(name)
                staged.append((ptr, i))
                if i < n_inputs and arr.nbytes and not self._lib.seqcCudaCopy(
                        ptr, arr.ctypes.data, arr.nbytes, 0):
                    self._raise(name)
                pointers_of.append(ptr)
            descriptors = []
            for arr, ptr in zip(arrays, pointers_of):
                fields = [ptr, ptr, 0] + list(arr.shape) + [
                    s // arr.itemsize for s in arr.strides]
                descriptors.append((ctypes.c_int64 * len(fields))(*fields))
            pointers = (ctypes.c_void_p * max(len(arrays), 1))(
                *[ctypes.addressof(d) for d in descriptors])
            take = self._take_alloc_failure
            if take is not None:
                take()  # a failure left by code not called through here
            self._entries[name](pointers)
            failed = take() if take is not None else 0
            if failed:
                raise SeqcError("@%s: out of memory: allocating %d bytes "
                                "failed, so the call stopped (its results "
                                "are not valid)" % (name, failed))
            if self._cuda:
                # On device memory alone a call is asynchronous on its
                # stream, as torch's ops are: launch errors are raised
                # here, faults while a kernel runs at the next
                # synchronization. Host arrays (copied back below) and
                # SEQC_CUDA_SYNC=1 or CUDA_LAUNCH_BLOCKING=1 wait.
                if staged or _cuda_sync_calls():
                    self._lib.seqcCudaSynchronize()
                self._raise(name, only_if_error=True)
                for ptr, i in staged:
                    back = (i in updated) if i < n_inputs else True
                    if back and arrays[i].nbytes and \
                            not self._lib.seqcCudaCopy(arrays[i].ctypes.data,
                                                       ptr, arrays[i].nbytes, 1):
                        self._raise(name)
        finally:
            for ptr, _ in staged:
                self._lib.seqcCudaFree(ptr)

    def _raise(self, name, only_if_error=False):
        error = self._lib.seqcCudaTakeError()
        if error or not only_if_error:
            raise SeqcError("@%s: %s" % (name, (error or b"CUDA error").decode()))

    def close(self):
        self._lib = None


def _read_source(text_or_path):
    if isinstance(text_or_path, bytes):
        return text_or_path.decode("utf-8"), None
    if isinstance(text_or_path, os.PathLike):
        path = os.fspath(text_or_path)
        with open(path, "r", encoding="utf-8") as f:
            return f.read(), path
    if not isinstance(text_or_path, str):
        raise TypeError("seqc.compile expects MLIR text or a path, got %s"
                        % type(text_or_path).__name__)
    s = text_or_path
    if "\n" not in s and len(s) < 4096:
        if os.path.isfile(s):
            with open(s, "r", encoding="utf-8") as f:
                return f.read(), s
        if s.strip().endswith(".mlir") and not any(c in s for c in "{}%"):
            raise FileNotFoundError("no such MLIR file: %s" % s)
    return s, None


def _options(target, options):
    if target not in TARGETS:
        raise ValueError("target must be one of %s, got %r"
                         % (", ".join(TARGETS), target))
    if target == "auto":
        target = "cuda" if cuda_available()[0] else "cpu"
    parts = ["target=%s" % target]
    # SEQC_BOUNDS_CHECK=1 (testing): CPU code checks every memory access.
    if target == "cpu" and os.environ.get("SEQC_BOUNDS_CHECK", "") not in ("", "0"):
        parts.append("bounds-check=1")
    if options:
        if isinstance(options, dict):
            parts += ["%s=%s" % kv for kv in options.items()]
        else:
            parts.append(str(options))
    return " ".join(parts)


def compile(text_or_path, target="auto", options=None):
    """Compiles MLIR text (or the MLIR file at a path) into a Module.

    ``target``: "auto" (CUDA when a GPU answers, else the CPU), "cpu" or
    "cuda". CUDA modules take torch CUDA tensors (zero copy, on the current
    stream) and return them; NumPy inputs are copied to the device and
    results back. ``options``: extra
    ``key=value`` compile options (a string or a dict), appended to
    ``target=...``. Raises SeqcError with the compiler's located diagnostics.
    """
    source, path = _read_source(text_or_path)
    opts = _options(target, options)
    lib = _capi.lib()
    data = source.encode("utf-8")
    handle = ctypes.c_void_p()
    _capi.check(lib.seqc_compile(data, len(data), opts.encode(),
                                 ctypes.byref(handle)),
                "seqc.compile failed")
    return Module(_CAPIBackend(handle), source=source, origin=path)


def load(path):
    """Loads a module compiled ahead of time (``seqc model.mlir -o model.so``).

    The library is called through ctypes directly: loading and running it
    needs neither LLVM nor the seqc C library.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError("no such seqc module: %s" % path)
    return Module(_LibraryBackend(os.path.abspath(path)), origin=path)
