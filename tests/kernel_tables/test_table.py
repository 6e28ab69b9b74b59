"""KernelTable: exact at grid points, monotonic between them, flagged outside, JSON round trip,
hole filling; the profile carries tables through save / load."""

import json

import numpy as np
import pytest

from moeprof.errors import MoeprofError
from moeprof.kernel_tables.collection import KernelTables
from moeprof.kernel_tables.table import KernelTable, table_from_json
from moeprof.profile import Profile, load_profile, save_profile

M = [1.0, 16.0, 256.0, 4096.0]
N = [128.0, 1024.0, 8192.0]


def latency(m, n):
    """A made-up GEMM-like latency: a fixed cost plus work (not a power law, so interpolation is not exact)."""
    return 0.005 + 2 * np.asarray(m) * np.asarray(n) * 4096 / 5e11


def gemm_table(ms=None, **kw) -> KernelTable:
    mm, nn = np.meshgrid(M, N, indexing="ij")
    vals = latency(mm, nn) if ms is None else ms
    return KernelTable.build("gemm", {"dtype": "bf16"}, ("m", "n"), (M, N), vals, (True, True), **kw)


def test_exact_at_every_grid_point():
    t = gemm_table()
    mm, nn = np.meshgrid(M, N, indexing="ij")
    ms, outside = t.lookup(m=mm, n=nn)
    np.testing.assert_allclose(ms, latency(mm, nn), rtol=1e-12)
    assert not outside.any()


def test_monotonic_and_bounded_between_grid_points():
    t = gemm_table()
    m = np.geomspace(1, 4096, 400)
    for n in (128.0, 500.0, 8192.0):
        ms, outside = t.lookup(m=m, n=n)
        assert not outside.any()
        assert np.all(np.diff(ms) >= -1e-15)
        assert ms.min() >= latency(1, 128) - 1e-12 and ms.max() <= latency(4096, 8192) + 1e-12
    # between two grid points the value lies between the neighbours' values
    lo, hi = latency(16, 1024), latency(256, 1024)
    mid, _ = t.lookup(m=64.0, n=1024.0)
    assert lo < mid < hi


def test_extrapolation_is_flagged_linear_above_nearest_below():
    t = gemm_table()
    ms, outside = t.lookup(m=np.array([8192.0, 0.5, 64.0]), n=np.array([1024.0, 1024.0, 16384.0]))
    assert outside.tolist() == [True, True, True]
    assert ms[0] == pytest.approx(latency(4096, 1024) * 2)  # extensive axis: time grows with the size
    assert ms[1] == pytest.approx(latency(1, 1024))  # below the grid: the smallest measured
    assert ms[2] == pytest.approx(t.lookup(m=64.0, n=8192.0)[0] * 2)
    nearest = KernelTable.build("gemm", {"dtype": "bf16"}, ("m", "n"), (M, N), t.ms, (False, False))
    assert nearest.lookup(m=8192.0, n=1024.0)[0] == pytest.approx(latency(4096, 1024))


def test_linear_axis_interpolates_in_the_count():
    vals = np.array([[1.0, 9.0]])
    t = KernelTable.build("x", {}, ("a", "h"), ([1.0], [1.0, 9.0]), vals, (False, False), linear=(False, True))
    assert t.lookup(a=1.0, h=5.0)[0] == pytest.approx(3.0)  # log-value midway in the count: sqrt(1 * 9)
    log_axis = KernelTable.build("x", {}, ("a", "h"), ([1.0], [1.0, 9.0]), vals, (False, False))
    assert log_axis.lookup(a=1.0, h=3.0)[0] == pytest.approx(3.0)  # midway in log(count)


def test_holes_are_filled_and_marked():
    mm, nn = np.meshgrid(M, N, indexing="ij")
    vals = latency(mm, nn)
    vals[1, 1] = np.nan
    t = gemm_table(vals)
    assert not t.measured[1, 1] and t.measured.sum() == vals.size - 1
    assert latency(16, 128) < t.ms[1, 1] < latency(16, 8192)
    with pytest.raises(MoeprofError, match="no measured cell"):
        gemm_table(np.full(vals.shape, np.nan))


def test_json_round_trip_keeps_unmeasured_cells_null():
    mm, nn = np.meshgrid(M, N, indexing="ij")
    vals = latency(mm, nn)
    vals[0, 2] = np.nan
    t = gemm_table(vals, meta={"source_table": "x"})
    d = json.loads(json.dumps(t.to_json()))
    assert d["ms"][2] is None and d["axes"]["m"] == [1, 16, 256, 4096]
    back = table_from_json(d)
    np.testing.assert_allclose(back.ms, t.ms, rtol=1e-3)
    assert (back.measured == t.measured).all() and back.meta == {"source_table": "x"}


@pytest.mark.parametrize("mutate, match", [
    (lambda d: d.update(ms=d["ms"][:-1]), "expected a list of 12"),
    (lambda d: d["axes"].update(m=[1, 16, 8, 4096]), "strictly increasing"),
    (lambda d: d["ms"].__setitem__(0, -1.0), "positive"),
    (lambda d: d.update(extensive=["z"]), "axis names"),
])
def test_bad_tables_are_refused(mutate, match):
    d = gemm_table().to_json()
    mutate(d)
    with pytest.raises(MoeprofError, match=match):
        table_from_json(d)


def gemm3(k=4096.0) -> KernelTable:
    """A GEMM table as the profile stores it: axes m, n, k."""
    mm, nn = np.meshgrid(M, N, indexing="ij")
    return KernelTable.build("gemm", {"dtype": "bf16"}, ("m", "n", "k"), (M, N, [k]), latency(mm, nn)[..., None],
                             (True, True, True))


def test_profile_round_trip_with_tables(tmp_path):
    t = gemm3()
    prof = Profile("h100-sxm-80gb", "published", {"date": "2026-01-01"}, kernel_tables_json={"gemm_bf16": t.to_json()})
    path = save_profile(prof, tmp_path / "p.json")
    back = load_profile(path)
    assert isinstance(back.kernel_tables, KernelTables)
    got = back.kernel_tables.find("gemm", dtype="bf16")
    np.testing.assert_allclose(got.ms, t.ms, rtol=1e-3)
    assert back.kernel_tables.find("gemm", dtype="fp8") is None
    assert back.kernel_tables.find("moe", dtype="bf16", hidden=5120.0, inter=8192, experts=16, topk=1) is None
    bad = json.loads(path.read_text())
    bad["kernel_tables"]["gemm_bf16"]["op"] = "nope"
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    with pytest.raises(MoeprofError, match="kernel_tables.gemm_bf16"):
        load_profile(tmp_path / "bad.json")


def test_keys_match_whatever_the_number_type():
    t = KernelTable.build("attention_generation", {"head_dim": 128, "kv_dtype": "bf16"},
                          ("batch", "kv_len", "num_heads", "num_kv_heads"), ([1.0], [16.0], [8.0], [1.0]),
                          np.ones((1, 1, 1, 1)), (True, True, True, False))
    tabs = KernelTables({"a": t})
    assert tabs.find("attention_generation", head_dim=128.0, kv_dtype="bf16") is t
    assert tabs.find("attention_generation", head_dim=64, kv_dtype="bf16") is None
