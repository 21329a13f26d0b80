"""A small MLIR text emitter for the model library.

Values are tensors with static shapes; every helper returns a ``Val`` (its
SSA name, shape and element type) and appends the lines that define it. The
emitted code is what a frontend would write: ``seq`` ops for the sequence
mixers, upstream ``linalg``/``tensor``/``arith``/``math`` for the rest.
"""

import re


def tensor_type(shape, dtype="f32"):
    return "tensor<" + "".join("%dx" % s for s in shape) + dtype + ">"


class Val:
    __slots__ = ("name", "shape", "dtype")

    def __init__(self, name, shape, dtype="f32"):
        self.name, self.shape, self.dtype = name, tuple(shape), dtype

    @property
    def type(self):
        return tensor_type(self.shape, self.dtype)

    def __repr__(self):
        return "%s : %s" % (self.name, self.type)


def ssa_name(text):
    """A valid SSA name for a parameter name (`model.layers.0.q` ->
    `%model_layers_0_q`)."""
    return "%" + re.sub(r"[^A-Za-z0-9_]", "_", text)


def _map(n, dims):
    return "affine_map<(%s) -> (%s)>" % (
        ", ".join("d%d" % i for i in range(n)),
        ", ".join(d if isinstance(d, str) else "d%d" % d for d in dims))


class Emitter:
    def __init__(self):
        self.lines = []
        self._count = 0

    # -- basics -------------------------------------------------------------
    def fresh(self, hint="v"):
        self._count += 1
        return "%%%s%d" % (hint, self._count)

    def emit(self, line):
        self.lines.append("  " + line)

    def empty(self, shape, dtype="f32"):
        v = Val(self.fresh("e"), shape, dtype)
        self.emit("%s = tensor.empty() : %s" % (v.name, v.type))
        return v

    def full(self, shape, value, dtype="f32"):
        c = self.fresh("c")
        self.emit("%s = arith.constant %s : %s" % (c, _float(value) if dtype.startswith("f") else int(value), dtype))
        e = self.empty(shape, dtype)
        v = Val(self.fresh("fill"), shape, dtype)
        self.emit("%s = linalg.fill ins(%s : %s) outs(%s : %s) -> %s"
                  % (v.name, c, dtype, e.name, e.type, v.type))
        return v

    def generic(self, ins, iter_shape, out_dims, body, init=None,
                reductions=(), dtype="f32", hint="g"):
        """linalg.generic over `iter_shape`. `ins`: [(Val, dims)], dims
        naming the iteration dims (ints) or constant indices ("0") that
        index the input. The result has the iteration dims `out_dims`.
        `body(args, out)` gets the scalar names of the inputs and of the
        output element and returns (lines, yielded name)."""
        n = len(iter_shape)
        out_shape = [iter_shape[d] for d in out_dims]
        if init is None:
            init = self.empty(out_shape, dtype)
        maps = [_map(n, dims) for _, dims in ins] + [_map(n, out_dims)]
        iters = ", ".join('"reduction"' if i in reductions else '"parallel"'
                          for i in range(n))
        v = Val(self.fresh(hint), out_shape, init.dtype)
        ins_text = ""
        if ins:
            ins_text = " ins(%s : %s)" % (", ".join(x.name for x, _ in ins),
                                          ", ".join(x.type for x, _ in ins))
        self.emit("%s = linalg.generic {indexing_maps = [%s], iterator_types = [%s]}%s outs(%s : %s) {"
                  % (v.name, ", ".join(maps), iters, ins_text, init.name, init.type))
        args = ["%%a%d_%s" % (i, v.name[1:]) for i in range(len(ins))]
        out = "%%o_%s" % v.name[1:]
        self.lines.append("  ^bb0(%s):" % ", ".join(
            ["%s: %s" % (a, x.dtype) for a, (x, _) in zip(args, ins)] +
            ["%s: %s" % (out, init.dtype)]))
        lines, result = body(args, out)
        for line in lines:
            self.emit("  " + line)
        self.emit("  linalg.yield %s : %s" % (result, init.dtype))
        self.emit("} -> %s" % v.type)
        return v

    def map(self, fn, *vals, hint="m"):
        """Elementwise fn over same-shaped values: fn(names, tmp) -> (lines,
        result); `tmp(hint)` makes fresh scalar names."""
        shape = vals[0].shape
        dims = tuple(range(len(shape)))
        return self.generic([(v, dims) for v in vals], shape, dims,
                            lambda a, o: fn(a, self._tmp), hint=hint)

    def _tmp(self, hint="s"):
        return self.fresh(hint)

    # -- shapes -------------------------------------------------------------
    def reshape(self, x, shape, groups):
        """expand_shape (more dims) or collapse_shape (fewer) with
        reassociation `groups`."""
        v = Val(self.fresh("r"), shape, x.dtype)
        text = "[" + ", ".join("[" + ", ".join(map(str, g)) + "]" for g in groups) + "]"
        if len(shape) > len(x.shape):
            self.emit("%s = tensor.expand_shape %s %s output_shape [%s] : %s into %s"
                      % (v.name, x.name, text, ", ".join(map(str, shape)), x.type, v.type))
        else:
            self.emit("%s = tensor.collapse_shape %s %s : %s into %s"
                      % (v.name, x.name, text, x.type, v.type))
        return v

    def transpose(self, x, perm):
        shape = [x.shape[p] for p in perm]
        e = self.empty(shape, x.dtype)
        v = Val(self.fresh("t"), shape, x.dtype)
        self.emit("%s = linalg.transpose ins(%s : %s) outs(%s : %s) permutation = [%s]"
                  % (v.name, x.name, x.type, e.name, e.type, ", ".join(map(str, perm))))
        return v

    def slice(self, x, offsets, sizes):
        v = Val(self.fresh("sl"), sizes, x.dtype)
        self.emit("%s = tensor.extract_slice %s[%s] [%s] [%s] : %s to %s"
                  % (v.name, x.name, ", ".join(map(str, offsets)),
                     ", ".join(map(str, sizes)), ", ".join("1" for _ in sizes),
                     x.type, v.type))
        return v

    def insert(self, x, into, offsets):
        """tensor.insert_slice; offsets may be SSA index names."""
        v = Val(self.fresh("ins"), into.shape, into.dtype)
        self.emit("%s = tensor.insert_slice %s into %s[%s] [%s] [%s] : %s into %s"
                  % (v.name, x.name, into.name, ", ".join(map(str, offsets)),
                     ", ".join(map(str, x.shape)), ", ".join("1" for _ in x.shape),
                     x.type, into.type))
        return v

    def index_of(self, x):
        """The index value of element 0 of an i32 tensor (a position)."""
        c0 = self.fresh("c")
        self.emit("%s = arith.constant 0 : index" % c0)
        s = self.fresh("p")
        idx = ", ".join(c0 for _ in x.shape)
        self.emit("%s = tensor.extract %s[%s] : %s" % (s, x.name, idx, x.type))
        i = self.fresh("pi")
        self.emit("%s = arith.index_cast %s : %s to index" % (i, s, x.dtype))
        return i

    # -- compute ------------------------------------------------------------
    def matmul(self, x, w):
        (m, k), (k2, n) = x.shape, w.shape
        assert k == k2, (x, w)
        init = self.full((m, n), 0.0)
        v = Val(self.fresh("mm"), (m, n))
        self.emit("%s = linalg.matmul ins(%s, %s : %s, %s) outs(%s : %s) -> %s"
                  % (v.name, x.name, w.name, x.type, w.type, init.name, init.type, v.type))
        return v

    def linear(self, x, w, bias=None):
        """x [..., K] · w [K, N] (+ bias [N])."""
        lead = x.shape[:-1]
        rows = 1
        for s in lead:
            rows *= s
        x2 = x if len(x.shape) == 2 else self.reshape(
            x, (rows, x.shape[-1]), [list(range(len(lead))), [len(lead)]])
        y = self.matmul(x2, w)
        if bias is not None:
            y = self.generic([(y, (0, 1)), (bias, (1,))], y.shape, (0, 1),
                             lambda a, o: self._add(a), hint="lb")
        if len(x.shape) == 2:
            return y
        return self.reshape(y, lead + (w.shape[1],),
                            [list(range(len(lead))), [len(lead)]])

    def _add(self, a):
        s = self.fresh("s")
        return ["%s = arith.addf %s, %s : f32" % (s, a[0], a[1])], s

    def add(self, x, y):
        return self.map(lambda a, t: self._add(a), x, y, hint="add")

    def mul(self, x, y):
        def body(a, t):
            s = t()
            return ["%s = arith.mulf %s, %s : f32" % (s, a[0], a[1])], s
        return self.map(body, x, y, hint="mul")

    def silu_lines(self, x, t):
        n, e, one, d, s = t(), t(), t(), t(), t()
        return ["%s = arith.negf %s : f32" % (n, x),
                "%s = math.exp %s : f32" % (e, n),
                "%s = arith.constant 1.0 : f32" % one,
                "%s = arith.addf %s, %s : f32" % (d, one, e),
                "%s = arith.divf %s, %s : f32" % (s, x, d)], s

    def sigmoid_lines(self, x, t):
        n, e, one, d, s = t(), t(), t(), t(), t()
        return ["%s = arith.negf %s : f32" % (n, x),
                "%s = math.exp %s : f32" % (e, n),
                "%s = arith.constant 1.0 : f32" % one,
                "%s = arith.addf %s, %s : f32" % (d, one, e),
                "%s = arith.divf %s, %s : f32" % (s, one, d)], s

    def _log1p_exp_lines(self, x, t, bound, combine):
        """bound(x, 0) combine log1p(exp(-|x|)): softplus and log-sigmoid
        without overflow."""
        ab, n, e, l, z, m, s = t(), t(), t(), t(), t(), t(), t()
        return ["%s = math.absf %s : f32" % (ab, x),
                "%s = arith.negf %s : f32" % (n, ab),
                "%s = math.exp %s : f32" % (e, n),
                "%s = math.log1p %s : f32" % (l, e),
                "%s = arith.constant 0.0 : f32" % z,
                "%s = arith.%s %s, %s : f32" % (m, bound, x, z),
                "%s = arith.%s %s, %s : f32" % (s, combine, m, l)], s

    def softplus_lines(self, x, t):
        # max(x, 0) + log1p(exp(-|x|))
        return self._log1p_exp_lines(x, t, "maximumf", "addf")

    def softplus_sum_lines(self, args, t):
        """softplus(args[0] + args[1]) (a step size and its bias)."""
        s = t()
        lines, y = self.softplus_lines(s, t)
        return ["%s = arith.addf %s, %s : f32" % (s, args[0], args[1])] + lines, y

    def logsigmoid_lines(self, x, t):
        # min(x, 0) - log1p(exp(-|x|))
        return self._log1p_exp_lines(x, t, "minimumf", "subf")

    def silu(self, x):
        return self.map(lambda a, t: self.silu_lines(a[0], t), x, hint="silu")

    def swiglu(self, gate, up):
        def body(a, t):
            lines, s = self.silu_lines(a[0], t)
            p = t()
            return lines + ["%s = arith.mulf %s, %s : f32" % (p, s, a[1])], p
        return self.map(body, gate, up, hint="swiglu")

    def rms_norm(self, x, w, eps):
        v = Val(self.fresh("rms"), x.shape)
        self.emit("%s = seq.rms_norm %s, %s {eps = %s : f32} : %s, %s -> %s"
                  % (v.name, x.name, w.name, _float(eps), x.type, w.type, v.type))
        return v

    def layer_norm(self, x, w, b, eps):
        """LayerNorm over the last dim (biased variance), as torch."""
        lead, d = x.shape[:-1], x.shape[-1]
        n = len(x.shape)
        par = tuple(range(n - 1))
        zero = self.full(lead, 0.0)
        total = self.generic([(x, tuple(range(n)))], x.shape, par,
                             lambda a, o: self._add([a[0], o]), init=zero,
                             reductions=(n - 1,), hint="sum")

        def centered_sq(a, o):
            inv, c, q, s = self.fresh(), self.fresh(), self.fresh(), self.fresh()
            return ["%s = arith.constant %s : f32" % (inv, _float(1.0 / d)),
                    "%s = arith.mulf %s, %s : f32" % (c, a[1], inv),
                    "%s = arith.subf %s, %s : f32" % (q, a[0], c),
                    "%s = math.fma %s, %s, %s : f32" % (s, q, q, o)], s
        zero2 = self.full(lead, 0.0)
        sq = self.generic([(x, tuple(range(n))), (total, par)], x.shape, par,
                          centered_sq, init=zero2, reductions=(n - 1,), hint="var")

        def norm(a, o):
            t = self.fresh
            inv, mean, c, var, ep, ve, r, y, yw, yb = (t() for _ in range(10))
            return ["%s = arith.constant %s : f32" % (inv, _float(1.0 / d)),
                    "%s = arith.mulf %s, %s : f32" % (mean, a[1], inv),
                    "%s = arith.subf %s, %s : f32" % (c, a[0], mean),
                    "%s = arith.mulf %s, %s : f32" % (var, a[2], inv),
                    "%s = arith.constant %s : f32" % (ep, _float(eps)),
                    "%s = arith.addf %s, %s : f32" % (ve, var, ep),
                    "%s = math.rsqrt %s : f32" % (r, ve),
                    "%s = arith.mulf %s, %s : f32" % (y, c, r),
                    "%s = arith.mulf %s, %s : f32" % (yw, y, a[3]),
                    "%s = arith.addf %s, %s : f32" % (yb, yw, a[4])], yb
        return self.generic([(x, tuple(range(n))), (total, par), (sq, par),
                             (w, (n - 1,)), (b, (n - 1,))], x.shape,
                            tuple(range(n)), norm, hint="ln")

    def gather_rows(self, table, ids, clamp=True):
        """table[ids[...], :] for an int32 id tensor: [*ids.shape, D]."""
        rows, d = table.shape
        n = len(ids.shape) + 1

        def body(a, o):
            t = self.fresh
            i, lo, hi, c1, c2, col, v = t(), t(), t(), t(), t(), t(), t()
            return ["%s = arith.constant 0 : i32" % lo,
                    "%s = arith.constant %d : i32" % (hi, rows - 1),
                    "%s = arith.maxsi %s, %s : i32" % (c1, a[0], lo),
                    "%s = arith.minsi %s, %s : i32" % (c2, c1, hi),
                    "%s = arith.index_cast %s : i32 to index" % (i, c2),
                    "%s = linalg.index %d : index" % (col, n - 1),
                    "%s = tensor.extract %s[%s, %s] : %s" % (v, table.name, i, col, table.type)], v
        return self.generic([(ids, tuple(range(n - 1)))], ids.shape + (d,),
                            tuple(range(n)), body, hint="emb")

    def iota(self, n, offset=None):
        """[offset + 0, ..., offset + n - 1] as i32 (offset: an i32 [1]
        tensor or None)."""
        def body(a, o):
            t = self.fresh
            i, c = t(), t()
            lines = ["%s = linalg.index 0 : index" % i,
                     "%s = arith.index_cast %s : index to i32" % (c, i)]
            if offset is None:
                return lines, c
            s = t()
            return lines + ["%s = arith.addi %s, %s : i32" % (s, c, a[0])], s
        ins = [] if offset is None else [(offset, ("0",))]
        return self.generic(ins, (n,), (0,), body, dtype="i32", hint="iota")


def _float(x):
    text = repr(float(x))
    if "e" in text or "inf" in text or "nan" in text:
        return "%.9e" % float(x)
    return text


def function(name, args, results, body_lines, result_vals, in_place=None):
    """The text of `func.func @name(args) -> results`; in_place maps result
    index -> argument index (seq.in_place)."""
    in_place = in_place or {}
    sig = ",\n    ".join("%s: %s" % (a.name, a.type) for a in args)
    outs = ", ".join(r.type + (" {seq.in_place = %d : i64}" % in_place[i]
                               if i in in_place else "")
                     for i, r in enumerate(results))
    text = "func.func @%s(%s)\n    -> (%s) {\n" % (name, sig, outs)
    text += "\n".join(body_lines) + "\n"
    text += "  return %s : %s\n}\n" % (", ".join(v.name for v in result_vals),
                                      ", ".join(v.type for v in result_vals))
    return text
