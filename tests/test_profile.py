"""Profile format: round trip, validation errors naming file and field, atomic writes, the
shipped published profiles."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from moeprof.errors import ConfigError, MoeprofError
from moeprof.profile import (
    CURVE_KINDS,
    SCALAR_KINDS,
    Curve,
    Profile,
    default_profile_for,
    load_profile,
    resolve_profile,
    save_profile,
    shipped_profiles,
)

ROOT = Path(__file__).resolve().parents[1]


def sample_profile() -> Profile:
    return Profile(
        gpu="h100-sxm-80gb",
        source="measured",
        provenance={"device_name": "NVIDIA H100 80GB HBM3", "date": "2026-01-02T00:00:00+00:00", "probe_settings": {"quick": True}},
        curves={
            "gemm_bf16": Curve((1.0, 64.0, 4096.0), (3e12, 1.5e14, 7.5e14), "test"),
            "moe_layer": Curve((1.0, 256.0), (1e12, 2e14), "test"),
        },
        scalars={"kernel_overhead_s": 3e-6, "joules_per_flop": 1e-12},
        rows=[{"probe": "gemm", "m_tokens": 1, "ms": 0.05, "flop_per_s": 3e12}, {"probe": "kv_cache", "tokens": 4096, "device_used_bytes": None}],
        note="test",
    )


def test_round_trip(tmp_path):
    p = sample_profile()
    path = save_profile(p, tmp_path / "sub" / "h100.json")
    back = load_profile(path)
    assert back.to_json() == p.to_json()
    assert back.curve("gemm_bf16")(64) == pytest.approx(1.5e14) and back.curve("gemm_bf16")(1e9) == pytest.approx(7.5e14)  # clamped
    # halfway in log(x) between (1, 3e12) and (64, 1.5e14): log-log gives the geometric mean
    assert back.curve("gemm_bf16")(8) == pytest.approx((3e12 * 1.5e14) ** 0.5)
    assert back.curve("alltoall") is None
    assert back.scalars["kernel_overhead_s"] == 3e-6 and back.calibrated
    assert back.rows_frame().shape[0] == 2
    text = path.read_text()
    assert text.lstrip().startswith("{") and "pickle" not in text


def test_non_finite_row_values_become_null(tmp_path):
    p = sample_profile()
    p.rows.append({"probe": "energy", "j_per_flop": float("nan"), "energy_j": float("inf")})
    back = load_profile(save_profile(p, tmp_path / "p.json"))
    assert back.rows[-1] == {"probe": "energy", "j_per_flop": None, "energy_j": None}


@pytest.mark.parametrize(
    "mutate, field",
    [
        (lambda d: d.update(schema="other"), "schema"),
        (lambda d: d.update(schema_version=99), "schema_version"),
        (lambda d: d.pop("gpu"), "gpu"),
        (lambda d: d.update(source="guessed"), "source"),
        (lambda d: d.update(provenance=[]), "provenance"),
        (lambda d: d["curves"].update(warp_speed={"x": [1], "y": [1]}), "curves.warp_speed"),
        (lambda d: d["curves"]["gemm_bf16"].update(x=[1, 1, 2]), "curves.gemm_bf16.x"),
        (lambda d: d["curves"]["gemm_bf16"].update(y=[1, -2, 3]), "curves.gemm_bf16"),
        (lambda d: d["curves"]["gemm_bf16"].update(y=[1, 2]), "curves.gemm_bf16"),
        (lambda d: d["scalars"].update(kernel_overhead_s=-1), "scalars.kernel_overhead_s"),
        (lambda d: d["scalars"].update(mystery=1), "scalars.mystery"),
        (lambda d: d["rows"].append({"ms": 1}), "rows"),
    ],
)
def test_invalid_fields_are_named(tmp_path, mutate, field):
    d = sample_profile().to_json()
    mutate(d)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(d))
    with pytest.raises(ConfigError) as e:
        load_profile(path)
    assert e.value.field == field and str(path) in str(e.value)


def test_corrupt_and_truncated_files(tmp_path):
    good = save_profile(sample_profile(), tmp_path / "good.json").read_text()
    trunc = tmp_path / "trunc.json"
    trunc.write_text(good[: len(good) // 2])
    with pytest.raises(ConfigError, match="truncated or corrupt") as e:
        load_profile(trunc)
    assert str(trunc) in str(e.value)
    empty = tmp_path / "empty.json"
    empty.write_text("")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_profile(empty)
    binary = tmp_path / "bin.json"
    binary.write_bytes(b"\x80\x04\x95pickle")
    with pytest.raises(MoeprofError):
        load_profile(binary)
    with pytest.raises(MoeprofError, match="cannot read profile"):
        load_profile(tmp_path / "missing.json")


@pytest.mark.slow  # a real `python -m moeprof` subprocess
def test_cli_reports_a_corrupt_profile_in_one_line(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": "moeprof.profile", "schema_version": 1, "gpu": "h100-sxm-80gb", "sou')
    p = subprocess.run([sys.executable, "-m", "moeprof", "validate", "--profile", str(bad)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 1 and p.stderr.count("\n") == 1
    assert str(bad) in p.stderr and "truncated or corrupt" in p.stderr


def test_save_refuses_an_invalid_profile(tmp_path):
    p = sample_profile()
    p.curves["gemm_bf16"] = Curve((2.0, 1.0), (1.0, 1.0))
    with pytest.raises(ConfigError, match="strictly increasing"):
        save_profile(p, tmp_path / "p.json")
    assert list(tmp_path.iterdir()) == []


def test_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    path = save_profile(sample_profile(), tmp_path / "p.json")
    before = path.read_text()

    def boom(*a, **k):
        raise KeyboardInterrupt  # interrupted between the temp file and the rename

    monkeypatch.setattr(os, "replace", boom)
    changed = sample_profile()
    changed.note = "changed"
    with pytest.raises(KeyboardInterrupt):
        save_profile(changed, path)
    assert path.read_text() == before
    assert sorted(x.name for x in tmp_path.iterdir()) == ["p.json"]


def test_shipped_profiles_are_published_and_sourced():
    shipped = shipped_profiles()
    assert {"h100-sxm-80gb.published", "h200-sxm-141gb.published", "mi300x-192gb.published"} <= set(shipped)
    for name, p in shipped.items():
        if p.source != "published" or p.kernel_tables_json:  # kernel-table profiles: tests/kernel_tables
            continue
        assert p.note == "published, not measured by moeprof"
        assert p.provenance["sources"] and p.provenance["date"]
        assert {"gemm_bf16", "gemm_fp8", "memory_copy", "allreduce"} <= set(p.curves)
        for cname, c in p.curves.items():
            assert cname in CURVE_KINDS and c.source, (name, cname)
        for r in p.rows:
            assert r["source"] and r["ms"] > 0
        assert set(p.scalars) <= set(SCALAR_KINDS)
    h100 = shipped["h100-sxm-80gb.published"]
    assert h100.curve("gemm_fp8")(8192) == pytest.approx(1290.1e12)
    assert h100.curve("gemm_bf16")(8192) == pytest.approx(798e12)
    assert h100.curve("memory_copy")(1e9) == pytest.approx(2.90e12)
    assert h100.curve("allreduce")(16 * 2**20) == pytest.approx(234.5e9)
    mi = shipped["mi300x-192gb.published"]
    assert "derived" in mi.curve("gemm_bf16").source and "not published" in mi.curve("gemm_bf16").source
    assert "tile quantisation" in mi.curve("gemm_fp8").source
    # decode-sized GEMMs are memory-bound in the derived curve: 2 K N FLOP per K N x 2 bytes
    assert h100.curve("gemm_bf16")(1) == pytest.approx(2.90e12, rel=0.01)


def test_shipped_profiles_regenerate_identically(tmp_path):
    p = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_published_profiles.py"), "--out-dir", str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert p.returncode == 0, p.stderr
    for f in tmp_path.glob("*.json"):
        assert json.loads(f.read_text()) == json.loads((ROOT / "profiles" / f.name).read_text()), f.name


def test_default_and_resolve():
    assert default_profile_for("h200-sxm-141gb").source in ("published", "measured")
    assert default_profile_for("no-such-gpu") is None
    assert resolve_profile("h100").gpu == "h100-sxm-80gb"
    assert resolve_profile("mi300x-192gb.published").gpu == "mi300x-192gb"
    with pytest.raises(MoeprofError, match="unknown GPU"):
        resolve_profile("a100")
    assert resolve_profile(str(ROOT / "profiles" / "h200-sxm-141gb.published.json")).gpu == "h200-sxm-141gb"


def test_published_curves_are_monotone_in_m():
    for p in [p for p in shipped_profiles().values() if p.source == "published" and not p.kernel_tables_json]:
        for name in ("gemm_bf16", "gemm_fp8"):
            ys = p.curve(name).y
            assert all(b >= a for a, b in zip(ys, ys[1:])) and all(math.isfinite(y) for y in ys)
