"""Measured MoE kernel rates (perf.moe_kernels) and the records that select a kernel."""

import json
from pathlib import Path

import numpy as np
import pytest

from moeprof.errors import ConfigError
from moeprof.perf import moe_kernels
from moeprof.perf.moe_kernels import MoeKernelRate, moe_kernel_rate, mxfp4_kernel_rate


def _rate():
    return MoeKernelRate("k", (64.0, 256.0), (1, 8), ((1e14, 2e14), (0.5e14, 1e14)), "test")


def test_rate_interpolates_in_log_tokens_and_takes_the_expert_tp_at_or_above():
    r = _rate()
    assert r.rate(128.0, 1) == pytest.approx(1.5e14)  # halfway in log between 64 and 256
    assert r.rate(2.0, 1) == pytest.approx(1e14) and r.rate(1e5, 1) == pytest.approx(2e14)  # clamped
    assert r.rate(64.0, 2) == pytest.approx(0.5e14)  # TP 2 -> the listed TP 8 row (thinner experts run slower)
    assert r.rate(64.0, 16) == pytest.approx(0.5e14)  # past the largest listed: the largest
    out = r.rate(np.array([64.0, 256.0]), np.array([1.0, 8.0]))
    assert list(out) == pytest.approx([1e14, 1e14])


def test_shipped_marlin_rates_and_their_bounds(monkeypatch):
    r = moe_kernel_rate("marlin_mxfp4", "h200-sxm-141gb")
    assert r is not None and "VLLM_MXFP4_USE_MARLIN" in r.source and "aiconfigurator" in r.source
    assert 1e14 < float(r.rate(230.0, 1)) < 3e14  # gpt-oss at a 7k-token prompt: about 220 TFLOP/s
    assert moe_kernel_rate("marlin_mxfp4", "mi300x-192gb") is None and moe_kernel_rate("nope", "h200-sxm-141gb") is None
    assert mxfp4_kernel_rate("", "h200-sxm-141gb") is None and mxfp4_kernel_rate("marlin", "h200-sxm-141gb") == r
    bad = {"kernels": {"marlin_mxfp4": {"gpus": {"h200-sxm-141gb": {"tokens_per_expert": [64, 32], "expert_tp": [1],
                                                                    "flop_per_s": [[1e14, 1e14]]}}}}}
    monkeypatch.setattr(moe_kernels, "_raw", lambda: json.loads(json.dumps(bad)))
    with pytest.raises(ConfigError, match="must increase"):
        moe_kernel_rate("marlin_mxfp4", "h200-sxm-141gb")


def test_a_record_that_set_the_marlin_variable_runs_marlin():
    from moeprof.calibrate.benchmarks import load_records
    from moeprof.calibrate.records import deployment, mxfp4_moe_kernel

    recs = [r for r in load_records() if r.model == "openai/gpt-oss-120b" and r.engine_version == "v0.13.0"]
    assert len(recs) == 94 and all(mxfp4_moe_kernel(r) == "marlin" for r in recs)
    assert deployment(recs[0])[0].engine.mxfp4_moe_kernel == "marlin"
    other = [r for r in load_records() if r.model == "openai/gpt-oss-120b" and r.gpu.startswith("mi3")]
    assert other and all(mxfp4_moe_kernel(r) == "" for r in other)


def test_engine_env_must_be_strings(tmp_path):
    from moeprof.calibrate.bench_record import record_from_dict

    d = json.loads((Path(__file__).parents[2] / "moeprof/data/benchmarks/inferencex_pr1092_mi300x.json").read_text())
    rec = dict(d["records"][0], engine_env={"VLLM_MXFP4_USE_MARLIN": 1})
    with pytest.raises(ConfigError, match="engine_env"):
        record_from_dict(rec, "x.json", "records[0]")
    assert record_from_dict(dict(rec, engine_env={"A": "1"}), "x.json", "records[0]").engine_env == {"A": "1"}


def test_shipped_rates_are_what_the_script_writes():
    pytest.importorskip("aiconfigurator_core")
    pytest.importorskip("pyarrow")
    import subprocess
    import sys

    root = Path(__file__).parents[2]
    p = subprocess.run([sys.executable, "scripts/make_moe_kernel_rates.py", "--check"], cwd=root, capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
