"""seqc: compile and run sequence-model ops (`seq` dialect) from Python.

Pure Python over the seqc C API (ctypes) and NumPy; torch CPU tensors and
other DLPack producers are accepted wherever arrays are. Modules compiled
for target="cuda" (the default when a GPU answers) take torch CUDA tensors
without copies, on the current stream, and NumPy arrays (copied in and out).

    import seqc
    out = seqc.attention(q, k, v, causal=True)            # functional ops
    mod = seqc.compile(open("model.mlir").read())         # any MLIR with seq ops
    y = mod.main(x, w)                                    # or mod["main"](x, w)
    mod = seqc.load("model.so")                           # ahead-of-time modules

bf16 arguments and results of compiled functions travel as their raw bits in
uint16 arrays (seqc.to_bf16_bits / seqc.from_bf16_bits), or as torch
bfloat16 tensors.
"""

from ._capi import SeqcError
from ._core import (Function, Module, compile, cuda_available,
                    cuda_device_name, from_bf16_bits, load, to_bf16_bits)
from .ops import (attention, causal_conv1d, gated_linear_attention,
                  linear_recurrence, rms_norm, rope, scan, selective_scan)
from . import ops

__all__ = [
    "compile", "load", "Module", "Function", "SeqcError", "ops",
    "to_bf16_bits", "from_bf16_bits", "cuda_available", "cuda_device_name",
    "attention", "linear_recurrence", "selective_scan",
    "gated_linear_attention", "causal_conv1d", "rms_norm", "rope", "scan",
]

__version__ = "0.1.0"
