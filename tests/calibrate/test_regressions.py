"""Known engine regressions (moeprof/data/engine_regressions.json): each is sourced and names the
release that ended it; the published runs of an affected release are labelled and scored apart;
`evaluate` warns when asked for an affected release."""

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from moeprof.calibrate.benchmarks import load_records
from moeprof.calibrate.regressions import known_regression, regression_for, regressions
from moeprof.catalog.serving_path import parse_version
from tests.conftest import run_cli

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def test_every_regression_is_sourced_and_ended():
    regs = regressions()
    assert regs
    for r in regs:
        assert r.evidence and all(u.startswith("https://github.com/") for u in r.evidence)
        fixed = parse_version(r.fixed_in)
        assert fixed is not None and all(v < fixed for v in r.versions), r.id  # ended by a later release
        assert r.what and r.ended_by and r.gpus and r.models


def test_records_of_affected_releases_are_labelled_and_no_others():
    recs = load_records()
    labelled = [r for r in recs if known_regression(r) is not None]
    assert labelled and all(r.engine == "sglang" and r.gpu in ("mi300x-192gb", "mi325x-256gb") for r in labelled)
    assert {parse_version(r.engine_version)[:3] for r in labelled} == {(0, 5, 5), (0, 5, 9)}
    fixed = [r for r in recs if r.engine == "sglang" and "0.5.12" in str(r.engine_version) and r.gpu.startswith("mi3")]
    assert fixed and not any(known_regression(r) for r in fixed)  # the release that ended it is not labelled
    # other GPUs and models on the affected release are not labelled
    assert regression_for("sglang", "0.5.5.post3", "h200-sxm-141gb", "deepseek-ai/DeepSeek-R1-0528") is None
    assert regression_for("sglang", "0.5.5.post3", "mi300x-192gb", "openai/gpt-oss-120b") is None
    assert regression_for("sglang", None, "mi300x-192gb", "deepseek-ai/DeepSeek-R1-0528") is None


def test_bench_scope_scores_regressions_apart(monkeypatch):
    monkeypatch.syspath_prepend(str(SCRIPTS))
    import bench_accuracy

    def rec(engine, version, gpu="mi300x-192gb", model="deepseek-ai/DeepSeek-R1-0528", load=None, num_prompts=None, metrics=None):
        return SimpleNamespace(engine=engine, engine_version=version, gpu=gpu, model=model, load=load or {"concurrency": 4},
                               num_prompts=num_prompts, metrics=metrics or {})

    assert bench_accuracy.scope_of(rec("sglang", "v0.5.5.post3-rocm700-mi30x")) == "regression"
    assert bench_accuracy.scope_of(rec("sglang", "v0.5.12-rocm700-mi30x")) == "current"
    assert bench_accuracy.scope_of(rec("sglang", "0.4.2.post4")) == "older engine"
    assert bench_accuracy.scope_of(rec("vllm", "0.7.3")) == "older engine"
    assert bench_accuracy.scope_of(rec("vllm", "gpt-oss-dev")) == "older engine"  # no version named: not claimed current
    assert bench_accuracy.scope_of(rec("vllm", "0.10.1", model="openai/gpt-oss-120b")) == "current"
    # every prompt at once (a serving client's TTFT, no concurrency cap): the starting burst, scored apart;
    # an offline throughput run (no TTFT) is not one
    wave = rec("vllm", "0.11.0", load={"offline": True}, num_prompts=500, metrics={"median_ttft_ms": 900.0})
    assert bench_accuracy.scope_of(wave) == "single wave"
    assert not bench_accuracy.single_wave(rec("vllm", "0.11.0", load={"offline": True}, num_prompts=500))
    sys.modules.pop("bench_accuracy", None)


def test_band_coverage_is_scored_without_the_runs_own_source(monkeypatch):
    monkeypatch.syspath_prepend(str(SCRIPTS))
    import error_bands

    # two sources agree (residuals near 0); a third is 50 % off: the band built without it misses it
    tagged = [("h200-sxm-141gb", "validation", "tpot_ms", src, 0.01 * (i % 5) - 0.02) for src in ("a", "b") for i in range(20)]
    tagged += [("h200-sxm-141gb", "validation", "tpot_ms", "c", 0.5 + 0.001 * i) for i in range(10)]
    cov = error_bands.coverage(tagged, (0.1, 0.9))
    inside, scored = cov[("NVIDIA", "tpot_ms")]
    assert scored == 50 and inside <= 40  # source c's 10 runs are never inside
    sys.modules.pop("error_bands", None)


@pytest.mark.parametrize("version, warned", [("0.5.5.post3", True), ("0.5.12", False)])
def test_evaluate_warns_for_an_affected_release(version, warned):
    p = run_cli("evaluate", "--model", "deepseek-r1", "--gpu", "mi300x-192gb", "--gpus", "8", "--tp", "8", "--engine", "sglang",
                "--engine-version", version, "--max-concurrency", "4", "--input-tokens", "1024", "--output-tokens", "1024", "--json",
                check_rc=0)
    head = json.loads(p.stdout)
    assert ("warning" in head) == warned
    if warned:
        assert "fixed in sglang 0.5.12" in head["warning"] and "https://github.com/" in head["warning"]


def test_a_run_mostly_start_up_publishes_no_steady_throughput():
    """The SGLang cookbook's concurrency-1 runs spent most of their time in one first request (kernel
    compilation): their throughput over the run is not scored or fitted, their medians are; the
    concurrency-16 run of the same page keeps its throughput."""
    from moeprof.calibrate.records import STARTUP_SHARE_MAX, measured, startup_share

    recs = {r.id: r for r in load_records()}
    c1 = recs["sglcookbook-mi300x-llama4-scout-sglang057-tp8-1000x1000-c1"]
    c16 = recs["sglcookbook-mi300x-llama4-scout-sglang057-tp8-1000x1000-c16"]
    assert startup_share(c1) > STARTUP_SHARE_MAX > startup_share(c16)
    assert set(measured(c1)) == {"user", "ttft_ms"}
    assert {"tput", "user", "ttft_ms"} <= set(measured(c16))
    assert startup_share(SimpleNamespace(metrics={"median_ttft_ms": 90.0})) == 0.0  # not published: kept
