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


def test_rounds_of_blocks_and_medians(monkeypatch):
    torch = FakeTorch()
    # A host clock 30 ms a reading: three warm-up rounds (the loop stops
    # once 50 ms have passed, after two at least), then timed rounds while
    # the budget lasts (a reading each round: 0.12 s for 2 x 0.05 s is
    # four rounds).
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

    # Warm-up (3), then per round an untimed call and 2 timed ones; the
    # untimed calls take 100 ms, which no median may see.
    a = timed_fn("a", [1.0] * 3 + [100.0, 2.0, 9.0, 100.0, 3.0, 4.0,
                                   100.0, 5.0, 6.0, 100.0, 7.0, 8.0])
    b = timed_fn("b", [1.0] * 3 + [100.0, 50.0, 40.0, 100.0, 60.0, 70.0,
                                   100.0, 20.0, 30.0, 100.0, 10.0, 80.0])
    t_a, t_b = gpu_bench.timed_together(torch, [a, b], budget=0.05,
                                        max_reps=50, block=2)
    # Warm-up a b three times, then blocks a a a | b b b, reversed every
    # other round: four rounds.
    assert log == (["a", "b"] * 3 + ["a"] * 3 + ["b"] * 3 + ["b"] * 3 +
                   ["a"] * 3 + ["a"] * 3 + ["b"] * 3 + ["b"] * 3 + ["a"] * 3)
    # Each function's own median over its 8 timed calls (seconds).
    assert abs(t_a - 5.5e-3) < 1e-12 and abs(t_b - 45.0e-3) < 1e-12


def test_max_reps_bounds_each_functions_calls(monkeypatch):
    torch = FakeTorch()
    monkeypatch.setattr(gpu_bench.time, "perf_counter", lambda: 0.0)
    counts = {"a": 0}

    def a():
        counts["a"] += 1
        torch.clock_ms += 1.0
    # With the clock standing still the budget never runs out: max_reps
    # ends it, after the first round that reaches it.
    (t,) = gpu_bench.timed_together(torch, [a], budget=1.0, max_reps=5,
                                    block=3)
    assert t == 1.0e-3
    # Warm-up: the loop's 1000 rounds (50 ms never pass); then two rounds
    # of 1 + 3 calls.
    assert counts["a"] == 1000 + 2 * 4


def _steady(torch, name, ms, log=None):
    def fn():
        if log is not None:
            log.append(name)
        torch.clock_ms += ms
    return fn


def test_paired_timings_select_the_backend_and_skip_the_unavailable(monkeypatch):
    import contextlib
    torch = FakeTorch()
    monkeypatch.setattr(gpu_bench.time, "perf_counter", lambda: 0.0)
    selected = []

    @contextlib.contextmanager
    def select(backend):
        selected.append(backend)
        yield
        selected.append(None)

    log = []
    seqc = _steady(torch, "seqc", 2.0, log)
    sdpa = _steady(torch, "sdpa", 3.0, log)

    def baseline():
        # The baseline runs only inside its backend's selection.
        assert selected and selected[-1] == "cudnn-backend"
        sdpa()
    timings = gpu_bench.paired_timings(
        torch, seqc, {"flash": (None, "flash: not built", None),
                      "cudnn": ("cudnn-backend", None, 0.25e-3)},
        budget=1.0, select=select, baseline_fn=baseline, max_reps=3)
    assert timings["flash"] == (None, "flash: not built", None, None)
    t_b, why, k_b, t_s = timings["cudnn"]
    assert (why, k_b) == (None, 0.25e-3)
    assert abs(t_b - 3.0e-3) < 1e-12 and abs(t_s - 2.0e-3) < 1e-12
    assert selected == ["cudnn-backend", None]
    assert "sdpa" in log and "seqc" in log
    # The unavailable baseline's row carries seqc's paired time.
    rows = []
    gpu_bench.attention_rows(rows, "shape", timings, 1e-3, 1e9, 1e6, 700.0,
                             0.0)
    assert [r["ratio"] for r in rows] == ["-", "1.500x"]
    assert all(r["plot"]["seconds"] == t_s for r in rows)


def test_paired_timings_without_any_baseline_time_seqc_alone(monkeypatch):
    torch = FakeTorch()
    monkeypatch.setattr(gpu_bench.time, "perf_counter", lambda: 0.0)

    def select(backend):
        raise AssertionError("no backend runs")

    def baseline():
        raise AssertionError("no baseline runs")
    timings = gpu_bench.paired_timings(
        torch, _steady(torch, "seqc", 4.0), {
            "flash": (None, "no flash", None),
            "cudnn": (None, "no cudnn", None)},
        budget=1.0, select=select, baseline_fn=baseline, max_reps=3)
    assert timings == {"flash": (None, "no flash", None, 4.0e-3),
                       "cudnn": (None, "no cudnn", None, 4.0e-3)}
