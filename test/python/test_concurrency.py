"""The compiler, its cache and the runtime from several threads at once.

ctypes releases the GIL around every C call, so these threads really run
seqc_compile and seqc_invoke concurrently: the same source compiled by many
threads (the compile cache), different sources compiled side by side, and
one module invoked from many threads with different inputs. Every result is
checked against float64 NumPy.
"""

import threading

import numpy as np
import pytest

import seqc
import reference as ref
from testutil import f64, rng

pytestmark = pytest.mark.needs_library

THREADS = 8


def run_threads(work, n=THREADS):
    errors, results = [], [None] * n
    barrier = threading.Barrier(n)

    def body(i):
        try:
            barrier.wait()
            results[i] = work(i)
        except BaseException as e:  # reported below, with the thread
            errors.append((i, e))
    threads = [threading.Thread(target=body, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    assert not errors, errors
    return results


RECURRENCE = """
func.func @f(%a: tensor<3xTxf32>, %b: tensor<3xTxf32>) -> tensor<3xTxf32> {
  %h, %last = seq.linear_recurrence %a, %b {dim = 1 : i64}
      : tensor<3xTxf32>, tensor<3xTxf32> -> tensor<3xTxf32>, tensor<3xf32>
  return %h : tensor<3xTxf32>
}
"""


def source(T):
    return RECURRENCE.replace("3xTx", "3x%dx" % T)


def inputs(seed, T):
    r = rng(seed)
    return (r.uniform(0.5, 1.0, (3, T)).astype(np.float32),
            r.standard_normal((3, T)).astype(np.float32))


def check(h, a, b):
    want = ref.linear_recurrence(f64(a), f64(b), dim=1)[0]
    np.testing.assert_allclose(np.asarray(h), want, rtol=1e-5, atol=1e-5)


def test_same_source_from_many_threads():
    text = source(37)

    def work(i):
        module = seqc.compile(text, target="cpu")
        a, b = inputs(i, 37)
        check(module.f(a, b), a, b)
        return module
    modules = run_threads(work)
    assert len(modules) == THREADS


def test_different_sources_side_by_side():
    def work(i):
        T = 5 + 7 * i
        module = seqc.compile(source(T), target="cpu")
        for rep in range(3):
            a, b = inputs(100 * i + rep, T)
            check(module.f(a, b), a, b)
    run_threads(work)


def test_one_module_many_callers():
    module = seqc.compile(source(129), target="cpu")

    def work(i):
        for rep in range(20):
            a, b = inputs(1000 * i + rep, 129)
            check(module.f(a, b), a, b)
    run_threads(work)


def test_functional_ops_from_many_threads():
    """The functional ops' module cache, filled and read concurrently."""
    def work(i):
        r = rng(7 + i)
        q = r.standard_normal((1, 2, 5 + i % 3, 8)).astype(np.float32)
        k = r.standard_normal((1, 2, 9, 8)).astype(np.float32)
        v = r.standard_normal((1, 2, 9, 8)).astype(np.float32)
        out = seqc.attention(q, k, v, causal=True)
        want = ref.attention(f64(q), f64(k), f64(v), causal=True)[0]
        np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-5)
    run_threads(work)


@pytest.mark.cuda
def test_cuda_module_many_callers():
    """One CUDA module from many threads, NumPy arrays staged through the
    device by each call, every result checked; then the same with torch
    tensors, each thread on its own stream."""
    import torch
    module = seqc.compile(source(129), target="cuda")

    def numpy_work(i):
        for rep in range(10):
            a, b = inputs(2000 * i + rep, 129)
            check(module.f(a, b), a, b)
    run_threads(numpy_work)

    def torch_work(i):
        stream = torch.cuda.Stream()
        with torch.cuda.stream(stream):
            for rep in range(10):
                a, b = inputs(3000 * i + rep, 129)
                h = module.f(torch.from_numpy(a).cuda(), torch.from_numpy(b).cuda())
                stream.synchronize()
                check(h.cpu().numpy(), a, b)
    run_threads(torch_work)
