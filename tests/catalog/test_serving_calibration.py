"""The serving calibration: a scale per GPU, a host time per engine; the fit keeps keys it does not own."""

import importlib.util
import json
from pathlib import Path

import pytest

from moeprof.catalog.calibration import serving as calibration
from moeprof.catalog.engine import load_engine
from moeprof.deployment.evaluate import engine_for

ROOT = Path(__file__).resolve().parents[2]


def _fit_script():
    spec = importlib.util.spec_from_file_location("fit_serving", ROOT / "scripts" / "fit_serving.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def shipped(monkeypatch):
    def use(doc):
        monkeypatch.setattr(calibration, "_load", lambda: doc)
    return use


def test_host_time_is_the_engines_and_the_scale_the_gpus(shipped):
    shipped({"gpus": {"g1": {"step_time_scale": {"value": 1.3, "source": "s"}}},
             "engines": {"vllm": {"host_overhead_s_per_step": {"value": 0.002, "source": "fit"}}}})
    a = calibration.serving_calibration("g1", "vllm")
    assert (a.step_time_scale, a.host_overhead_s_per_step) == (1.3, 0.002)
    b = calibration.serving_calibration("g2", "vllm")  # no GPU entry: scale 1, still the engine's host time
    assert (b.step_time_scale, b.host_overhead_s_per_step) == (1.0, 0.002)
    assert calibration.serving_calibration("g1", "sglang").host_overhead_s_per_step is None  # not fitted: the engine's own


def test_sglang_waits_for_no_host_time_vllm_keeps_engine_json():
    e = load_engine()
    assert engine_for(e, "sglang", 141e9).host_overhead_s_per_step == 0.0
    assert "overlap scheduler" in engine_for(e, "sglang", 141e9).sources["host_overhead_s_per_step"]
    assert engine_for(e, "vllm", 141e9).host_overhead_s_per_step == e.host_overhead_s_per_step


def test_fit_keeps_keys_it_does_not_own():
    fit = _fit_script()
    old = {"gpus": {"g1": {"step_time_scale": {"value": 1.0, "source": "old"}, "host_overhead_s_per_step": {"value": 0.003},
                           "error_band": {"tpot": [0.9, 1.1]}}},
           "engines": {"vllm": {"host_overhead_s_per_step": {"value": 0.001}, "note": "kept"}}, "other": 1}
    new = fit.merged(old, {"g1": {"step_time_scale": {"value": 1.2, "source": "new"}}},
                     {"vllm": {"host_overhead_s_per_step": {"value": 0.002, "source": "new"}}}, "about", "2026-11-30")
    g = new["gpus"]["g1"]
    assert g["step_time_scale"]["value"] == 1.2 and g["error_band"] == {"tpot": [0.9, 1.1]}
    assert "host_overhead_s_per_step" not in g  # the per-GPU host time moved to the engine
    assert new["engines"]["vllm"] == {"host_overhead_s_per_step": {"value": 0.002, "source": "new"}, "note": "kept"}
    assert new["other"] == 1 and new["fitted"] == "2026-11-30"
    assert json.loads(json.dumps(new)) == new


def test_shipped_file_has_an_engine_host_time_and_no_per_gpu_one():
    doc = json.loads((ROOT / "moeprof" / "data" / "serving_calibration.json").read_text())
    assert doc["engines"]["vllm"]["host_overhead_s_per_step"]["source"]
    assert all("host_overhead_s_per_step" not in g for g in doc["gpus"].values())


def test_sglang_scheduler_settings_come_from_engine_json():
    from moeprof.catalog import engine as E
    from moeprof.catalog.values import read_data_json

    sg = read_data_json("engine.json")["sglang"]
    low = sg["chunked_prefill_size_tokens"]["tiers"][0]
    e = E.load_engine()
    below = engine_for(e, "sglang", low["below_gpu_memory_bytes"] - 1)
    above = engine_for(e, "sglang", low["below_gpu_memory_bytes"] + 1)
    assert below.max_num_batched_tokens == low["value"]
    assert above.max_num_batched_tokens == sg["chunked_prefill_size_tokens"]["tiers"][-1]["value"] != low["value"]
    assert below.cuda_graph_capture_sizes == tuple(sorted(sg["cuda_graph_capture_sizes"]["value"]))
    assert "server_args.py" in below.sources["max_num_batched_tokens"]
    assert below.prefill_apart and not e.prefill_apart  # SGLang runs prompts in steps of their own, vLLM V1 mixes them in
    assert "enable_mixed_chunk" in below.sources["prefill_apart"]


def test_sglang_scheduler_section_is_checked(monkeypatch):
    import json

    import pytest

    from moeprof.catalog import engine as E
    from moeprof.errors import ConfigError

    real = E.read_data_json("engine.json")
    bad = json.loads(json.dumps(real))
    bad["sglang"]["chunked_prefill_size_tokens"]["tiers"] = [{"below_gpu_memory_bytes": 1e11, "value": 8192}]
    monkeypatch.setattr(E, "read_data_json", lambda name: bad)
    E.sglang_scheduler.cache_clear()
    try:
        with pytest.raises(ConfigError, match="tiers"):
            E.sglang_scheduler()
    finally:
        E.sglang_scheduler.cache_clear()
    bad = json.loads(json.dumps(real))
    bad["sglang"]["prefill_apart"]["value"] = "yes"
    monkeypatch.setattr(E, "read_data_json", lambda name: bad)
    try:
        with pytest.raises(ConfigError, match="prefill_apart"):
            E.sglang_scheduler()
    finally:
        E.sglang_scheduler.cache_clear()


def test_a_refit_document_is_read_as_the_shipped_file_is(shipped):
    """bench_accuracy --loso scores a source with the calibration refitted without it: the same
    lookup (version entry, else the GPU's scale with the engine's host time) on that document."""
    shipped({"gpus": {"g1": {"step_time_scale": {"value": 9.0, "source": "shipped"}}}})
    entry = {"step_time_scale": {"value": 1.2, "source": "refit"}, "step_floor_s": {"value": 0.002, "source": "refit"}}
    doc = {"gpus": {"g1": {"step_time_scale": {"value": 1.4, "source": "refit"}, "versions": {"vllm 0.10.1": entry}}},
           "engines": {"vllm": {"host_overhead_s_per_step": {"value": 0.0015, "source": "refit"}}}}
    v = calibration.serving_calibration("g1", "vllm", "0.10.1", doc=doc)
    assert (v.step_time_scale, v.host_overhead_s_per_step, v.version) == (1.2, 0.002, "vllm 0.10.1")
    s = calibration.serving_calibration("g1", "sglang", "0.5.12", doc=doc)  # no sglang version entry: the GPU's scale
    assert (s.step_time_scale, s.host_overhead_s_per_step) == (1.4, None)
    assert calibration.serving_calibration("g2", "vllm", doc=doc).step_time_scale == 1.0  # not in the refit: uncalibrated
    assert calibration.serving_calibration("g1", "vllm").step_time_scale == 9.0  # without doc: the shipped file
