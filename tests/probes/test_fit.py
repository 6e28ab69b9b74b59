import pytest

from moeprof.probes.fit import fit_curves, fit_scalars


def g(shape, m, flop, ms, dtype="bf16", **kw):
    return {"probe": "gemm", "shape": shape, "dtype": dtype, "m_tokens": m, "flop": flop, "ms": ms, **kw}


def test_gemm_curve_is_total_flop_over_total_time_at_each_m():
    rows = [
        g("a", 1, 1e9, 1.0),
        g("b", 1, 3e9, 1.0),
        g("a", 64, 8e9, 1.0),
        g("a", 16, 1e9, 0.5),
        g("a", 4096, 1e12, 10.0, error="oom"),  # ignored
        g("a", 8, 1e9, 1.0, dtype="fp8"),
    ]
    c = fit_curves(rows)
    assert c["gemm_bf16"].x == (1.0, 16.0, 64.0)
    assert c["gemm_bf16"].y == pytest.approx((4e9 / 2e-3, 1e9 / 0.5e-3, 8e9 / 1e-3))
    assert c["gemm_fp8"].x == (8.0,)
    assert "shapes a, b" in c["gemm_bf16"].source


def test_curves_of_every_kind_and_scalars():
    rows = [
        {"probe": "copy", "bytes": 2e6, "ms": 0.01},
        {"probe": "attention_decode", "kv_bytes": 1e6, "ms": 0.5},
        {"probe": "attention_prefill", "seq_tokens": 512, "flop": 1e9, "ms": 1.0, "batch": 1},
        {"probe": "moe_layer", "impl": "grouped", "t_tokens": 8, "flop": 1e8, "ms": 0.1},
        {"probe": "moe_layer", "impl": "loop", "t_tokens": 8, "flop": 1e8, "ms": 0.5},
        {"probe": "allreduce", "message_bytes": 1024, "world_size": 2, "ms": 0.2, "bus_bytes_per_s": 5e6, "backend": "gloo"},
        {"probe": "allreduce", "message_bytes": 4096, "world_size": 4, "ms": 0.1, "bus_bytes_per_s": 6e7, "backend": "gloo"},
        {"probe": "allreduce", "message_bytes": 1 << 20, "world_size": 4, "ms": 1.0, "bus_bytes_per_s": 1.5e9, "backend": "gloo"},
        {"probe": "kernel_overhead", "seconds_per_kernel": 3e-6, "ms": 0.2},
        {"probe": "energy", "burst": "idle", "idle_power_w": 70.0},
        {"probe": "energy", "burst": "compute", "j_per_flop": 1e-12},
        {"probe": "energy", "burst": "memory", "j_per_byte": None},
    ]
    c = fit_curves(rows)
    assert c["memory_copy"].y == (2e6 / 1e-5,)
    assert c["attention_decode"].y == (1e6 / 5e-4,)
    assert c["moe_layer"].y == pytest.approx((1e8 / 1e-4,))  # the grouped path, not the loop
    assert c["allreduce"].x == (4096.0, float(1 << 20)) and "4 ranks" in c["allreduce"].source
    s = fit_scalars(rows)
    # collective latency: the fastest collective call (4096 B at 0.1 ms), not the smallest message
    assert s == {"kernel_overhead_s": 3e-6, "idle_power_w": 70.0, "joules_per_flop": 1e-12, "collective_latency_s": 1e-4}


def test_no_rows_no_curves():
    assert fit_curves([]) == {} and fit_scalars([]) == {}
