"""pytest set-up for the seqc Python tests.

- Imports the package from <repo>/python (unless SEQC_PYTHONPATH names
  another folder).
- Sets SEQC_POISON_OUTPUTS=1: outputs start as NaN / sentinels, so an
  element the compiled code forgets to write fails the comparison.
- Tests marked ``needs_library`` FAIL when the C library is missing, unless
  SEQC_ALLOW_MISSING_LIBRARY=1, which turns them into skips (CI must not skip
  silently).
- Tests marked ``cuda`` are skipped unless an NVIDIA GPU answers.
- SEQC_TEST_DEVICE=cuda runs the functional-op tests (test_ops.py,
  test_bf16.py) on the GPU: every seqc functional op is wrapped so that its
  array arguments become torch CUDA tensors and its results come back as
  NumPy arrays; the tests' float64 references and bounds stay the same.
"""

import ctypes
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
_pkg_dir = os.environ.get("SEQC_PYTHONPATH") or os.path.join(REPO, "python")
if os.path.isdir(_pkg_dir) and _pkg_dir not in sys.path:
    sys.path.insert(0, _pkg_dir)

os.environ["SEQC_POISON_OUTPUTS"] = "1"

import seqc  # noqa: E402
from seqc import _capi  # noqa: E402

_library = None


def library_status():
    """(available, message)."""
    global _library
    if _library is None:
        try:
            _capi.lib()
            _library = (True, _capi.library_path())
        except seqc.SeqcError as e:
            _library = (False, str(e))
    return _library


def allow_missing_library():
    return os.environ.get("SEQC_ALLOW_MISSING_LIBRARY", "") == "1"


_gpu = None


def gpu_available():
    global _gpu
    if _gpu is None:
        _gpu = False
        if "torch" in sys.modules or _importable("torch"):
            try:
                import torch
                _gpu = bool(torch.cuda.is_available())
            except Exception:
                _gpu = False
        if not _gpu:
            try:
                cuda = ctypes.CDLL("libcuda.so.1")
                count = ctypes.c_int(0)
                _gpu = (cuda.cuInit(0) == 0 and
                        cuda.cuDeviceGetCount(ctypes.byref(count)) == 0 and
                        count.value > 0)
            except OSError:
                _gpu = False
    return _gpu


def _importable(name):
    import importlib.util
    return importlib.util.find_spec(name) is not None


_ARRAY_PARAMS = {
    "attention": ("q", "k", "v", "kv_lengths", "q_segment_ids",
                  "kv_segment_ids"),
    "linear_recurrence": ("a", "b", "h0"),
    "selective_scan": ("u", "delta", "A", "B", "C", "D", "z", "delta_bias"),
    "gated_linear_attention": ("q", "k", "v", "g", "initial_state"),
    "causal_conv1d": ("x", "weight", "bias"),
    "rms_norm": ("x", "weight"),
    "rope": ("x", "positions"),
}


def _on_gpu():
    """Wraps the functional ops to run on CUDA (SEQC_TEST_DEVICE=cuda)."""
    import functools
    import inspect

    import numpy as np
    import torch

    def to_device(x):
        if isinstance(x, (list, tuple)) and x and all(
                isinstance(e, (int, np.integer)) for e in x):
            x = np.asarray(x)
        if isinstance(x, np.ndarray):
            # A copy: the device kernels take unit innermost strides.
            return torch.from_numpy(np.array(x, order="C")).cuda()
        return x

    def to_host(y):
        if isinstance(y, tuple):
            return tuple(to_host(e) for e in y)
        if isinstance(y, torch.Tensor):
            if y.dtype == torch.bfloat16:
                return y.view(torch.int16).cpu().numpy().view(np.uint16)
            return y.cpu().numpy()
        return y

    def wrap(name, fn):
        sig = inspect.signature(fn)

        @functools.wraps(fn)
        def run(*args, **kwargs):
            if name == "scan":
                combiner, *xs = args
                xs = [to_device(x) for x in xs]
                if isinstance(kwargs.get("initial"), (list, tuple)):
                    kwargs["initial"] = [to_device(i) for i in kwargs["initial"]]
                return to_host(fn(combiner, *xs, **kwargs))
            bound = sig.bind(*args, **kwargs)
            for p in _ARRAY_PARAMS[name]:
                if p in bound.arguments:
                    bound.arguments[p] = to_device(bound.arguments[p])
            return to_host(fn(*bound.args, **bound.kwargs))
        return run

    for name in list(_ARRAY_PARAMS) + ["scan"]:
        setattr(seqc, name, wrap(name, getattr(seqc, name)))


ON_GPU = os.environ.get("SEQC_TEST_DEVICE") == "cuda"
if ON_GPU:
    _on_gpu()


def pytest_configure(config):
    # also declared in pytest.ini; repeated here for runs that use another ini
    config.addinivalue_line(
        "markers", "cuda: runs on an NVIDIA GPU; skipped unless one answers")
    config.addinivalue_line(
        "markers", "needs_library: needs the seqc C library")


def pytest_report_header(config):
    ok, message = library_status()
    return "seqc library: %s" % (message if ok else "MISSING (%s)" % message)


def pytest_collection_modifyitems(config, items):
    ok, message = library_status()
    for item in items:
        if item.get_closest_marker("cuda") is not None and not gpu_available():
            item.add_marker(pytest.mark.skip(reason="no NVIDIA GPU answers"))
        if (item.get_closest_marker("needs_library") is not None and not ok
                and allow_missing_library()):
            item.add_marker(pytest.mark.skip(
                reason="seqc library missing (SEQC_ALLOW_MISSING_LIBRARY=1): "
                       + message))


def pytest_runtest_setup(item):
    if item.get_closest_marker("needs_library") is None:
        return
    ok, message = library_status()
    if not ok:
        pytest.fail("the seqc C library is required: %s (set "
                    "SEQC_ALLOW_MISSING_LIBRARY=1 to skip these tests)"
                    % message, pytrace=False)


def pytest_terminal_summary(terminalreporter):
    n = seqc.ops.cache_size()
    if n:
        terminalreporter.write_line("seqc: %d functional-op modules compiled" % n)
