import time

import torch

from moeprof.probes.tensors import ProbeCheckError

from .conftest import make_ctx


def test_oom_is_recorded_and_the_probe_goes_on():
    lines = []
    ctx = make_ctx(lines=lines)

    def boom():
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 80.00 GiB")

    r1 = ctx.case("gemm", {"m_tokens": 8192}, boom)
    r2 = ctx.case("gemm", {"m_tokens": 1}, lambda: {"ms": 1.0})
    r3 = ctx.case("gemm", {"m_tokens": 2}, lambda: (_ for _ in ()).throw(RuntimeError("HIP out of memory")))
    assert r1["error"] == "oom" and "80.00 GiB" in r1["detail"]
    assert r2 == {"probe": "gemm", "m_tokens": 1, "ms": 1.0}
    assert r3["error"] == "oom"
    assert ctx.rows == [r1, r2, r3]
    assert len(lines) == 3 and "oom" in lines[0] and "1 ms" in lines[1]


def test_check_failure_and_other_errors_are_rows():
    ctx = make_ctx()
    r = ctx.case("x", {}, lambda: (_ for _ in ()).throw(ProbeCheckError("bad")))
    assert r["error"] == "check_failed" and r["detail"] == "bad"
    r = ctx.case("x", {}, lambda: 1 / 0)
    assert r["error"] == "ZeroDivisionError" and "at <lambda>" in r["detail"]


def test_interrupt_is_not_swallowed():
    ctx = make_ctx()
    try:
        ctx.case("x", {}, lambda: (_ for _ in ()).throw(KeyboardInterrupt()))
    except KeyboardInterrupt:
        pass
    else:
        raise AssertionError("KeyboardInterrupt swallowed")


def test_budget_shares_and_skips():
    ctx = make_ctx(budget_s=1.0)
    ctx.begin("gemm", ["gemm", "energy"])
    assert 0.6 < ctx.time_left_s() <= 1.0 * 0.30 / (0.30 + 0.13) + 0.01
    ctx.deadline = time.perf_counter() - 1
    r = ctx.case("gemm", {"m_tokens": 1}, lambda: {"ms": 1.0})
    assert r["error"] == "skipped_time_budget"
    free = make_ctx()
    free.begin("gemm", ["gemm"])
    assert free.time_left_s() is None
