"""gpu_bench.timed_together: seqc and its baseline timed in alternating
rounds (order reversed every other round), each function's own median."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                "benchmarks"))
import gpu_bench  # noqa: E402


class FakeTorch:
    """Just what event_seconds and timed_together use: CUDA events on a
    clock that each timed function advances by its own duration."""

    def __init__(self):
        self.clock_ms = 0.0
        outer = self

        class CudaEvent:
            def __init__(self, enable_timing=False):
                self.t = None

            def record(self):
                self.t = outer.clock_ms

            def synchronize(self):
                pass

            def elapsed_time(self, end):
                return end.t - self.t

        class Cuda:
            Event = CudaEvent

            @staticmethod
            def synchronize():
                pass

            @staticmethod
            def _sleep(cycles):
                pass

        self.cuda = Cuda


def test_alternating_rounds_and_medians(monkeypatch):
    torch = FakeTorch()
    # A host clock 30 ms a reading: three warm-up rounds (the loop stops
    # once 50 ms have passed, after two at least), then with budget 0 the
    # minimum of three timed rounds.
    ticks = iter(range(10**6))
    monkeypatch.setattr(gpu_bench.time, "perf_counter",
                        lambda: 0.03 * next(ticks))
    log = []

    def timed_fn(name, durations_ms):
        calls = iter(durations_ms)

        def fn():
            log.append(name)
            torch.clock_ms += next(calls)
        return fn

    a = timed_fn("a", [1.0] * 3 + [2.0, 9.0, 3.0])
    b = timed_fn("b", [1.0] * 3 + [5.0, 4.0, 6.0])
    t_a, t_b = gpu_bench.timed_together(torch, [a, b], budget=0.0,
                                        max_reps=50)
    # Warm-up a b three times, then a b | b a | a b.
    assert log == ["a", "b"] * 3 + ["a", "b", "b", "a", "a", "b"]
    # Each function's own median (seconds), not the pair's.
    assert abs(t_a - 3.0e-3) < 1e-12 and abs(t_b - 5.0e-3) < 1e-12
