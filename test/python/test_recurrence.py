"""seq.recurrence end to end: RNN, LSTM and GRU cells written as recurrence
bodies, compiled with seqc.compile and checked against float64 NumPy cells
written here, independently of the compiler. The input projection x_t·W is
hoisted out of the time loop by the lowering; these runs check that the
hoisted form computes the same thing for time along any dimension, reversed,
and with outputs that are hoisted values themselves."""

import numpy as np
import pytest

import seqc
from testutil import assert_close, f64, randn, rng, strided

pytestmark = pytest.mark.needs_library


def t(*shape):
    return "tensor<" + "x".join(str(s) for s in shape) + "xf32>"


def stacked_shape(step, dim, length):
    shape = list(step)
    shape.insert(dim, length)
    return tuple(shape)


def sigmoid_mlir(v, shape, name):
    """Lines computing sigmoid(v) on a tensor with arith/math ops."""
    ty = t(*shape)
    return f"""
    %{name}_n = arith.negf %{v} : {ty}
    %{name}_e = math.exp %{name}_n : {ty}
    %{name}_d = arith.addf %{name}_e, %one : {ty}
    %{name} = arith.divf %one, %{name}_d : {ty}"""


def matmul_mlir(name, lhs, rhs, m, k, n, acc):
    return (f"\n    %{name} = linalg.matmul ins(%{lhs}, %{rhs} : {t(m, k)}, {t(k, n)}) "
            f"outs(%{acc} : {t(m, n)}) -> {t(m, n)}")


def zeros_mlir(name, m, n):
    return f"""
    %{name}_e = tensor.empty() : {t(m, n)}
    %{name} = linalg.fill ins(%zero : f32) outs(%{name}_e : {t(m, n)}) -> {t(m, n)}"""


def column_slice(name, v, m, n, col, width):
    return (f"\n    %{name} = tensor.extract_slice %{v}[0, {col}] [{m}, {width}] [1, 1] "
            f": {t(m, n)} to {t(m, width)}")


def rnn_module(B, T, I, H, dim, reverse, with_projection_output=False):
    xs = stacked_shape((B, I), dim, T)
    ys = stacked_shape((B, H), dim, T)
    rev = ", reverse" if reverse else ""
    outs = [t(*ys)] + ([t(*stacked_shape((B, H), dim, T))] if with_projection_output else [])
    extra_yield = ", %xw" if with_projection_output else ""
    extra_type = f", {t(B, H)}" if with_projection_output else ""
    return f"""
func.func @rnn(%h0: {t(B, H)}, %x: {t(*xs)}, %w: {t(I, H)}, %u: {t(H, H)}, %bias: {t(H)})
    -> ({", ".join(outs)}, {t(B, H)}) {{
  %r:{len(outs) + 1} = seq.recurrence init(%h0 : {t(B, H)}) ins(%x : {t(*xs)}) {{dim = {dim} : i64{rev}}}
      -> {", ".join(outs)}, {t(B, H)} {{
  ^bb0(%hp: {t(B, H)}, %xt: {t(B, I)}):
    %zero = arith.constant 0.0 : f32{zeros_mlir("z", B, H)}{matmul_mlir("xw", "xt", "w", B, I, H, "z")}
    %e = tensor.empty() : {t(B, H)}
    %xb = linalg.generic {{indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j)>,
                                          affine_map<(i, j) -> (i, j)>],
                         iterator_types = ["parallel", "parallel"]}}
        ins(%xw, %bias : {t(B, H)}, {t(H)}) outs(%e : {t(B, H)}) {{
      ^bb0(%a: f32, %bb: f32, %o: f32):
        %s = arith.addf %a, %bb : f32
        linalg.yield %s : f32
    }} -> {t(B, H)}{matmul_mlir("hu", "hp", "u", B, H, H, "xb")}
    %hn = math.tanh %hu : {t(B, H)}
    seq.yield %hn, %hn{extra_yield} : {t(B, H)}, {t(B, H)}{extra_type}
  }}
  return {", ".join(f"%r#{i}" for i in range(len(outs) + 1))} : {", ".join(outs)}, {t(B, H)}
}}
"""


def run_cell(cell, x, states, dim, reverse):
    """Iterates cell(states, x_t) -> (states, outputs) along dim of x."""
    T = x.shape[dim]
    steps = range(T - 1, -1, -1) if reverse else range(T)
    outputs = None
    for step in steps:
        states, ys = cell(states, np.take(x, step, axis=dim))
        if outputs is None:
            outputs = [np.zeros(stacked_shape(y.shape, dim, T)) for y in ys]
        for out, y in zip(outputs, ys):
            index = [slice(None)] * out.ndim
            index[dim] = step
            out[tuple(index)] = y
    return outputs, states


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


@pytest.mark.parametrize("dim,reverse", [(0, False), (1, True), (2, False), (1, False)])
@pytest.mark.parametrize("B,T,I,H", [(2, 10, 16, 32), (3, 7, 5, 9), (1, 1, 4, 8)])
def test_rnn(B, T, I, H, dim, reverse):
    r = rng(100 + B * T + dim)
    m = seqc.compile(rnn_module(B, T, I, H, dim, reverse))
    h0 = randn(r, (B, H))
    x = randn(r, stacked_shape((B, I), dim, T))
    w, u, bias = randn(r, (I, H)) * 0.3, randn(r, (H, H)) * 0.3, randn(r, (H,))
    ys, h = m.rnn(h0, x, w, u, bias)

    def cell(states, xt):
        hn = np.tanh(xt @ f64(w) + f64(bias) + states[0] @ f64(u))
        return [hn], [hn]

    (ys_ref,), (h_ref,) = run_cell(cell, f64(x), [f64(h0)], dim, reverse)
    assert_close(ys, ys_ref, np.float32)
    assert_close(h, h_ref, np.float32)


def test_rnn_strided_input_and_hoisted_output():
    B, T, I, H = 4, 12, 6, 10
    r = rng(7)
    m = seqc.compile(rnn_module(B, T, I, H, 1, False, with_projection_output=True))
    h0 = randn(r, (B, H))
    x = strided(randn(r, (B, T, I)), "offset")
    w, u, bias = randn(r, (I, H)), randn(r, (H, H)) * 0.2, randn(r, (H,))
    ys, xws, h = m.rnn(h0, x, w, u, bias)
    assert_close(xws, np.einsum("bti,ih->bth", f64(x), f64(w)), np.float32)

    def cell(states, xt):
        hn = np.tanh(xt @ f64(w) + f64(bias) + states[0] @ f64(u))
        return [hn], [hn]

    (ys_ref,), (h_ref,) = run_cell(cell, f64(x), [f64(h0)], 1, False)
    assert_close(ys, ys_ref, np.float32)
    assert_close(h, h_ref, np.float32)


def lstm_module(B, T, I, H):
    G = 4 * H
    gates = "".join(column_slice(n, "g", B, G, k * H, H) for k, n in enumerate("ifco"))
    return f"""
func.func @lstm(%h0: {t(B, H)}, %c0: {t(B, H)}, %x: {t(T, B, I)}, %w: {t(I, G)}, %u: {t(H, G)})
    -> ({t(T, B, H)}, {t(B, H)}, {t(B, H)}) {{
  %ys, %h, %c = seq.recurrence init(%h0, %c0 : {t(B, H)}, {t(B, H)}) ins(%x : {t(T, B, I)}) {{dim = 0 : i64}}
      -> {t(T, B, H)}, {t(B, H)}, {t(B, H)} {{
  ^bb0(%hp: {t(B, H)}, %cp: {t(B, H)}, %xt: {t(B, I)}):
    %zero = arith.constant 0.0 : f32
    %one = arith.constant dense<1.0> : {t(B, H)}{zeros_mlir("z", B, G)}{matmul_mlir("xw", "xt", "w", B, I, G, "z")}{matmul_mlir("g", "hp", "u", B, H, G, "xw")}{gates}{sigmoid_mlir("i", (B, H), "si")}{sigmoid_mlir("f", (B, H), "sf")}{sigmoid_mlir("o", (B, H), "so")}
    %tc = math.tanh %c : {t(B, H)}
    %fc = arith.mulf %sf, %cp : {t(B, H)}
    %ic = arith.mulf %si, %tc : {t(B, H)}
    %cn = arith.addf %fc, %ic : {t(B, H)}
    %tcn = math.tanh %cn : {t(B, H)}
    %hn = arith.mulf %so, %tcn : {t(B, H)}
    seq.yield %hn, %cn, %hn : {t(B, H)}, {t(B, H)}, {t(B, H)}
  }}
  return %ys, %h, %c : {t(T, B, H)}, {t(B, H)}, {t(B, H)}
}}
"""


@pytest.mark.parametrize("B,T,I,H", [(2, 9, 8, 16), (3, 33, 5, 7)])
def test_lstm(B, T, I, H):
    r = rng(200 + T)
    m = seqc.compile(lstm_module(B, T, I, H))
    h0, c0 = randn(r, (B, H)), randn(r, (B, H))
    x = randn(r, (T, B, I))
    w, u = randn(r, (I, 4 * H)) * 0.4, randn(r, (H, 4 * H)) * 0.4
    ys, h, c = m.lstm(h0, c0, x, w, u)

    def cell(states, xt):
        hp, cp = states
        g = xt @ f64(w) + hp @ f64(u)
        i, f, cc, o = (g[:, k * H:(k + 1) * H] for k in range(4))
        cn = sigmoid(f) * cp + sigmoid(i) * np.tanh(cc)
        hn = sigmoid(o) * np.tanh(cn)
        return [hn, cn], [hn]

    (ys_ref,), (h_ref, c_ref) = run_cell(cell, f64(x), [f64(h0), f64(c0)], 0, False)
    assert_close(ys, ys_ref, np.float32)
    assert_close(h, h_ref, np.float32)
    assert_close(c, c_ref, np.float32)


def gru_module(B, T, I, H):
    G = 3 * H
    xs = "".join(column_slice(n, "xw", B, G, k * H, H) for k, n in enumerate(["xr", "xz", "xn"]))
    hs = "".join(column_slice(n, "hu", B, G, k * H, H) for k, n in enumerate(["hr", "hz", "hn"]))
    return f"""
func.func @gru(%h0: {t(B, H)}, %x: {t(B, T, I)}, %w: {t(I, G)}, %u: {t(H, G)})
    -> ({t(B, T, H)}, {t(B, H)}) {{
  %ys, %h = seq.recurrence init(%h0 : {t(B, H)}) ins(%x : {t(B, T, I)}) {{dim = 1 : i64, reverse}}
      -> {t(B, T, H)}, {t(B, H)} {{
  ^bb0(%hp: {t(B, H)}, %xt: {t(B, I)}):
    %zero = arith.constant 0.0 : f32
    %one = arith.constant dense<1.0> : {t(B, H)}{zeros_mlir("z", B, G)}{zeros_mlir("z2", B, G)}{matmul_mlir("xw", "xt", "w", B, I, G, "z")}{matmul_mlir("hu", "hp", "u", B, H, G, "z2")}{xs}{hs}
    %ar = arith.addf %xr, %hr : {t(B, H)}
    %az = arith.addf %xz, %hz : {t(B, H)}{sigmoid_mlir("ar", (B, H), "rr")}{sigmoid_mlir("az", (B, H), "zz")}
    %rh = arith.mulf %rr, %hn : {t(B, H)}
    %an = arith.addf %xn, %rh : {t(B, H)}
    %nn = math.tanh %an : {t(B, H)}
    %omz = arith.subf %one, %zz : {t(B, H)}
    %a1 = arith.mulf %omz, %nn : {t(B, H)}
    %a2 = arith.mulf %zz, %hp : {t(B, H)}
    %hnew = arith.addf %a1, %a2 : {t(B, H)}
    seq.yield %hnew, %hnew : {t(B, H)}, {t(B, H)}
  }}
  return %ys, %h : {t(B, T, H)}, {t(B, H)}
}}
"""


@pytest.mark.parametrize("B,T,I,H", [(2, 11, 6, 12), (1, 1, 3, 5)])
def test_gru(B, T, I, H):
    r = rng(300 + T)
    m = seqc.compile(gru_module(B, T, I, H))
    h0, x = randn(r, (B, H)), randn(r, (B, T, I))
    w, u = randn(r, (I, 3 * H)) * 0.4, randn(r, (H, 3 * H)) * 0.4
    ys, h = m.gru(h0, x, w, u)

    def cell(states, xt):
        hp = states[0]
        xw, hu = xt @ f64(w), hp @ f64(u)
        xr, xz, xn = (xw[:, k * H:(k + 1) * H] for k in range(3))
        hr, hz, hn = (hu[:, k * H:(k + 1) * H] for k in range(3))
        rr, zz = sigmoid(xr + hr), sigmoid(xz + hz)
        n = np.tanh(xn + rr * hn)
        hnew = (1 - zz) * n + zz * hp
        return [hnew], [hnew]

    (ys_ref,), (h_ref,) = run_cell(cell, f64(x), [f64(h0)], 1, True)
    assert_close(ys, ys_ref, np.float32)
    assert_close(h, h_ref, np.float32)


ELEMENTWISE = """
func.func @leaky(%h0: tensor<5xf32>, %x: tensor<6x5xf32>, %g: tensor<6xf32>) -> (tensor<6x5xf32>, tensor<5xf32>) {
  %ys, %h = seq.recurrence init(%h0 : tensor<5xf32>) ins(%x, %g : tensor<6x5xf32>, tensor<6xf32>) {dim = 0 : i64}
      -> tensor<6x5xf32>, tensor<5xf32> {
  ^bb0(%hp: tensor<5xf32>, %xt: tensor<5xf32>, %gt: tensor<f32>):
    %e = tensor.empty() : tensor<5xf32>
    %gb = linalg.broadcast ins(%gt : tensor<f32>) outs(%e : tensor<5xf32>) dimensions = [0]
    %s = arith.mulf %hp, %gb : tensor<5xf32>
    %a = arith.addf %s, %xt : tensor<5xf32>
    %hn = math.tanh %a : tensor<5xf32>
    seq.yield %hn, %a : tensor<5xf32>, tensor<5xf32>
  }
  return %ys, %h : tensor<6x5xf32>, tensor<5xf32>
}
"""


def test_elementwise_body_with_scalar_input():
    """No contraction: nothing is hoisted and the body runs per step; the
    yielded output is not the new state."""
    r = rng(9)
    m = seqc.compile(ELEMENTWISE)
    h0, x, g = randn(r, (5,)), randn(r, (6, 5)), randn(r, (6,))
    ys, h = m.leaky(h0, x, g)

    def cell(states, inputs):
        a = states[0] * inputs[1] + inputs[0]
        return [np.tanh(a)], [a]

    hp, ys_ref = f64(h0), np.zeros((6, 5))
    for step in range(6):
        (hp,), (ys_ref[step],) = cell([hp], [f64(x[step]), f64(g[step])])
    assert_close(ys, ys_ref, np.float32)
    assert_close(h, hp, np.float32)
