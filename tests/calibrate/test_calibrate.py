"""The serving calibration fitted on benchmark files: readers, the robust fit recovering known
parameters, the profile it writes and the CLI's one-line errors."""

import json
from dataclasses import replace
from pathlib import Path

import pytest

from moeprof.calibrate import sources
from moeprof.calibrate.fit import fit_gpu
from moeprof.calibrate.points import prepare
from moeprof.catalog.calibration.serving import ServingCalibration
from moeprof.catalog.engine import load_engine
from moeprof.catalog.hardware.vms import get_gpu
from moeprof.catalog.models import load_model
from moeprof.cli.app import main
from moeprof.deployment.evaluate import Deployment, bare_host, engine_for, evaluate
from moeprof.errors import MoeprofError
from moeprof.perf import resolve_profile
from moeprof.profile import load_profile

DATA = Path(__file__).resolve().parent.parent / "data" / "bench"
GPU = "h200-sxm-141gb"
SCOUT = "meta-llama/Llama-4-Scout-17B-16E-Instruct"
TRUE = {"step_time_scale": 1.3, "host_overhead_s_per_step": 0.0025, "prefill_time_scale": 0.8}
# (input, output) lengths x concurrencies: runs whose prompt share differs, so the prefill scale is pinned
SHAPES = [(1024, 256), (4096, 128), (256, 1024)]
CONCURRENCIES = [1, 4, 16, 64]


def _deployment(cal):
    gpu = get_gpu(GPU)
    vm, hosts = bare_host(gpu, 4)
    engine = engine_for(load_engine(), "vllm", gpu.usable_memory_bytes)
    return Deployment(load_model("scout"), vm, hosts, 4, 1, 1, "bf16", "bf16", engine, resolve_profile(gpu, None), calibration=cal)


def _vllm_result(row, conc, I, O, n=100):
    """A `vllm bench serve --save-result` document of evaluate's figures at one concurrency."""
    return {
        "endpoint_type": "vllm", "model_id": SCOUT, "num_prompts": n, "request_rate": "inf", "max_concurrency": conc,
        "duration": n / row["request_throughput"], "completed": n, "failed": 0,
        "total_input_tokens": n * I, "total_output_tokens": n * O,
        "request_throughput": row["request_throughput"], "output_throughput": row["output_throughput"],
        "total_token_throughput": row["total_token_throughput"],
        "mean_ttft_ms": row["mean_ttft_ms"], "median_ttft_ms": row["median_ttft_ms"], "p99_ttft_ms": row["p99_ttft_ms"],
        "mean_tpot_ms": row["mean_tpot_ms"], "median_tpot_ms": row["median_tpot_ms"], "p99_tpot_ms": row["p99_tpot_ms"],
    }


@pytest.fixture(scope="module")
def bench_dir(tmp_path_factory):
    """vLLM result files generated through evaluate from the known parameters TRUE."""
    d = tmp_path_factory.mktemp("bench")
    dep = _deployment(ServingCalibration(GPU, TRUE["step_time_scale"], TRUE["host_overhead_s_per_step"], "test",
                                         TRUE["prefill_time_scale"]))
    for I, O in SHAPES:
        for conc, row in zip(CONCURRENCIES, evaluate(dep, "concurrency", CONCURRENCIES, I, O, num_prompts=100)):
            assert row["stable"]
            (d / f"scout-i{I}-o{O}-c{conc}.json").write_text(json.dumps(_vllm_result(row, conc, I, O)))
    return d


def _points(paths):
    recs = sources.load(paths, {"gpu": GPU, "tp": 4})
    pts = [prepare(r, None)[0] for r in recs]
    assert all(pts)
    return pts


def _close(fit, pct=2.0):
    for name, v in TRUE.items():
        assert fit.values[name] == pytest.approx(v, rel=pct / 100), (name, fit.values)


def test_calibrate_recovers_the_parameters_that_generated_the_runs(bench_dir):
    prior = ServingCalibration(GPU, 1.0, 0.0, "start")
    fit = fit_gpu(_points(sorted(bench_dir.glob("*.json"))), prior, loo=False)
    assert all(fit.fitted.values()), fit.why_fixed
    _close(fit)
    assert all(se is not None and se < 0.01 for se in fit.std_error.values())


@pytest.mark.slow  # a robust refit of twelve runs
def test_robust_fit_ignores_an_outlier(bench_dir, tmp_path):
    paths = sorted(bench_dir.glob("*.json"))
    doc = json.loads(paths[5].read_text())
    for k in ("request_throughput", "output_throughput", "total_token_throughput"):
        doc[k] *= 2.5  # a run three times off: a broken client, another engine build
    doc["median_tpot_ms"] /= 2.5
    bad = tmp_path / "outlier.json"
    bad.write_text(json.dumps(doc))
    fit = fit_gpu(_points(paths[:5] + paths[6:] + [bad]), ServingCalibration(GPU, 1.0, 0.0, "start"), loo=False)
    _close(fit)
    assert max(abs(x) for x in fit.in_sample["throughput"]) > 0.5  # the outlier stands out instead of pulling


@pytest.mark.slow  # a refit
def test_a_parameter_the_runs_cannot_pin_down_is_kept_at_its_prior(tmp_path):
    # 16-token prompts, 1,024-token answers and no TTFT published: the prompt work is a few
    # thousandths of the GPU time, so the runs say nothing about its scale
    dep = _deployment(ServingCalibration(GPU, TRUE["step_time_scale"], TRUE["host_overhead_s_per_step"], "test", 0.5))
    for conc, row in zip([2, 8, 32], evaluate(dep, "concurrency", [2, 8, 32], 16, 1024)):
        doc = {k: v for k, v in _vllm_result(row, conc, 16, 1024).items() if "ttft" not in k}
        (tmp_path / f"c{conc}.json").write_text(json.dumps(doc))
    prior = ServingCalibration(GPU, 1.0, 0.0, "start", 1.0)
    fit = fit_gpu(_points(sorted(tmp_path.glob("*.json"))), prior, loo=False)
    assert fit.fitted["step_time_scale"] and fit.fitted["host_overhead_s_per_step"]
    assert not fit.fitted["prefill_time_scale"] and fit.values["prefill_time_scale"] == 1.0
    assert "not pinned down" in fit.why_fixed["prefill_time_scale"]
    assert fit.values["step_time_scale"] == pytest.approx(TRUE["step_time_scale"], rel=0.02)


@pytest.mark.slow  # a fit and its twelve leave-one-out refits
def test_calibrate_cli_writes_a_profile_that_evaluate_uses(bench_dir, tmp_path, capsys):
    out = tmp_path / "cal.json"
    files = [str(p) for p in sorted(bench_dir.glob("*.json"))]
    assert main(["calibrate", "--bench", *files, "--gpu", "h200", "--tp", "4", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "step_time_scale" in text and "leave-one-out" in text
    prof = load_profile(out)
    sec = prof.serving_calibration.section
    for name, v in TRUE.items():
        assert sec["parameters"][name]["value"] == pytest.approx(v, rel=0.02)
    assert sec["fitted_on"]["records"] == len(files) and sec["fitted_on"]["models"] == [SCOUT]
    assert sec["error_band"]["metrics"]["throughput"]["n"] == len(files)
    assert prof.serving_calibration.error_band.quantified
    # the profile's calibration is what evaluate uses: it reproduces the runs
    row = evaluate(replace(_deployment(None), profile=prof), "concurrency", [16], 1024, 256)[0]
    want = json.loads((bench_dir / "scout-i1024-o256-c16.json").read_text())
    assert row["output_throughput"] == pytest.approx(want["output_throughput"], rel=0.005)
    assert row["median_tpot_ms"] == pytest.approx(want["median_tpot_ms"], rel=0.005)


def test_validate_bench_prints_predicted_vs_measured(bench_dir, capsys):
    files = [str(p) for p in sorted(bench_dir.glob("*i1024-o256*.json"))]
    assert main(["validate", "--bench", *files, "--gpu", "h200", "--tp", "4", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert len(doc["rows"]) == len(files)
    figs = {s["figure"] for s in doc["summary"]}
    assert {"throughput_per_gpu_tok_s", "tokens_per_s_per_user", "ttft_ms", "tpot_ms"} <= figs
    # the shipped calibration of the H200 is not TRUE: the error is there to see
    assert any(abs(f["error_pct"]) > 1 for r in doc["rows"] for f in r["figures"].values())


def test_readers_on_the_fixture_files():
    (v,) = sources.load([DATA / "vllm_scout_h200_c16.json"], {"gpu": GPU, "tp": 4})
    assert v.engine == "vllm" and v.model == SCOUT and v.load == {"concurrency": 16}
    assert (v.input_tokens, v.output_tokens) == (1024, 256)
    assert v.metrics["output_throughput_per_gpu_tok_s"] == pytest.approx(701.4 / 4)
    assert v.metrics["median_ttft_ms"] == 112.0 and v.split == "fit"
    recs = sources.load([DATA / "sglang_dsr1_mi300x.jsonl"],
                        {"gpu": "mi300x-192gb", "tp": 8, "ep": 8, "model": "deepseek-ai/DeepSeek-R1-0528"})
    assert [r.load for r in recs] == [{"concurrency": 8}, {"concurrency": 32}]
    assert all(r.engine == "sglang" and r.split == "validation" for r in recs)
    assert recs[1].metrics["median_e2el_ms"] == 19980.0
    # a vLLM client run against an SGLang server, nominal lengths from the command line
    (o,) = sources.load([DATA / "vllm_scout_h200_c16.json"], {"gpu": GPU, "tp": 4}, engine="sglang", input_tokens=1000)
    assert o.engine == "sglang" and o.input_tokens == 1000 and "command line" in o.notes
    lay = {"gpu": "mi300x-192gb", "tp": 8, "model": "deepseek-ai/DeepSeek-R1-0528"}
    assert sources.load([DATA / "sglang_dsr1_mi300x.jsonl"], lay, split="fit") == []


@pytest.mark.parametrize("text, part", [
    ("{\"model_id\": \"x\", \"completed\": 3, " + "[" * 100, "nested"),
    ("{\"model_id\": \"x\", \"output_throughput\": NaN}", "NaN"),
    ("\xff\xfe", "UTF-8"),
])
def test_calibrate_cli_bad_file_is_one_line(tmp_path, capsys, text, part):
    bad = tmp_path / "bad.json"
    bad.write_bytes(text.encode("latin-1"))
    rc = main(["calibrate", "--bench", str(bad), "--gpu", "h200", "--tp", "4", "--out", str(tmp_path / "o.json")])
    err = capsys.readouterr().err
    assert rc == 1 and err.count("\n") == 1 and "bad.json" in err and part in err, err
    assert not (tmp_path / "o.json").exists()


def test_calibrate_cli_needs_one_gpu_and_a_file(tmp_path, capsys):
    assert main(["calibrate", "--out", str(tmp_path / "o.json")]) == 2
    assert main(["calibrate", "--bench", str(DATA / "vllm_scout_h200_c16.json"), "--out", str(tmp_path / "o.json")]) == 1
    err = capsys.readouterr().err
    assert "gpu" in err.splitlines()[-1]


def test_sources_refuse_a_fifo(tmp_path):
    import os

    fifo = tmp_path / "f.json"
    os.mkfifo(fifo)
    with pytest.raises(MoeprofError, match="regular file"):
        sources.load([fifo], {"gpu": GPU, "tp": 4})


def test_a_profile_with_a_broken_serving_calibration_is_refused(tmp_path):
    from moeprof.errors import ConfigError
    from moeprof.profile import from_json, shipped_profiles

    doc = shipped_profiles()["h200-sxm-141gb.published"].to_json()
    doc["serving_calibration"] = {"gpu": GPU, "source": "x", "parameters": {
        "step_time_scale": {"value": 100.0}, "host_overhead_s_per_step": {"value": 0.001}}}
    with pytest.raises(ConfigError, match="step_time_scale"):
        from_json(doc, "p.json")
    doc["serving_calibration"]["parameters"]["step_time_scale"]["value"] = 1.1
    doc["serving_calibration"]["gpu"] = "h100-sxm-80gb"
    with pytest.raises(ConfigError, match="serving_calibration.gpu"):
        from_json(doc, "p.json")
    doc["serving_calibration"]["gpu"] = GPU
    prof = from_json(doc, "p.json")
    assert prof.serving_calibration.step_time_scale == 1.1 and prof.serving_calibration.prefill_time_scale == 1.0
    assert from_json(prof.to_json(), "q.json").serving_calibration.host_overhead_s_per_step == 0.001


def test_a_batched_jacobian_equals_one_solve_per_parameter(bench_dir):
    """The fit's Jacobian from one scheduler solve over every trial (Batch.log_errors_many) is the
    one the per-parameter solves give, and predict_many's rows are predict's."""
    import numpy as np

    from moeprof.calibrate import robust
    from moeprof.calibrate.fit import HI, STEPS
    from moeprof.calibrate.points import Batch

    batch = Batch(_points(sorted(bench_dir.glob("*.json"))))
    theta = np.array([0.2, 2.0, -0.1])
    free = np.ones(3, dtype=bool)

    def fun(t):
        return batch.log_errors(float(np.exp(t[0])), t[1] / 1e3, float(np.exp(t[2])))

    def fun_many(ts):
        return batch.log_errors_many(np.exp(ts[:, 0]), ts[:, 1] / 1e3, np.exp(ts[:, 2]))

    r0 = fun(theta)
    one_by_one = robust.jacobian(fun, theta, r0, free, STEPS, HI)
    batched = robust.jacobian(fun, theta, r0, free, STEPS, HI, fun_many)
    assert np.abs(one_by_one).max() > 0.1  # the residuals move with every parameter
    np.testing.assert_allclose(batched, one_by_one, rtol=1e-6, atol=1e-9)
    many = batch.predict_many([1.2, 0.9], [0.002, 0.001], [1.0, 1.1])
    for k, (s, h, p) in enumerate([(1.2, 0.002, 1.0), (0.9, 0.001, 1.1)]):
        one = batch.predict(s, h, p)
        for name in one:
            np.testing.assert_allclose(many[name][k], one[name], rtol=1e-9)
