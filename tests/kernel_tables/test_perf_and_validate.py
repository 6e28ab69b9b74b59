"""The performance model reads a profile's kernel tables where it has them; validate scores the
tables on held-out grid cells."""

import numpy as np
import pytest

from moeprof.catalog.hardware.vms import get_gpu
from moeprof.catalog.models import load_model
from moeprof.catalog.models.quant import get_recipe
from moeprof.kernel_tables.heldout import held_out_errors, kept_indices, score_tables
from moeprof.kernel_tables.table import KernelTable
from moeprof.perf import make_context
from moeprof.perf import ops as O
from moeprof.perf.estimate import estimate
from moeprof.profile import Profile
from moeprof.validation import kernel_table_check, validate_profile

M = [1.0, 8.0, 64.0, 512.0, 4096.0]
NK = [256.0, 1024.0, 4096.0, 16384.0]


def gemm_ms(m, n, k, rate=4e14, fixed_ms=0.004):
    return fixed_ms + 2 * np.asarray(m) * np.asarray(n) * np.asarray(k) / rate * 1e3


def gemm_table(dtype="bf16", rate=4e14, fixed_ms=0.004) -> KernelTable:
    mm, nn, kk = np.meshgrid(M, NK, NK, indexing="ij")
    return KernelTable.build("gemm", {"dtype": dtype}, ("m", "n", "k"), (M, NK, NK), gemm_ms(mm, nn, kk, rate, fixed_ms),
                             (True, True, True))


def profile_with(*tables) -> Profile:
    return Profile("h100-sxm-80gb", "published", {"date": "2026-01-01"},
                   kernel_tables_json={f"t{i}": t.to_json() for i, t in enumerate(tables)})


@pytest.fixture(scope="module")
def scout():
    return load_model("scout")


def test_gemm_time_is_the_table_lookup(scout):
    ctx = make_context(scout, get_gpu("h100"), get_recipe("bf16"), "bf16", profile_with(gemm_table()))
    r = ctx.rates
    c = O.gemm(r, np.array([8.0, 512.0]), 1024, 4096, 2.0, "bf16")
    np.testing.assert_allclose(c.busy_s, gemm_ms([8, 512], 4096, 1024) * 1e-3, rtol=1e-3)
    assert c.kernels == 0 and c.flops[1] == 2 * 512 * 1024 * 4096  # FLOPs still counted
    assert r.table_use["gemm(dtype=bf16)"] == {"lookups": 2, "extrapolated": 0}
    O.gemm(r, 8192.0, 1024, 4096, 2.0, "bf16")  # m past the grid
    assert r.table_use["gemm(dtype=bf16)"]["extrapolated"] == 1
    # weight-only quantised (int4 weights, bf16 compute) has no table: the curves' roofline
    w4 = O.gemm(r, 8.0, 1024, 4096, 0.5, "bf16")
    assert w4.kernels == 1 and r.table_use["gemm(dtype=bf16)"]["lookups"] == 3


def test_without_a_table_the_curves_are_used(scout):
    plain = make_context(scout, get_gpu("h100"), get_recipe("bf16"), "bf16", None)
    tabled = make_context(scout, get_gpu("h100"), get_recipe("bf16"), "bf16", profile_with(gemm_table("fp8")))
    a = O.gemm(plain.rates, 64.0, 1024, 4096, 2.0, "bf16")
    b = O.gemm(tabled.rates, 64.0, 1024, 4096, 2.0, "bf16")  # only an fp8 table: bf16 falls back
    assert float(a.busy_s) == pytest.approx(float(b.busy_s)) and not tabled.rates.table_use


def test_slower_table_makes_a_slower_step_and_estimate_lists_the_tables(scout):
    fast = make_context(scout, get_gpu("h100"), get_recipe("bf16"), "bf16", profile_with(gemm_table(rate=8e14)))
    slow = make_context(scout, get_gpu("h100"), get_recipe("bf16"), "bf16", profile_with(gemm_table(rate=1e14)))
    ef, es = estimate(fast, "prefill", 1, 2048), estimate(slow, "prefill", 1, 2048)
    assert es["step_ms"] > ef["step_ms"]
    use = es["kernel_tables"]["gemm(dtype=bf16)"]
    assert use["lookups"] > 0 and use["extrapolated"] > 0  # lm_head's N is past the 16K grid
    assert "kernel_tables" in es["calibration"]["rates"]


def test_held_out_cells_are_the_dropped_ones_and_scored():
    assert kept_indices(5).tolist() == [0, 2, 4] and kept_indices(4).tolist() == [0, 2, 3]
    t = gemm_table(fixed_ms=0.0)  # a pure power law: log-log interpolation is exact
    err = held_out_errors(t)
    dropped = 5 * 4 * 4 - 3 * 3 * 3
    assert err.size == dropped and np.abs(err).max() < 1e-6
    # with a fixed cost it is not, and the held-out error says so
    assert np.median(np.abs(held_out_errors(gemm_table()))) > 1
    # a cell far off the smooth surface shows up as the worst error
    ms = t.ms.copy()
    ms[1, 1, 1] *= 3
    bumpy = KernelTable.build("gemm", {"dtype": "bf16"}, t.axes, t.grid, ms, t.extensive)
    per, by_op, pooled = score_tables({"g": bumpy}, "all_axes")
    assert per[0].worst_abs_pct > 60 and by_op["gemm"]["cells"] == dropped and pooled["cells"] == dropped
    # one axis at a time: each axis's dropped values, the others intact (m: 2 of 5, n and k: 1 of 4)
    one = held_out_errors(bumpy, "one_axis")
    assert one.size == 2 * 16 + 1 * 20 + 1 * 20
    assert np.abs(held_out_errors(t, "one_axis")).max() < 1e-6


def test_validate_reports_the_kernel_tables():
    prof = profile_with(gemm_table(fixed_ms=0.0))
    kt = kernel_table_check(prof)
    assert set(kt["by_op"]) == {"gemm"} and kt["all"]["median_abs_pct"] < 0.1  # rounding to 4 digits only
    assert kt["all_axes"]["all"]["median_abs_pct"] < 0.1
    v = validate_profile(prof, "self")
    assert v.summary()["kernel_tables"]["all"]["cells"] == kt["all"]["cells"]
    assert kernel_table_check(Profile("h100-sxm-80gb", "published", {})) == {}


def test_allreduce_inside_a_vm_is_the_table_lookup(scout):
    grid = ([1024.0, 1048576.0], [2.0, 8.0])
    ms = np.array([[0.004, 0.006], [0.02, 0.03]])
    t = KernelTable.build("allreduce", {"dtype": "bf16"}, ("message_bytes", "gpus"), grid, ms, (True, False))
    ctx = make_context(scout, get_gpu("h100"), get_recipe("bf16"), "bf16", profile_with(t))
    ic = ctx.interconnect
    got = ic.allreduce_s(np.array([1024.0, 1048576.0, 4 * 1048576.0, 1024.0]), np.array([8, 2, 2, 1]))
    np.testing.assert_allclose(got, [6e-6, 2e-5, 8e-5, 0.0])
    assert ctx.rates.table_use["allreduce(dtype=bf16)"] == {"lookups": 3, "extrapolated": 1}
    across = ic.allreduce_s(1024.0, 16, cross_vm=True, gpus_per_vm_in_group=8)  # across VMs: not the table
    assert float(across) > 0 and ctx.rates.table_use["allreduce(dtype=bf16)"]["lookups"] == 3
