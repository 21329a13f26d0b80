"""Functional ops: one `seq` op each, compiled on first use per signature.

Each op builds the MLIR text of a ``func.func @main`` holding the one op
(static shapes from the arguments), compiles it with :func:`seqc.compile`
and caches the module by (op, shapes, dtypes, attributes). Arguments are
validated here first: errors name the op and the argument.

Inputs may be NumPy arrays, torch CPU tensors or DLPack producers; results are
NumPy arrays, or torch tensors when any input was a torch tensor. Float
operands may be float32, float16 or bf16: bf16 as a torch bfloat16 tensor or
as its bit patterns in a uint16 array (:func:`seqc.to_bf16_bits`), and bf16
results come back in the same form.
:func:`mlir_text` returns the text an op would compile, without compiling.
"""

import math
import operator
import threading

import numpy as np

from . import _core

__all__ = [
    "attention", "linear_recurrence", "selective_scan",
    "gated_linear_attention", "causal_conv1d", "rms_norm", "rope", "scan",
    "mlir_text", "clear_cache", "cache_size",
]

_F32, _F16, _F64 = np.dtype(np.float32), np.dtype(np.float16), np.dtype(np.float64)
_I8, _I32, _I64 = np.dtype(np.int8), np.dtype(np.int32), np.dtype(np.int64)

# bf16 travels as its bit patterns in uint16 arrays (NumPy has no bfloat16);
# torch bfloat16 tensors arrive in that form from _core.to_numpy.
_BF16 = _core._BF16_BITS

# Storage types of the seq float operands, and of index-like operands.
_FLOAT = {_F32: "f32", _F16: "f16", _BF16: "bf16"}
_INT = {_I32: "i32", _I64: "i64"}
# Element types a scan accepts (signless integers and floats).
_SCAN = {_F32: "f32", _F16: "f16", _F64: "f64", _I8: "i8", _I32: "i32",
         _I64: "i64"}
_MLIR = dict(_SCAN)
_MLIR[_BF16] = "bf16"


def _dtype_name(dtype):
    return "bfloat16 (uint16 bits)" if dtype == _BF16 else dtype.name

_cache = {}
_cache_lock = threading.Lock()
# Calls on torch CUDA tensors alone, by (their types, dtypes, shapes,
# devices, the op's other arguments): the compiled function an earlier
# call of that key ran, so a repeat skips the argument checks and the plan
# (each of which depended only on the key).
_tensor_calls = {}


def clear_cache():
    """Drops every cached module."""
    with _cache_lock:
        _cache.clear()
        _tensor_calls.clear()


def cache_size():
    """Number of cached modules (one per distinct signature)."""
    return len(_cache)


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

def _tensor(shape, dtype):
    elt = _MLIR[np.dtype(dtype)] if not isinstance(dtype, str) else dtype
    return "tensor<%s>" % "x".join([str(d) for d in shape] + [elt])


def _f32_literal(value):
    """An exact, MLIR-parsable float literal (repr, with a '.' before any
    exponent: MLIR reads '1e-06' as an integer)."""
    text = repr(float(value))
    mantissa, e, exponent = text.partition("e")
    if "." not in mantissa:
        mantissa += ".0"
    return mantissa + e + exponent


def _fmt_shape(shape):
    return str(tuple(int(s) for s in shape))


class _Call:
    """Collects the converted inputs of one op call and builds its plan."""

    def __init__(self, op):
        self.op = op
        self.names = []     # function argument names, in order
        self.arrays = []    # the arrays passed, in order
        self.torch = False
        self.cuda = False   # any argument a torch CUDA tensor

    def error(self, kind, message):
        return kind("seqc.%s: %s" % (self.op, message))

    def array(self, x, name, allowed, kind="float"):
        """x as an ndarray whose dtype is in ``allowed`` (no conversion of
        arrays; Python lists and scalars become the first allowed dtype)."""
        if x is None:
            raise self.error(TypeError, "%s must be an array, got None" % name)
        if _core.is_cuda_tensor(x):
            # Runs on the GPU: compiled for target=cuda, no copies.
            arr = _core.DeviceArray(x)
            self.cuda = True
            self.torch = True
            if arr.dtype not in allowed:
                names = " or ".join(_dtype_name(d) for d in allowed)
                raise self.error(TypeError, "%s must have dtype %s, got %s"
                                 % (name, names, arr.tensor.dtype))
            return arr
        arr, was_torch = _core.to_numpy(x, "seqc.%s: %s" % (self.op, name))
        self.torch = self.torch or was_torch
        if not isinstance(arr, np.ndarray):
            probe = np.asarray(arr)
            if probe.dtype.kind not in "biuf":
                raise self.error(TypeError, "%s must be an array of %s "
                                 "numbers, got %s" % (name, kind,
                                                      type(x).__name__))
            floats = [d for d in allowed if d.kind == "f"]
            ints = [d for d in allowed if d.kind == "i"]
            if probe.dtype.kind in "biu" and ints:
                arr = probe.astype(_I64 if _I64 in ints else ints[0])
            elif probe.dtype.kind != "f" and floats:
                arr = probe.astype(floats[0])
            elif probe.dtype.kind == "f" and floats:
                arr = probe.astype(floats[0])
            else:
                arr = probe  # rejected below with the dtype it has
        if arr.dtype.byteorder not in "=|":
            arr = arr.astype(arr.dtype.newbyteorder("="))
        if arr.dtype not in allowed:
            names = " or ".join(_dtype_name(d) for d in allowed)
            hint = ""
            if kind == "float" and arr.dtype.kind == "f":
                hint = " (cast with .astype(np.float32))"
            raise self.error(TypeError, "%s must have dtype %s, got %s%s"
                             % (name, names, arr.dtype, hint))
        return arr

    def rank(self, arr, name, ranks, layout):
        ranks = (ranks,) if isinstance(ranks, int) else tuple(ranks)
        if arr.ndim not in ranks:
            raise self.error(ValueError, "%s must have rank %s (%s), got rank "
                             "%d with shape %s"
                             % (name, " or ".join(map(str, ranks)), layout,
                                arr.ndim, _fmt_shape(arr.shape)))

    def size(self, what, a, aname, i, b, bname, j):
        if a.shape[i] != b.shape[j]:
            raise self.error(ValueError, "%s %s (%d) does not match %s %s (%d)"
                             % (aname, what, a.shape[i], bname, what,
                                b.shape[j]))

    def shape(self, arr, name, expected, layout):
        if tuple(arr.shape) != tuple(expected):
            raise self.error(ValueError, "%s must have shape %s %s, got %s"
                             % (name, layout, _fmt_shape(expected),
                                _fmt_shape(arr.shape)))

    def same_dtype(self, arr, name, ref, refname):
        if arr.dtype != ref.dtype:
            raise self.error(TypeError, "%s must have %s's dtype %s, got %s"
                             % (name, refname, ref.dtype, arr.dtype))

    def flag(self, value, name):
        if not isinstance(value, (bool, np.bool_)):
            raise self.error(TypeError, "%s must be a bool, got %r"
                             % (name, value))
        return bool(value)

    def float_attr(self, value, name, positive=False, nonnegative=False):
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise self.error(TypeError, "%s must be a number, got %r"
                             % (name, value)) from None
        if isinstance(value, (bool, np.bool_)):
            raise self.error(TypeError, "%s must be a number, got %r"
                             % (name, value))
        f32 = float(np.float32(v)) if math.isfinite(v) and abs(v) <= 3.4028234663852886e38 else math.inf
        if not math.isfinite(v) or not math.isfinite(f32):
            raise self.error(ValueError, "%s must be finite (as f32), got %r"
                             % (name, value))
        if positive and not f32 > 0:
            raise self.error(ValueError, "%s must be positive, got %r"
                             % (name, value))
        if nonnegative and v < 0:
            raise self.error(ValueError, "%s must be non-negative, got %r"
                             % (name, value))
        return v

    def dim(self, dim, rank, name="dim"):
        try:
            d = operator.index(dim)
        except TypeError:
            raise self.error(TypeError, "%s must be an int, got %r"
                             % (name, dim)) from None
        if not -rank <= d < rank:
            raise self.error(ValueError, "%s %d is out of range for rank %d"
                             % (name, d, rank))
        return d % rank

    def add(self, name, arr):
        self.names.append(name)
        self.arrays.append(arr)
        return "%" + name

    def signature(self):
        return (("cuda" if self.cuda else "cpu"),) + tuple(
            (a.shape, a.dtype.str) for a in self.arrays)


def _func(call, results, body, result_values):
    """func.func @main over the call's arguments."""
    args = ", ".join("%%%s: %s" % (n, _tensor(a.shape, a.dtype))
                     for n, a in zip(call.names, call.arrays))
    rtypes = ", ".join(results)
    if len(results) != 1:
        rtypes = "(%s)" % rtypes
    return ("func.func @main(%s) -> %s {\n%s\n  return %s : %s\n}\n"
            % (args, rtypes, body, ", ".join(result_values),
               ", ".join(results)))


def _attr_dict(parts):
    return " {%s}" % ", ".join(parts) if parts else ""


class _Plan:
    def __init__(self, call, attrs, text, result_count):
        self.call = call
        self.key = (call.op, call.signature(), attrs)
        self.text = text            # callable -> MLIR text
        self.result_count = result_count


def _tensor_key(tensors, rest):
    """The _tensor_calls key of a call whose array arguments are
    `tensors`, or None unless they are all torch CUDA tensors: `rest`, then
    each tensor's dtype, shape and device index."""
    tensor = _core.torch_tensor_type()
    if tensor is None:
        return None
    key = [rest]
    for t in tensors:
        # Plain torch.Tensor only (a subclass takes the general path).
        if type(t) is not tensor or not t.is_cuda:
            return None
        key += (t.dtype, t.shape, t.get_device())
    return tuple(key)


def _repeat(entry, args):
    """A repeat of a call found in _tensor_calls: its compiled function on
    `args` (their types, dtypes, shapes and devices are the key's), by the
    function's keyed runner where it has one."""
    run, fn = entry
    out = run(args) if run is not None else None
    return out if out is not None else fn(*args)


def _execute(plan, tensor_key=None):
    call = plan.call
    if call.cuda:
        # Host operands of a GPU call (small ones passed from the host, or
        # the identities and broadcasts the op made) go to the device too.
        device = next(a.tensor.device for a in call.arrays
                      if isinstance(a, _core.DeviceArray))
        call.arrays = [a if isinstance(a, _core.DeviceArray)
                       else _core.to_device_array(a, device)
                       for a in call.arrays]
    module = _cache.get(plan.key)
    if module is None:
        module = _core.compile(plan.text(),
                               target="cuda" if call.cuda else "cpu")
        with _cache_lock:
            module = _cache.setdefault(plan.key, module)
    fn = module["main"]
    if fn.arg_names is None:
        fn.arg_names = list(plan.call.names)
    out = fn(*plan.call.arrays)
    if (tensor_key is not None and
            3 * len(plan.call.arrays) == len(tensor_key) - 1):
        # The op passes the caller's arrays alone, in order: a repeat of
        # the key can call fn on them directly, and where they are on one
        # device and fn has its fast path, by a runner that skips the
        # checks the key made.
        devices = set(tensor_key[3::3])
        run = None
        if len(devices) == 1:
            run = fn._runner(devices.pop(),
                             plan.call.arrays[0].tensor.device)
        _tensor_calls[tensor_key] = (run, fn)
    out = out if isinstance(out, tuple) else (out,)
    if plan.call.torch and not plan.call.cuda:
        out = tuple(_core.from_numpy_like(
            list(out), True, [code for code, _ in fn.results]))
    return out


# ---------------------------------------------------------------------------
# attention
# ---------------------------------------------------------------------------

def _attention_plan(q, k, v, causal=False, window=(-1, -1), scale=None,
                    softcap=None, kv_lengths=None, q_segment_ids=None,
                    kv_segment_ids=None, return_lse=False):
    c = _Call("attention")
    q = c.array(q, "q", _FLOAT)
    k = c.array(k, "k", _FLOAT)
    v = c.array(v, "v", _FLOAT)
    c.rank(q, "q", 4, "[B, Hq, Sq, D]")
    c.rank(k, "k", 4, "[B, Hkv, Skv, D]")
    c.rank(v, "v", 4, "[B, Hkv, Skv, Dv]")
    c.same_dtype(k, "k", q, "q")
    c.same_dtype(v, "v", q, "q")
    c.size("batch size", k, "k", 0, q, "q", 0)
    c.size("batch size", v, "v", 0, q, "q", 0)
    c.size("heads", v, "v", 1, k, "k", 1)
    c.size("head dim", k, "k", 3, q, "q", 3)
    c.size("sequence length", v, "v", 2, k, "k", 2)
    B, Hq, Sq, D = q.shape
    Hkv, Skv, Dv = k.shape[1], k.shape[2], v.shape[3]
    if Hkv == 0 or Hq % Hkv:
        raise c.error(ValueError, "q heads (%d) must be a multiple of k/v "
                      "heads (%d)" % (Hq, Hkv))
    causal = c.flag(causal, "causal")
    return_lse = c.flag(return_lse, "return_lse")
    if window is None:
        window = (-1, -1)
    try:
        window = tuple(operator.index(w) for w in window)
    except TypeError:
        raise c.error(TypeError, "window must be a pair of ints (left, right), "
                      "got %r" % (window,)) from None
    if len(window) != 2 or any(w < -1 for w in window):
        raise c.error(ValueError, "window must be (left, right), each -1 "
                      "(unbounded) or >= 0, got %r" % (window,))
    parts = []
    if causal:
        parts.append("causal")
    if window != (-1, -1):
        parts.append("window = array<i64: %d, %d>" % window)
    if scale is not None:
        scale = c.float_attr(scale, "scale")
        parts.append("scale = %s : f32" % _f32_literal(scale))
    if softcap is not None:
        softcap = c.float_attr(softcap, "softcap", positive=True)
        parts.append("softcap = %s : f32" % _f32_literal(softcap))

    c.add("q", q), c.add("k", k), c.add("v", v)
    operands = ""
    if kv_lengths is not None:
        kl = c.array(kv_lengths, "kv_lengths", _INT, kind="integer")
        c.shape(kl, "kv_lengths", (B,), "[B]")
        if kl.size and (kl.min() < 0 or kl.max() > Skv):
            raise c.error(ValueError, "kv_lengths must lie in [0, Skv=%d], "
                          "got %s" % (Skv, kl.tolist()))
        operands += " kv_lengths(%s : %s)" % (c.add("kv_lengths", kl),
                                               _tensor(kl.shape, kl.dtype))
    if (q_segment_ids is None) != (kv_segment_ids is None):
        raise c.error(ValueError, "q_segment_ids and kv_segment_ids must be "
                      "given together")
    if q_segment_ids is not None:
        qs = c.array(q_segment_ids, "q_segment_ids", _INT, kind="integer")
        ks = c.array(kv_segment_ids, "kv_segment_ids", _INT, kind="integer")
        c.shape(qs, "q_segment_ids", (B, Sq), "[B, Sq]")
        c.shape(ks, "kv_segment_ids", (B, Skv), "[B, Skv]")
        if qs.dtype != ks.dtype:  # the op wants one type: widen both
            qs, ks = qs.astype(_I64), ks.astype(_I64)
        operands += " q_segment_ids(%s : %s)" % (
            c.add("q_segment_ids", qs), _tensor(qs.shape, qs.dtype))
        operands += " kv_segment_ids(%s : %s)" % (
            c.add("kv_segment_ids", ks), _tensor(ks.shape, ks.dtype))

    results = [_tensor((B, Hq, Sq, Dv), q.dtype)]
    if return_lse:
        results.append(_tensor((B, Hq, Sq), _F32))
    attrs = (causal, window, scale, softcap, return_lse)

    def text():
        lhs = "%o, %lse" if return_lse else "%o"
        body = ("  %s = seq.attention %%q, %%k, %%v%s%s\n      : %s, %s, %s -> %s"
                % (lhs, operands, _attr_dict(parts),
                   _tensor(q.shape, q.dtype), _tensor(k.shape, k.dtype),
                   _tensor(v.shape, v.dtype), ", ".join(results)))
        return _func(c, results, body, lhs.split(", "))
    return _Plan(c, attrs, text, len(results))


def attention(q, k, v, causal=False, window=(-1, -1), scale=None,
              softcap=None, kv_lengths=None, q_segment_ids=None,
              kv_segment_ids=None, return_lse=False):
    """Masked softmax attention (``seq.attention``), as PyTorch's SDPA layout.

    q ``[B, Hq, Sq, D]``, k ``[B, Hkv, Skv, D]``, v ``[B, Hkv, Skv, Dv]``
    (float32 or float16, one dtype; ``Hq % Hkv == 0``). ``causal`` is
    bottom-right aligned; ``window=(left, right)`` in keys, -1 unbounded;
    ``scale`` defaults to ``1/sqrt(D)``; ``softcap`` applies
    ``c*tanh(s/c)``; ``kv_lengths [B]`` and segment ids ``[B, Sq]``,
    ``[B, Skv]`` are int32/int64. Returns out ``[B, Hq, Sq, Dv]``, or
    ``(out, lse)`` with lse ``[B, Hq, Sq]`` float32 when ``return_lse``.
    A query with no visible key gets output 0 and lse -inf.
    """
    key = None
    if kv_lengths is None and q_segment_ids is None and kv_segment_ids is None:
        try:
            key = _tensor_key((q, k, v), ("attention", causal, tuple(window),
                                          scale, softcap, return_lse))
        except TypeError:  # an unhashable or odd argument: the checks say
            key = None
        entry = _tensor_calls.get(key) if key is not None else None
        if entry is not None:
            out = _repeat(entry, (q, k, v))
            return out if return_lse else out[0] if isinstance(out, tuple) else out
    out = _execute(_attention_plan(q, k, v, causal, window, scale, softcap,
                                   kv_lengths, q_segment_ids, kv_segment_ids,
                                   return_lse), key)
    return out if return_lse else out[0]


# ---------------------------------------------------------------------------
# linear_recurrence
# ---------------------------------------------------------------------------

def _linear_recurrence_plan(a, b, h0=None, dim=-1, reverse=False):
    c = _Call("linear_recurrence")
    a = c.array(a, "a", _FLOAT)
    b = c.array(b, "b", _FLOAT)
    if a.ndim < 1:
        raise c.error(ValueError, "a must have rank at least 1, got rank 0")
    if b.shape != a.shape:
        raise c.error(ValueError, "b must have a's shape %s, got %s"
                      % (_fmt_shape(a.shape), _fmt_shape(b.shape)))
    c.same_dtype(b, "b", a, "a")
    dim = c.dim(dim, a.ndim)
    reverse = c.flag(reverse, "reverse")
    state = a.shape[:dim] + a.shape[dim + 1:]
    c.add("a", a), c.add("b", b)
    init = ""
    if h0 is not None:
        h0 = c.array(h0, "h0", _FLOAT)
        c.same_dtype(h0, "h0", a, "a")
        c.shape(h0, "h0", state, "(a's shape without dim %d)" % dim)
        init = " init(%s : %s)" % (c.add("h0", h0), _tensor(state, a.dtype))
    parts = ["dim = %d : i64" % dim] + (["reverse"] if reverse else [])
    results = [_tensor(a.shape, a.dtype), _tensor(state, a.dtype)]

    def text():
        ta = _tensor(a.shape, a.dtype)
        body = ("  %%h, %%last = seq.linear_recurrence %%a, %%b%s%s : %s, %s -> %s"
                % (init, _attr_dict(parts), ta, ta, ", ".join(results)))
        return _func(c, results, body, ["%h", "%last"])
    return _Plan(c, (dim, reverse), text, 2)


def linear_recurrence(a, b, h0=None, dim=-1, reverse=False):
    """``h_t = a_t * h_{t-1} + b_t`` along ``dim`` (``seq.linear_recurrence``).

    a, b: one shape and float dtype; h0 (optional): a's shape without ``dim``.
    With ``reverse`` the steps run from the last index down. Returns
    ``(h, h_last)``; without h0 the first step is ``h = b``.
    """
    # A repeat of a call on torch CUDA tensors calls its compiled function
    # directly.
    extras = () if h0 is None else (h0,)
    try:
        key = _tensor_key((a, b) + extras,
                          ("linear_recurrence", dim, reverse, h0 is None))
    except TypeError:  # an unhashable or odd argument: the checks say
        key = None
    entry = _tensor_calls.get(key) if key is not None else None
    if entry is not None:
        return _repeat(entry, (a, b) + extras)
    return _execute(_linear_recurrence_plan(a, b, h0, dim, reverse), key)


# ---------------------------------------------------------------------------
# selective_scan
# ---------------------------------------------------------------------------

def _selective_scan_plan(u, delta, A, B, C, D=None, z=None, delta_bias=None,
                         delta_softplus=False, return_last_state=False):
    c = _Call("selective_scan")
    u = c.array(u, "u", _FLOAT)
    delta = c.array(delta, "delta", _FLOAT)
    A = c.array(A, "A", _FLOAT)
    B = c.array(B, "B", _FLOAT)
    C = c.array(C, "C", _FLOAT)
    c.rank(u, "u", 3, "[B, D, L]")
    if delta.shape != u.shape:
        raise c.error(ValueError, "delta must have u's shape %s, got %s"
                      % (_fmt_shape(u.shape), _fmt_shape(delta.shape)))
    c.same_dtype(delta, "delta", u, "u")
    c.rank(A, "A", 2, "[D, N]")
    c.size("channels", A, "A", 0, u, "u", 1)
    # mamba_ssm's "variable B/C" of shape [B, N, L] is one group.
    if B.ndim == 3:
        B = B.reshape(B.shape[0], 1, B.shape[1], B.shape[2])
    if C.ndim == 3:
        C = C.reshape(C.shape[0], 1, C.shape[1], C.shape[2])
    c.rank(B, "B", (4, 3), "[B, G, N, L] or [B, N, L]")
    c.rank(C, "C", (4, 3), "[B, G, N, L] or [B, N, L]")
    c.size("batch size", B, "B", 0, u, "u", 0)
    c.size("state size", B, "B", 2, A, "A", 1)
    c.size("sequence length", B, "B", 3, u, "u", 2)
    if C.shape != B.shape:
        raise c.error(ValueError, "C must have B's shape %s, got %s"
                      % (_fmt_shape(B.shape), _fmt_shape(C.shape)))
    c.same_dtype(C, "C", B, "B")
    Bt, Dc, L = u.shape
    G, N = B.shape[1], A.shape[1]
    if G == 0 or Dc % G:
        raise c.error(ValueError, "u channels (%d) must be a multiple of B/C "
                      "groups (%d)" % (Dc, G))
    delta_softplus = c.flag(delta_softplus, "delta_softplus")
    return_last_state = c.flag(return_last_state, "return_last_state")
    for n, x in (("u", u), ("delta", delta), ("A", A), ("B", B), ("C", C)):
        c.add(n, x)
    operands = ""
    for name, x in (("D", D), ("z", z), ("delta_bias", delta_bias)):
        if x is None:
            continue
        x = c.array(x, name, _FLOAT)
        if name == "z":
            if x.shape != u.shape:
                raise c.error(ValueError, "z must have u's shape %s, got %s"
                              % (_fmt_shape(u.shape), _fmt_shape(x.shape)))
            c.same_dtype(x, "z", u, "u")
        else:
            c.shape(x, name, (Dc,), "[D]")
        operands += " %s(%s : %s)" % (name, c.add(name, x),
                                      _tensor(x.shape, x.dtype))
    parts = ["delta_softplus"] if delta_softplus else []
    results = [_tensor(u.shape, u.dtype)]
    if return_last_state:
        results.append(_tensor((Bt, Dc, N), _F32))

    def text():
        lhs = "%y, %last_state" if return_last_state else "%y"
        body = ("  %s = seq.selective_scan %%u, %%delta, %%A, %%B, %%C%s%s\n"
                "      : %s -> %s"
                % (lhs, operands, _attr_dict(parts),
                   ", ".join(_tensor(x.shape, x.dtype)
                             for x in (u, delta, A, B, C)),
                   ", ".join(results)))
        return _func(c, results, body, lhs.split(", "))
    return _Plan(c, (delta_softplus, return_last_state), text, len(results))


def selective_scan(u, delta, A, B, C, D=None, z=None, delta_bias=None,
                   delta_softplus=False, return_last_state=False):
    """Mamba-1's S6 (``seq.selective_scan``), as ``mamba_ssm``'s
    ``selective_scan_fn``: u, delta ``[B, D, L]``, A ``[D, N]``, B and C
    ``[B, G, N, L]`` (or ``[B, N, L]``), D and delta_bias ``[D]``, z
    ``[B, D, L]``. Returns y, or ``(y, last_state)`` with last_state
    ``[B, D, N]`` float32."""
    # A repeat of a call on torch CUDA tensors (B and C in their 4-D form,
    # which the op passes as they are) calls its compiled function directly.
    key = None
    if D is None and z is None and delta_bias is None:
        extras = ()
    else:
        extras = tuple(x for x in (D, z, delta_bias) if x is not None)
    try:
        if getattr(B, "ndim", 0) == 4 and getattr(C, "ndim", 0) == 4:
            key = _tensor_key((u, delta, A, B, C) + extras, (
                "selective_scan", D is None, z is None, delta_bias is None,
                delta_softplus, return_last_state))
    except TypeError:  # an unhashable or odd argument: the checks say
        key = None
    entry = _tensor_calls.get(key) if key is not None else None
    if entry is not None:
        out = _repeat(entry, (u, delta, A, B, C) + extras)
        out = out if isinstance(out, tuple) else (out,)
    else:
        out = _execute(_selective_scan_plan(u, delta, A, B, C, D, z,
                                            delta_bias, delta_softplus,
                                            return_last_state), key)
    return out if return_last_state else out[0]


# ---------------------------------------------------------------------------
# gated_linear_attention
# ---------------------------------------------------------------------------

def _gla_plan(q, k, v, g=None, scale=None, initial_state=None,
              output_final_state=False):
    c = _Call("gated_linear_attention")
    q = c.array(q, "q", _FLOAT)
    k = c.array(k, "k", _FLOAT)
    v = c.array(v, "v", _FLOAT)
    c.rank(q, "q", 4, "[B, H, T, K]")
    c.rank(v, "v", 4, "[B, H, T, V]")
    if k.shape != q.shape:
        raise c.error(ValueError, "k must have q's shape %s, got %s"
                      % (_fmt_shape(q.shape), _fmt_shape(k.shape)))
    c.same_dtype(k, "k", q, "q")
    c.same_dtype(v, "v", q, "q")
    c.size("batch size", v, "v", 0, q, "q", 0)
    c.size("heads", v, "v", 1, q, "q", 1)
    c.size("sequence length", v, "v", 2, q, "q", 2)
    Bt, H, T, K = q.shape
    V = v.shape[3]
    output_final_state = c.flag(output_final_state, "output_final_state")
    c.add("q", q), c.add("k", k), c.add("v", v)
    operands = ""
    if g is not None:
        g = c.array(g, "g", _FLOAT)
        c.rank(g, "g", (4, 3), "[B, H, T, K] per key dim or [B, H, T] scalar")
        if g.shape != k.shape[:g.ndim]:
            raise c.error(ValueError, "g must have shape %s or %s, got %s"
                          % (_fmt_shape(k.shape), _fmt_shape(k.shape[:3]),
                             _fmt_shape(g.shape)))
        operands += " gate(%s : %s)" % (c.add("g", g), _tensor(g.shape, g.dtype))
    if initial_state is not None:
        s0 = c.array(initial_state, "initial_state", _FLOAT)
        c.shape(s0, "initial_state", (Bt, H, K, V), "[B, H, K, V]")
        operands += " init(%s : %s)" % (c.add("initial_state", s0),
                                        _tensor(s0.shape, s0.dtype))
    parts = []
    if scale is not None:
        scale = c.float_attr(scale, "scale")
        parts.append("scale = %s : f32" % _f32_literal(scale))
    results = [_tensor((Bt, H, T, V), q.dtype)]
    if output_final_state:
        results.append(_tensor((Bt, H, K, V), _F32))

    def text():
        lhs = "%o, %final_state" if output_final_state else "%o"
        body = ("  %s = seq.gated_linear_attention %%q, %%k, %%v%s%s\n"
                "      : %s, %s, %s -> %s"
                % (lhs, operands, _attr_dict(parts), _tensor(q.shape, q.dtype),
                   _tensor(k.shape, k.dtype), _tensor(v.shape, v.dtype),
                   ", ".join(results)))
        return _func(c, results, body, lhs.split(", "))
    return _Plan(c, (scale, output_final_state), text, len(results))


def gated_linear_attention(q, k, v, g=None, scale=None, initial_state=None,
                           output_final_state=False):
    """Gated linear attention (``seq.gated_linear_attention``): per batch and
    head ``S_t = diag(exp(g_t)) S_{t-1} + k_t^T v_t``, ``o_t = scale q_t S_t``.

    q, k ``[B, H, T, K]``, v ``[B, H, T, V]``; g (log decay) ``[B, H, T, K]``
    or ``[B, H, T]``; initial_state ``[B, H, K, V]``; scale defaults to
    ``1/sqrt(K)``. Returns o, or ``(o, final_state)`` (float32) when
    ``output_final_state``."""
    out = _execute(_gla_plan(q, k, v, g, scale, initial_state,
                             output_final_state))
    return out if output_final_state else out[0]


# ---------------------------------------------------------------------------
# causal_conv1d, rms_norm, rope
# ---------------------------------------------------------------------------

def _causal_conv1d_plan(x, weight, bias=None, activation=None):
    c = _Call("causal_conv1d")
    x = c.array(x, "x", _FLOAT)
    weight = c.array(weight, "weight", _FLOAT)
    c.rank(x, "x", 3, "[B, D, L]")
    c.rank(weight, "weight", 2, "[D, W]")
    c.size("channels", weight, "weight", 0, x, "x", 1)
    if weight.shape[1] < 1:
        raise c.error(ValueError, "weight width must be at least 1, got 0")
    if activation is None:
        silu = False
    elif isinstance(activation, str) and activation in ("silu", "swish"):
        silu = True
    else:
        raise c.error(ValueError, "activation must be None, 'silu' or "
                      "'swish', got %r" % (activation,))
    c.add("x", x), c.add("weight", weight)
    operands = ""
    if bias is not None:
        bias = c.array(bias, "bias", _FLOAT)
        c.shape(bias, "bias", (x.shape[1],), "[D]")
        operands = " bias(%s : %s)" % (c.add("bias", bias),
                                       _tensor(bias.shape, bias.dtype))
    parts = ["silu"] if silu else []
    results = [_tensor(x.shape, x.dtype)]

    def text():
        body = ("  %%y = seq.causal_conv1d %%x, %%weight%s%s : %s, %s -> %s"
                % (operands, _attr_dict(parts), _tensor(x.shape, x.dtype),
                   _tensor(weight.shape, weight.dtype), results[0]))
        return _func(c, results, body, ["%y"])
    return _Plan(c, (silu,), text, 1)


def causal_conv1d(x, weight, bias=None, activation=None):
    """Depthwise causal convolution along time (``seq.causal_conv1d``), as
    ``causal_conv1d_fn``: x ``[B, D, L]``, weight ``[D, W]``, bias ``[D]``,
    activation None or "silu"/"swish". Returns x's shape and dtype."""
    return _execute(_causal_conv1d_plan(x, weight, bias, activation))[0]


def _rms_norm_plan(x, weight, eps=1e-6):
    c = _Call("rms_norm")
    x = c.array(x, "x", _FLOAT)
    weight = c.array(weight, "weight", _FLOAT)
    if x.ndim < 1:
        raise c.error(ValueError, "x must have rank at least 1, got rank 0")
    c.shape(weight, "weight", (x.shape[-1],), "[x's last dim]")
    eps = c.float_attr(eps, "eps", nonnegative=True)
    c.add("x", x), c.add("weight", weight)
    results = [_tensor(x.shape, x.dtype)]

    def text():
        body = ("  %%y = seq.rms_norm %%x, %%weight {eps = %s : f32} : %s, %s -> %s"
                % (_f32_literal(eps), _tensor(x.shape, x.dtype),
                   _tensor(weight.shape, weight.dtype), results[0]))
        return _func(c, results, body, ["%y"])
    return _Plan(c, (eps,), text, 1)


def rms_norm(x, weight, eps=1e-6):
    """``x / sqrt(mean(x**2, last dim) + eps) * weight`` (``seq.rms_norm``),
    computed in f32; weight ``[x.shape[-1]]``."""
    return _execute(_rms_norm_plan(x, weight, eps))[0]


def _rope_plan(x, positions, theta=10000.0, interleaved=False):
    c = _Call("rope")
    x = c.array(x, "x", _FLOAT)
    c.rank(x, "x", 4, "[B, H, T, D]")
    if x.shape[3] % 2:
        raise c.error(ValueError, "x head dim (%d) must be even" % x.shape[3])
    positions = c.array(positions, "positions", _INT, kind="integer")
    c.rank(positions, "positions", (1, 2), "[T] or [B, T]")
    if positions.ndim == 1:
        c.size("length", positions, "positions", 0, x, "x sequence", 2)
    else:
        c.size("batch size", positions, "positions", 0, x, "x", 0)
        c.size("length", positions, "positions", 1, x, "x sequence", 2)
    theta = c.float_attr(theta, "theta", positive=True)
    interleaved = c.flag(interleaved, "interleaved")
    c.add("x", x), c.add("positions", positions)
    parts = ["theta = %s : f32" % _f32_literal(theta)]
    if interleaved:
        parts.append("interleaved")
    results = [_tensor(x.shape, x.dtype)]

    def text():
        body = ("  %%y = seq.rope %%x, %%positions%s : %s, %s -> %s"
                % (_attr_dict(parts), _tensor(x.shape, x.dtype),
                   _tensor(positions.shape, positions.dtype), results[0]))
        return _func(c, results, body, ["%y"])
    return _Plan(c, (theta, interleaved), text, 1)


def rope(x, positions, theta=10000.0, interleaved=False):
    """Rotary embedding (``seq.rope``) of x ``[B, H, T, D]`` at integer
    positions ``[T]`` or ``[B, T]``: Hugging Face Llama's rotate-half pairs
    ``(x_i, x_{i+D/2})`` by default, GPT-J's ``(x_{2i}, x_{2i+1})`` with
    ``interleaved``; ``inv_freq_i = theta**(-2i/D)``."""
    return _execute(_rope_plan(x, positions, theta, interleaved))[0]


# ---------------------------------------------------------------------------
# scan
# ---------------------------------------------------------------------------

_COMBINERS = ("add", "mul", "max", "min", "linear")


def _identity(combiner, dtype):
    dtype = np.dtype(dtype)
    if combiner == "add":
        return 0
    if combiner == "mul":
        return 1
    if combiner == "max":
        return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min
    if combiner == "min":
        return np.inf if dtype.kind == "f" else np.iinfo(dtype).max
    raise AssertionError(combiner)


def _combiner_body(combiner, types):
    """Lines of the combiner region for element types ``types``."""
    n = len(types)
    lhs = ["%%l%d" % i for i in range(n)]
    rhs = ["%%r%d" % i for i in range(n)]
    args = ", ".join("%s: %s" % (x, t) for x, t in
                     list(zip(lhs, types)) + list(zip(rhs, types)))
    lines = ["  ^bb0(%s):" % args]
    yielded = []
    if combiner == "linear":
        t = types[0]
        f = t.startswith("f")
        mul, add = ("arith.mulf", "arith.addf") if f else ("arith.muli", "arith.addi")
        lines.append("    %%c0 = %s %%l0, %%r0 : %s" % (mul, t))
        lines.append("    %%t1 = %s %%r0, %%l1 : %s" % (mul, t))
        lines.append("    %%c1 = %s %%t1, %%r1 : %s" % (add, t))
        yielded = ["%c0", "%c1"]
    else:
        for i, t in enumerate(types):
            f = t.startswith("f")
            opname = {"add": ("addf", "addi"), "mul": ("mulf", "muli"),
                      "max": ("maximumf", "maxsi"),
                      "min": ("minimumf", "minsi")}[combiner][0 if f else 1]
            lines.append("    %%c%d = arith.%s %s, %s : %s"
                         % (i, opname, lhs[i], rhs[i], t))
            yielded.append("%%c%d" % i)
    lines.append("    seq.yield %s : %s" % (", ".join(yielded), ", ".join(types)))
    return lines


def _scan_plan(combiner, *xs, dim=-1, reverse=False, exclusive=False,
               initial=None):
    c = _Call("scan")
    if not isinstance(combiner, str) or combiner not in _COMBINERS:
        raise c.error(ValueError, "combiner must be one of %s, got %r (custom "
                      "combiners go through seqc.compile)"
                      % (", ".join(repr(n) for n in _COMBINERS), combiner))
    if not xs:
        raise c.error(TypeError, "needs at least one input")
    if combiner == "linear" and len(xs) != 2:
        raise c.error(TypeError, "the 'linear' combiner takes exactly two "
                      "inputs (a, b), got %d" % len(xs))
    arrays = []
    for i, x in enumerate(xs):
        name = "xs[%d]" % i
        if combiner == "linear":
            name = "ab"[i]
        arrays.append(c.array(x, name, _SCAN, kind="float"))
    x0 = arrays[0]
    if x0.ndim < 1:
        raise c.error(ValueError, "inputs must have rank at least 1, got rank 0")
    for i, x in enumerate(arrays[1:], 1):
        if x.shape != x0.shape:
            raise c.error(ValueError, "all inputs must have one shape: input "
                          "%d has shape %s, input 0 has %s"
                          % (i, _fmt_shape(x.shape), _fmt_shape(x0.shape)))
    if combiner == "linear" and arrays[1].dtype != x0.dtype:
        raise c.error(TypeError, "b must have a's dtype %s, got %s"
                      % (x0.dtype, arrays[1].dtype))
    dim = c.dim(dim, x0.ndim)
    reverse = c.flag(reverse, "reverse")
    exclusive = c.flag(exclusive, "exclusive")
    carry_shape = x0.shape[:dim] + x0.shape[dim + 1:]
    n = len(arrays)
    xnames = ["a", "b"] if combiner == "linear" else ["x%d" % i for i in range(n)]

    # The initial carries: given, or the combiner's identity when the op
    # needs one (exclusive scans, and zero-length scans).
    inits = None
    if initial is not None:
        if n == 1 and not isinstance(initial, (list, tuple)):
            initial = [initial]
        if not isinstance(initial, (list, tuple)) or len(initial) != n:
            raise c.error(ValueError, "initial must hold one carry per input "
                          "(%d), got %r" % (n, type(initial).__name__))
        inits = []
        for i, (x, init) in enumerate(zip(arrays, initial)):
            name = "initial[%d]" % i
            if _core.is_cuda_tensor(init):
                arr = _core.DeviceArray(init)
                c.cuda = c.torch = True
                if arr.dtype != x.dtype or arr.shape != carry_shape:
                    raise c.error(ValueError, "%s must have dtype %s and shape "
                                  "%s, got %s %s" % (name, x.dtype,
                                                     _fmt_shape(carry_shape),
                                                     arr.dtype,
                                                     _fmt_shape(arr.shape)))
                inits.append(arr)
                continue
            arr, was_torch = _core.to_numpy(init, "seqc.scan: " + name)
            c.torch = c.torch or was_torch
            if isinstance(arr, np.ndarray):
                if arr.dtype != x.dtype:
                    raise c.error(TypeError, "%s must have dtype %s (its "
                                  "input's), got %s" % (name, x.dtype, arr.dtype))
            else:
                arr = np.asarray(arr, dtype=x.dtype)
            if arr.shape != carry_shape:
                if arr.ndim == 0:
                    arr = np.broadcast_to(arr, carry_shape)
                else:
                    raise c.error(ValueError, "%s must have shape %s (the "
                                  "input's shape without dim %d), got %s"
                                  % (name, _fmt_shape(carry_shape), dim,
                                     _fmt_shape(arr.shape)))
            inits.append(arr)
    elif exclusive or x0.shape[dim] == 0:
        if combiner == "linear":
            ident = [1, 0]
        else:
            ident = [_identity(combiner, x.dtype) for x in arrays]
        inits = [np.broadcast_to(np.asarray(v, dtype=x.dtype), carry_shape)
                 for v, x in zip(ident, arrays)]

    for name, x in zip(xnames, arrays):
        c.add(name, x)
    inames = []
    if inits is not None:
        inames = ["%s_init" % nm for nm in xnames]
        for name, x in zip(inames, inits):
            c.add(name, x)
    types = [_MLIR[x.dtype] for x in arrays]
    results = ([_tensor(x.shape, x.dtype) for x in arrays] +
               [_tensor(carry_shape, x.dtype) for x in arrays])
    parts = ["dim = %d : i64" % dim]
    if exclusive:
        parts.append("exclusive")
    if reverse:
        parts.append("reverse")
    attrs = (combiner, dim, reverse, exclusive, inits is not None)

    def text():
        line = "  %%res:%d = seq.scan ins(%s : %s)" % (
            2 * n, ", ".join("%" + nm for nm in xnames),
            ", ".join(_tensor(x.shape, x.dtype) for x in arrays))
        if inits is not None:
            line += " init(%s : %s)" % (
                ", ".join("%" + nm for nm in inames),
                ", ".join(_tensor(carry_shape, x.dtype) for x in arrays))
        line += "%s -> %s {" % (_attr_dict(parts), ", ".join(results))
        body = "\n".join([line] + _combiner_body(combiner, types) + ["  }"])
        return _func(c, results, body, ["%%res#%d" % i for i in range(2 * n)])
    return _Plan(c, attrs, text, 2 * n)


def scan(combiner, *xs, dim=-1, reverse=False, exclusive=False, initial=None):
    """Associative scan (``seq.scan``) of ``xs`` (one shape) along ``dim``
    with a named combiner: "add", "mul", "max", "min" (applied per input) or
    "linear" (exactly two inputs a, b: ``(a1, b1), (a2, b2) -> (a1*a2,
    a2*b1 + b2)``). ``initial``: one carry per input (the input's shape
    without ``dim``; scalars broadcast). Exclusive scans without ``initial``
    start from the combiner's identity. Returns a tuple: the scanned arrays,
    then the final carries."""
    return _execute(_scan_plan(combiner, *xs, dim=dim, reverse=reverse,
                               exclusive=exclusive, initial=initial))


# ---------------------------------------------------------------------------

_PLANS = {
    "attention": _attention_plan,
    "linear_recurrence": _linear_recurrence_plan,
    "selective_scan": _selective_scan_plan,
    "gated_linear_attention": _gla_plan,
    "causal_conv1d": _causal_conv1d_plan,
    "rms_norm": _rms_norm_plan,
    "rope": _rope_plan,
    "scan": _scan_plan,
}


def mlir_text(op, *args, **kwargs):
    """The MLIR text ``seqc.<op>(*args, **kwargs)`` compiles (validating the
    arguments as the op does), without compiling it."""
    try:
        plan = _PLANS[op]
    except KeyError:
        raise ValueError("unknown op %r (ops: %s)"
                         % (op, ", ".join(sorted(_PLANS)))) from None
    return plan(*args, **kwargs).text()
