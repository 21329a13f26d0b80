"""ctypes binding of the seqc C API (include/seqc-c/Seqc.h).

The shared library is found, in order, at:

1. the path in the environment variable ``SEQC_LIBRARY``;
2. ``<repository>/build/lib/libseqc_c.so`` (a development build: this file is
   ``<repository>/python/seqc/_capi.py``);
3. ``libseqc.so`` next to the package (the self-contained static
   distribution): inside the package folder, or beside it.

Nothing is loaded at import time; :func:`lib` loads the library on first use
and raises :class:`SeqcError` saying where it looked when it is missing.
"""

import ctypes
import os
import threading

__all__ = [
    "SeqcError", "SeqcBuffer", "lib", "library_path", "candidate_paths",
    "check", "last_error",
    "SEQC_OK", "SEQC_ERROR",
    "SEQC_F32", "SEQC_F64", "SEQC_F16", "SEQC_BF16",
    "SEQC_I32", "SEQC_I64", "SEQC_I8", "SEQC_I1", "DTYPE_NAMES",
]


class SeqcError(RuntimeError):
    """An error reported by the seqc library (or the library is missing).

    ``message`` holds the text of ``seqc_last_error()`` (the compiler's
    located diagnostics for a failed compilation); ``context`` says which
    call failed ("seqc.compile failed", "@main", ...); ``str()`` shows both.
    """

    def __init__(self, message, context=None):
        super().__init__("%s: %s" % (context, message) if context else message)
        self.message = message
        self.context = context


# enum seqc_status
SEQC_OK = 0
SEQC_ERROR = 1

# enum seqc_dtype
SEQC_F32 = 0
SEQC_F64 = 1
SEQC_F16 = 2
SEQC_BF16 = 3
SEQC_I32 = 4
SEQC_I64 = 5
SEQC_I8 = 6
SEQC_I1 = 7

DTYPE_NAMES = {
    SEQC_F32: "f32", SEQC_F64: "f64", SEQC_F16: "f16", SEQC_BF16: "bf16",
    SEQC_I32: "i32", SEQC_I64: "i64", SEQC_I8: "i8", SEQC_I1: "i1",
}

_c_dtype = ctypes.c_int          # C enums are int-sized on every supported ABI
_c_status = ctypes.c_int
_c_module = ctypes.c_void_p
_p_int64 = ctypes.POINTER(ctypes.c_int64)


class SeqcBuffer(ctypes.Structure):
    """``struct seqc_buffer``: a strided view, strides in elements."""

    _fields_ = [
        ("data", ctypes.c_void_p),
        ("dtype", _c_dtype),
        ("rank", ctypes.c_int64),
        ("shape", _p_int64),
        ("strides", _p_int64),
        ("device", ctypes.c_int32),
    ]


# name: (restype, argtypes) for every function of Seqc.h
_SIGNATURES = {
    "seqc_last_error": (ctypes.c_char_p, []),
    "seqc_dtype_size": (ctypes.c_size_t, [_c_dtype]),
    "seqc_compile": (_c_status, [ctypes.c_char_p, ctypes.c_size_t,
                                 ctypes.c_char_p, ctypes.POINTER(_c_module)]),
    "seqc_load": (_c_status, [ctypes.c_char_p, ctypes.POINTER(_c_module)]),
    "seqc_module_destroy": (None, [_c_module]),
    "seqc_num_functions": (ctypes.c_int64, [_c_module]),
    "seqc_function_name": (ctypes.c_char_p, [_c_module, ctypes.c_int64]),
    "seqc_function_arity": (_c_status, [_c_module, ctypes.c_char_p,
                                        _p_int64, _p_int64]),
    "seqc_function_arg": (_c_status, [_c_module, ctypes.c_char_p,
                                      ctypes.c_int64, ctypes.POINTER(_c_dtype),
                                      _p_int64, ctypes.POINTER(_p_int64)]),
    "seqc_function_in_place": (_c_status, [_c_module, ctypes.c_char_p,
                                           ctypes.c_int64, _p_int64]),
    "seqc_invoke": (_c_status, [_c_module, ctypes.c_char_p,
                                ctypes.POINTER(SeqcBuffer), ctypes.c_int64]),
    "seqc_module_target": (ctypes.c_char_p, [_c_module]),
    "seqc_weights_open": (_c_status, [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]),
    "seqc_weights_close": (None, [ctypes.c_void_p]),
    "seqc_weights_count": (ctypes.c_int64, [ctypes.c_void_p]),
    "seqc_weights_name": (ctypes.c_char_p, [ctypes.c_void_p, ctypes.c_int64]),
    "seqc_weights_metadata": (ctypes.c_char_p, [ctypes.c_void_p, ctypes.c_char_p]),
    "seqc_weights_get": (_c_status, [ctypes.c_void_p, ctypes.c_char_p, _c_dtype,
                                     ctypes.c_int64, _p_int64,
                                     ctypes.POINTER(SeqcBuffer)]),
    "seqc_cuda_available": (ctypes.c_int, [ctypes.POINTER(ctypes.c_char_p)]),
    "seqc_cuda_device_name": (ctypes.c_char_p, []),
    "seqc_cuda_set_stream": (None, [ctypes.c_void_p]),
}

SEQC_HOST, SEQC_CUDA, SEQC_CUDA_CHECKED = 0, 1, 2

_lock = threading.Lock()
_lib = None
_lib_path = None


def candidate_paths():
    """The paths tried, in order (the environment override first)."""
    env = os.environ.get("SEQC_LIBRARY")
    if env:
        return [env]
    here = os.path.dirname(os.path.abspath(__file__))
    return [
        os.path.normpath(os.path.join(here, "..", "..", "build", "lib",
                                      "libseqc_c.so")),
        os.path.join(here, "libseqc.so"),
        os.path.normpath(os.path.join(here, "..", "libseqc.so")),
    ]


def _declare(handle):
    for name, (restype, argtypes) in _SIGNATURES.items():
        try:
            fn = getattr(handle, name)
        except AttributeError:
            raise SeqcError("the seqc library at %s does not export %s"
                            % (_lib_path, name)) from None
        fn.restype = restype
        fn.argtypes = argtypes


def lib():
    """The loaded library (a ``ctypes.CDLL``), loading it on first use."""
    global _lib, _lib_path
    if _lib is not None:
        return _lib
    with _lock:
        if _lib is not None:
            return _lib
        paths = candidate_paths()
        from_env = bool(os.environ.get("SEQC_LIBRARY"))
        for path in paths:
            if not os.path.exists(path):
                continue
            try:
                handle = ctypes.CDLL(path)
            except OSError as e:
                raise SeqcError("cannot load the seqc library %s: %s"
                                % (path, e)) from None
            _lib_path = path
            _declare(handle)
            _lib = handle
            return _lib
        if from_env:
            raise SeqcError("the seqc library named by SEQC_LIBRARY does not "
                            "exist: %s" % paths[0])
        raise SeqcError(
            "the seqc library was not found; looked for %s. Build "
            "build/lib/libseqc_c.so or set SEQC_LIBRARY to its path"
            % ", ".join(paths))


def library_path():
    """Path of the loaded library (loading it if needed)."""
    lib()
    return _lib_path


def available():
    """True when the library can be loaded."""
    try:
        lib()
        return True
    except SeqcError:
        return False


def last_error():
    text = lib().seqc_last_error()
    return text.decode("utf-8", "replace") if text else ""


def check(status, what):
    """Raises SeqcError with seqc_last_error() when ``status`` is not OK."""
    if status != SEQC_OK:
        raise SeqcError(last_error() or "unknown error", what)
