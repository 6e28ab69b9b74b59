import pytest

from moeprof.probes import ceilings, gemm


def test_gemm_bf16_and_fp8_run_and_check(ctx):
    for dt in ("bf16", "fp8"):
        r = gemm.gemm_case(ctx, 16, 320, 448, dt)
        assert r["ms"] > 0 and r["flop"] == 2 * 16 * 320 * 448
        assert r["flop_per_s"] == pytest.approx(r["flop"] / (r["ms"] / 1e3))
        assert r["weight_copies"] == 1  # no L2 cycling on a CPU


@pytest.mark.slow
def test_gemm_probe_covers_every_model_shape(ctx):
    gemm.run(ctx)
    rows = [r for r in ctx.rows if r["probe"] == "gemm"]
    assert not [r for r in rows if "error" in r], rows
    shapes = {r["shape"] for r in rows}
    assert shapes == set(ctx.spec.gemm_shapes())
    assert {r["dtype"] for r in rows} == {"bf16", "fp8"}
    assert sorted({r["m_tokens"] for r in rows}) == gemm.m_values(ctx)


def test_gemm_result_is_checked_before_timing(ctx, monkeypatch):
    real = gemm.check_close
    seen = []
    monkeypatch.setattr(gemm, "check_close", lambda *a, **k: (seen.append(k["what"]), real(*a, **k))[1])
    gemm.gemm_case(ctx, 4, 64, 64, "bf16")
    assert seen and "GEMM bf16" in seen[0]


@pytest.mark.slow
def test_ceilings(ctx):
    ceilings.run(ctx)
    by = {}
    for r in ctx.rows:
        by.setdefault(r["probe"], []).append(r)
    assert all("error" not in r for r in ctx.rows), ctx.rows
    assert all(r["bytes"] == 2 * r["buffer_bytes"] and r["bytes_per_s"] > 0 for r in by["copy"])
    assert {r["dtype"] for r in by["gemm_peak"]} == {"bf16", "fp8"}
    assert 0 < by["kernel_overhead"][0]["seconds_per_kernel"] < 1e-3
