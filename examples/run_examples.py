#!/usr/bin/env python3
"""Compile the example blocks (examples/*.mlir) for the CPU with seqc, run
them on random inputs and check them against the float64 NumPy references
of reference_models.py.

For each example: parse the function signature (argument names, shapes,
element types) from the MLIR, build inputs with a fixed seed (weights
~ N(0, 1/fan_in), so activations stay O(1)), compile with seqc.compile(path),
call once to warm up, time seqc (median of 5 calls) and the reference
(median of 3), and compare: rel err = ||out - ref|| / ||ref|| (Frobenius),
max abs err = max |out - ref|. An example passes when every output element
is finite and rel err < 1e-4 (f32). Outputs are poisoned with NaN before
each call (SEQC_POISON_OUTPUTS=1), so an element the compiled code never
writes fails the check.

    PYTHONPATH=python python3 examples/run_examples.py [NAME ...]

Prints one table row per example; exits 1 if any example fails, saying why.
test/python/test_examples.py checks the same examples through the same
functions (prepare / make_inputs / evaluate).
"""

import glob
import math
import os
import re
import sys
import time
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
for _p in (HERE, os.path.join(REPO, "python")):
    if _p not in sys.path:
        sys.path.append(_p)

os.environ.setdefault("SEQC_POISON_OUTPUTS", "1")

import reference_models  # noqa: E402

REL_TOL = {np.dtype(np.float32): 1e-4}
SEQC_RUNS = 5
NUMPY_RUNS = 3

_TYPES = {"f32": np.float32, "f64": np.float64, "f16": np.float16,
          "i32": np.int32, "i64": np.int64}


# ---------------------------------------------------------------------------
# Signature parsing
# ---------------------------------------------------------------------------

class Arg:
    def __init__(self, name, shape, dtype):
        self.name, self.shape, self.dtype = name, shape, np.dtype(dtype)

    def __repr__(self):
        return "%%%s: %s %s" % (self.name, list(self.shape), self.dtype)


def _tensor_type(text):
    m = re.fullmatch(r"\s*tensor<((?:\d+x)*)(\w+)>\s*", text)
    if not m:
        raise ValueError("unsupported argument type %r (static tensors only)"
                         % text.strip())
    dims = tuple(int(d) for d in m.group(1).split("x") if d)
    if m.group(2) not in _TYPES:
        raise ValueError("unsupported element type %r" % m.group(2))
    return dims, _TYPES[m.group(2)]


def parse_signature(text):
    """(function name, [Arg], [(result shape, dtype)]) of the one func.func
    in ``text``."""
    funcs = re.findall(r"func\.func\s+@([\w$.]+)\s*\(", text)
    if len(funcs) != 1:
        raise ValueError("expected one func.func, found %d" % len(funcs))
    m = re.search(r"func\.func\s+@[\w$.]+\s*\(", text)
    depth, i = 1, m.end()
    while depth:
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        i += 1
    arg_text = text[m.end():i - 1]
    args = []
    for am in re.finditer(r"%([\w$.]+)\s*:\s*(tensor<[^>]*>)", arg_text):
        shape, dtype = _tensor_type(am.group(2))
        args.append(Arg(am.group(1), shape, dtype))
    rm = re.match(r"\s*->\s*(\(([^)]*)\)|tensor<[^>]*>)", text[i:])
    if not rm:
        raise ValueError("@%s: cannot parse the result types" % funcs[0])
    res_text = rm.group(2) if rm.group(2) is not None else rm.group(1)
    results = [_tensor_type(t) for t in re.findall(r"tensor<[^>]*>", res_text)]
    return funcs[0], args, results


def attribute_values(text, attr):
    """Every value of a float attribute ``attr = <number> : f32`` in the
    MLIR, comments excluded."""
    code = re.sub(r"//[^\n]*", "", text)
    return [float(v) for v in re.findall(
        r"\b%s\s*=\s*([-+0-9.eE]+)\s*:" % re.escape(attr), code)]


# ---------------------------------------------------------------------------
# Examples
# ---------------------------------------------------------------------------

class Example:
    """One examples/*.mlir file: its source, signature and reference."""

    def __init__(self, path):
        self.path = path
        self.name = os.path.splitext(os.path.basename(path))[0]
        with open(path, encoding="utf-8") as f:
            self.text = f.read()
        self.func, self.args, self.results = parse_signature(self.text)
        self.reference = reference_models.REFERENCES.get(self.func)
        self.config = reference_models.CONFIGS.get(self.func, {})

    @property
    def seed(self):
        return zlib.crc32(self.func.encode())

    def shapes_label(self):
        x = {a.name: a.shape for a in self.args}["x"]
        w = {a.name: a.shape for a in self.args}
        seq = "L" if self.func == "mamba_block" else "T"
        label = "B%d %s%d D%d" % (x[0], seq, x[1], x[2])
        if self.func.startswith("llama_block"):
            label += " H%d:%d" % (self.config["n_heads"],
                                  self.config["n_kv_heads"])
        elif self.func == "mamba_block":
            label += " Di%d N%d" % (w["A"][0], w["A"][1])
        elif self.func == "gla_block":
            label += " H%d" % self.config["n_heads"]
        return label

    def constant_mismatches(self):
        """Where the reference's constants differ from the MLIR's attributes."""
        problems = []
        for attr in ("eps", "theta"):
            if attr not in self.config:
                continue
            found = attribute_values(self.text, attr)
            want = self.config[attr]
            if not found:
                problems.append("no '%s' attribute in the MLIR (reference "
                                "uses %g)" % (attr, want))
            bad = [v for v in found if not math.isclose(v, want, rel_tol=1e-6)]
            if bad:
                problems.append("MLIR %s = %s, reference uses %g"
                                % (attr, ", ".join("%g" % v for v in bad), want))
        return problems


def example_paths():
    return sorted(glob.glob(os.path.join(HERE, "*.mlir")))


def prepare(name_or_path):
    path = name_or_path
    if os.path.sep not in path and not path.endswith(".mlir"):
        path = os.path.join(HERE, path + ".mlir")
    return Example(path)


def _init_arg(func, arg, shapes, r):
    """A random value for one argument, by its name (``shapes``: every
    argument's shape, by name)."""
    name, shape, dt = arg.name, arg.shape, arg.dtype
    if name == "positions":
        return np.broadcast_to(np.arange(shape[-1]), shape).astype(dt)
    if name == "x":
        return r.standard_normal(shape).astype(dt)
    if name.endswith("norm_w"):
        return (1.0 + 0.1 * r.standard_normal(shape)).astype(dt)
    if func == "mamba_block":
        if name == "A":   # A = -exp(A_log), A_log ~ U(log 1, log 16)
            return (-np.exp(r.uniform(np.log(1.0), np.log(16.0), shape))
                    ).astype(dt)
        if name == "D":
            return (1.0 + 0.1 * r.standard_normal(shape)).astype(dt)
        if name == "dt_bias":
            # mamba's init: softplus(dt_bias) = dt ~ logU(1e-3, 1e-1)
            dt0 = np.exp(r.uniform(np.log(1e-3), np.log(1e-1), shape))
            return (dt0 + np.log(-np.expm1(-dt0))).astype(dt)
        if name in ("conv_w", "conv_b"):
            # nn.Conv1d's init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = W
            bound = 1.0 / math.sqrt(shapes["conv_w"][1])
            return r.uniform(-bound, bound, shape).astype(dt)
    if len(shape) == 2 and name.startswith("w"):
        # projections stored [in, out]: N(0, 1/fan_in)
        return (r.standard_normal(shape) / math.sqrt(shape[0])).astype(dt)
    raise ValueError("@%s: no initializer for argument %%%s %s"
                     % (func, name, list(shape)))


def make_inputs(ex, seed=None):
    """{argument name: array}, in signature order."""
    r = np.random.default_rng(ex.seed if seed is None else seed)
    shapes = {a.name: a.shape for a in ex.args}
    return {a.name: _init_arg(ex.func, a, shapes, r) for a in ex.args}


def compile_example(ex):
    import seqc
    return seqc.compile(ex.path)


def check_signature(ex, fn):
    """Problems where the compiled function's signature differs from the
    one parsed from the MLIR (shapes, element types)."""
    from seqc import _core
    parsed = [(np.dtype(a.dtype), tuple(a.shape)) for a in ex.args]
    compiled = [(_core.numpy_dtype(c), tuple(s)) for c, s in fn.inputs]
    if parsed != compiled:
        return ["compiled signature %s differs from the parsed %s"
                % (compiled, parsed)]
    if [(np.dtype(d), tuple(s)) for s, d in ex.results] != \
            [(_core.numpy_dtype(c), tuple(s)) for c, s in fn.results]:
        return ["compiled results %s differ from the parsed %s"
                % (fn.results, ex.results)]
    return []


def reference(ex, inputs):
    return ex.reference(**inputs, **ex.config)


def evaluate(ex, out, ref):
    """Error measures and the verdict of one output against its reference."""
    out = np.asarray(out)
    ref = np.asarray(ref, dtype=np.float64)
    res = {"rel_err": float("nan"), "max_abs_err": float("nan"), "why": []}
    if out.shape != ref.shape:
        res["why"].append("output shape %s, reference %s"
                          % (out.shape, ref.shape))
        return res
    o = out.astype(np.float64)
    finite = np.isfinite(o)
    if not finite.all():
        bad = np.argwhere(~finite)
        res["why"].append("%d non-finite output element(s), first at %s"
                          % (bad.shape[0], bad[:3].tolist()))
    diff = np.where(finite, o, 0.0) - ref
    res["rel_err"] = float(np.linalg.norm(diff) / np.linalg.norm(ref))
    res["max_abs_err"] = float(np.abs(diff).max())
    tol = REL_TOL.get(out.dtype, 1e-4)
    if not res["rel_err"] < tol:
        worst = np.unravel_index(np.argmax(np.abs(diff)), diff.shape)
        res["why"].append("rel err %.3g >= %g (worst at %s: seqc %.6g, "
                          "reference %.6g)" % (res["rel_err"], tol,
                                               list(worst), o[worst],
                                               ref[worst]))
    return res


def _median_ms(fn, runs):
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * float(np.median(times))


def run_example(ex, module=None, timing=True):
    """Compile (unless ``module`` is given), run and check one example.
    Returns a dict: the table row's fields, 'ok', 'why', 'out', 'ref',
    'inputs'."""
    row = {"model": ex.func, "shapes": ex.shapes_label(), "seqc_ms": None,
           "numpy_ms": None, "compile_s": None, "rel_err": float("nan"),
           "max_abs_err": float("nan"), "why": [], "ok": False}
    if ex.reference is None:
        row["why"].append("no NumPy reference for @%s in reference_models.py"
                          % ex.func)
        return row
    row["why"] += ex.constant_mismatches()
    inputs = make_inputs(ex)
    args = list(inputs.values())
    try:
        if module is None:
            t0 = time.perf_counter()
            module = compile_example(ex)
            fn = module[ex.func]
            out = fn(*args)                      # warm-up (JIT on first call)
            row["compile_s"] = time.perf_counter() - t0
        else:
            fn = module[ex.func]
            out = fn(*args)
    except Exception as e:  # SeqcError, or a signature mismatch
        row["why"].append("%s: %s" % (type(e).__name__, e))
        return row
    row["why"] += check_signature(ex, fn)
    if timing:
        row["seqc_ms"] = _median_ms(lambda: fn(*args), SEQC_RUNS)
    out = fn(*args)
    ref = reference(ex, inputs)
    if timing:
        row["numpy_ms"] = _median_ms(lambda: reference(ex, inputs), NUMPY_RUNS)
    res = evaluate(ex, out, ref)
    row.update(rel_err=res["rel_err"], max_abs_err=res["max_abs_err"])
    row["why"] += res["why"]
    row.update(ok=not row["why"], out=out, ref=ref, inputs=inputs,
               module=module)
    return row


def _fmt_ms(v):
    return "-" if v is None else "%.2f" % v


def print_table(rows, file=sys.stdout):
    head = ("model", "shapes", "seqc ms", "numpy ms", "rel err",
            "max abs err", "status")
    cells = [head] + [(r["model"], r["shapes"], _fmt_ms(r["seqc_ms"]),
                       _fmt_ms(r["numpy_ms"]), "%.2e" % r["rel_err"],
                       "%.2e" % r["max_abs_err"],
                       "ok" if r["ok"] else "FAIL") for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(head))]
    right = {2, 3, 4, 5}
    for n, c in enumerate(cells):
        print(" | ".join(s.rjust(w) if i in right else s.ljust(w)
                         for i, (s, w) in enumerate(zip(c, widths))),
              file=file)
        if n == 0:
            print("-+-".join("-" * w for w in widths), file=file)


def main(argv):
    names = argv[1:]
    paths = [prepare(n).path for n in names] if names else example_paths()
    rows = []
    for path in paths:
        try:
            ex = Example(path)
        except (OSError, ValueError) as e:
            rows.append({"model": os.path.basename(path), "shapes": "?",
                         "seqc_ms": None, "numpy_ms": None,
                         "compile_s": None, "rel_err": float("nan"),
                         "max_abs_err": float("nan"), "ok": False,
                         "why": ["cannot read the signature: %s" % e]})
            continue
        rows.append(run_example(ex))
    print_table(rows)
    compiled = ["%s %.2fs" % (r["model"], r["compile_s"]) for r in rows
                if r.get("compile_s") is not None]
    if compiled:
        print("compile + first call: " + ", ".join(compiled))
    print("pass: finite and rel err = ||seqc - ref|| / ||ref|| < 1e-4 "
          "(f32) vs float64 NumPy; seqc ms median of %d, numpy ms median "
          "of %d" % (SEQC_RUNS, NUMPY_RUNS))
    failed = [r for r in rows if not r["ok"]]
    for r in failed:
        print("FAIL %s: %s" % (r["model"], "; ".join(r["why"])),
              file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
