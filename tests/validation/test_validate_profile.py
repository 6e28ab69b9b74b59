import pytest

from moeprof.catalog.hardware.vms import get_gpu
from moeprof.errors import MoeprofError
from moeprof.perf import probe_rows as predict
from moeprof.probes.fit import fit_curves, fit_scalars
from moeprof.profile import Profile, resolve_profile
from moeprof.validation import gpu_for_profile, validate_profile


def synthetic_profile(gpu="cpu"):
    """Rows that follow an exact roofline: 1 TFLOP/s compute, 100 GB/s memory."""
    rows = [{"probe": "gemm_peak", "dtype": "bf16", "m_tokens": 512, "k": 512, "n": 512, "flop": 2 * 512**3, "flop_per_s": 1e12, "ms": 2 * 512**3 / 1e12 * 1e3}]
    rows.append({"probe": "copy", "buffer_bytes": 1 << 20, "bytes": 2 << 20, "bytes_per_s": 1e11, "ms": (2 << 20) / 1e11 * 1e3})
    for shape, (k, n) in {"a": (256, 512), "b": (512, 256), "c": (256, 1024)}.items():
        for m in (1, 16, 256, 1024):
            flop = 2.0 * m * k * n
            nbytes = (m * k + k * n) * 2 + m * n * 2
            s = max(flop / 1e12, nbytes / 1e11)
            rows.append({"probe": "gemm", "shape": shape, "dtype": "bf16", "m_tokens": m, "k": k, "n": n, "flop": flop, "ms": s * 1e3, "flop_per_s": flop / s})
    for L in (128, 512, 2048):
        kvb = 2 * 8 * L * 128 * 2
        rows.append(
            {"probe": "attention_decode", "batch": 1, "kv_len": L, "num_heads": 40, "num_kv_heads": 8, "head_dim": 128, "kv_bytes": kvb, "ms": kvb / 1e11 * 1e3}
        )
    rows.append({"probe": "kv_cache", "tokens": 1024, "layers": 2, "expected_bytes": 8 << 20, "measured_bytes": 9 << 20})
    rows.append({"probe": "gemm", "shape": "a", "dtype": "bf16", "m_tokens": 8192, "k": 256, "n": 512, "error": "oom"})
    return Profile(
        gpu=gpu, source="measured", provenance={"device_name": "test", "date": "2026-01-01"}, curves=fit_curves(rows), scalars=fit_scalars(rows), rows=rows
    )


def test_roofline_rows_are_predicted_well_and_errors_skipped():
    prof = synthetic_profile()
    v = validate_profile(prof)
    s = v.summary()
    assert s["time"]["rows"] == 1 + 1 + 12 + 3  # the oom row is not predicted
    gem = [c for c in v.checks if c.probe == "gemm"]
    assert all(c.held_out for c in gem)  # other shapes keep every M point
    assert s["by_probe"]["gemm"]["median_abs_pct"] < 35
    mem = [c for c in v.checks if c.quantity == "bytes"]
    assert len(mem) == 1 and mem[0].error_pct == pytest.approx(-100 / 9)
    # the middle decode point is held out; the end points are in-sample
    dec = {c.case: c.held_out for c in v.checks if c.probe == "attention_decode"}
    assert dec == {"B=1 L=128": False, "B=1 L=512": True, "B=1 L=2048": False}


def test_ceilings_stand_in_for_a_gpu_missing_from_the_catalog():
    spec, how = gpu_for_profile(synthetic_profile("acme-x1"))
    assert spec.bf16_flop_per_s == 1e12 and spec.hbm_bytes_per_s == 1e11 and "not in the GPU catalog" in how
    bare = Profile(gpu="acme-x1", source="measured", provenance={}, rows=[{"probe": "gemm", "ms": 1}])
    with pytest.raises(MoeprofError, match="no ceiling rows"):
        gpu_for_profile(bare)


def test_calibrations_on_the_shipped_profiles():
    for name in ("h100-sxm-80gb.published", "h200-sxm-141gb.published", "mi300x-192gb.published"):
        prof = resolve_profile(name)
        assert prof.source == "published"
        v_self = validate_profile(prof)
        assert all(not c.held_out for c in v_self.checks) and "in-sample" in v_self.note
        v_none = validate_profile(prof, "none")
        assert v_none.checks and "datasheet" in v_none.rates_from and "no curves" in v_none.rates_from
        assert len(v_none.checks) == len(prof.rows)
    with pytest.raises(MoeprofError, match="no shipped profile"):
        validate_profile(synthetic_profile("acme-x1"), "shipped")
    with pytest.raises(MoeprofError, match="unknown calibration"):
        validate_profile(synthetic_profile(), "magic")


def test_perf_predictor_moe_composition():
    gpu = get_gpu("h100")
    prof = resolve_profile("h100")
    row = {
        "probe": "moe_layer",
        "t_tokens": 1,
        "hidden": 5120,
        "num_experts": 16,
        "top_k": 1,
        "expert_intermediate": 8192,
        "shared_intermediate": 8192,
        "impl": "grouped",
    }
    ms = predict.predict_row(row, gpu, prof)
    # decode reads ~2 experts' worth of weights (1 routed + shared, 3 x 5120 x 8192 x 2 bytes each) at ~2.9 TB/s
    weights = 2 * 3 * 5120 * 8192 * 2
    assert weights / 2.9e12 * 1e3 < ms < 2.5 * weights / 2.9e12 * 1e3
    assert predict.predict_row({**row, "error": "oom"}, gpu, prof) is None
    assert predict.predict_row({"probe": "energy"}, gpu, prof) is None
