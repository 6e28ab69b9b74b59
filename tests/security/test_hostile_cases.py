"""The hostile cases of the reliability review, set 3: benchmark files, kernel-table profiles,
traffic files, flags, report sections and limits. Each is refused in one line naming the input
and the field (or line), or read as what it is; never an internal error or a silent wrong result."""

import json
import shutil
from pathlib import Path

import pytest

from moeprof.calibrate import sources

ROOT = Path(__file__).resolve().parents[2]
VLLM = ROOT / "tests" / "data" / "bench" / "vllm_scout_h200_c16.json"
DATASET = ROOT / "moeprof" / "data" / "benchmarks" / "inferencex_2025-12.json"
CAL = ["--gpu", "h200", "--tp", "4"]
EVAL = ["evaluate", "--model", "scout", "--gpu", "h200", "--gpus", "4", "--tp", "4", "--input-tokens", "512",
        "--output-tokens", "64"]


def _vllm(**changes) -> dict:
    return {**json.loads(VLLM.read_text()), **changes}


def _dataset(n=2, **changes) -> dict:
    d = json.loads(DATASET.read_text())
    d["records"] = d["records"][:n]
    d["records"][0].update(changes)
    return d


def _write(path: Path, obj) -> Path:
    path.write_text(obj if isinstance(obj, str) else json.dumps(obj))
    return path


def _refused(r, *needles):
    assert r.rc in (1, 2) and r.one_line and "internal error" not in r.err, r
    for n in needles:
        assert n in r.err, (n, r)


# ---- benchmark files: the format by content ----------------------------------------------------------
def test_vllm_appended_results_are_read_as_vllm(tmp_path):
    lines = [_vllm(max_concurrency=16), _vllm(max_concurrency=32, output_throughput=_vllm()["output_throughput"] * 1.5)]
    f = _write(tmp_path / "appended.json", "\n".join(json.dumps(x) for x in lines) + "\n")
    recs = sources.load([f], {"gpu": "h200-sxm-141gb", "tp": 4})
    assert [r.engine for r in recs] == ["vllm", "vllm"] and [r.concurrency for r in recs] == [16, 32]
    assert [r.id for r in recs] == ["appended-l1", "appended-l2"]
    one = sources.load([VLLM], {"gpu": "h200-sxm-141gb", "tp": 4})[0]
    assert recs[0].metrics == one.metrics  # the same figures as the file read whole


def test_a_sglang_line_in_a_vllm_lines_file_names_the_line(run, tmp_path):
    sg = json.loads((ROOT / "tests/data/bench/sglang_dsr1_mi300x.jsonl").read_text().splitlines()[0])
    f = _write(tmp_path / "mixed.json", json.dumps(_vllm()) + "\n" + json.dumps(sg) + "\n")
    _refused(run("validate", "--bench", f, *CAL), "mixed.json", "line 2")


# ---- duplicates and bands ------------------------------------------------------------------------------
@pytest.mark.slow  # a full calibration and its leave-one-out
def test_one_run_repeated_is_one_run_and_its_band_is_marked_not_borrowed(run, tmp_path):
    f = _write(tmp_path / "repeated.json", "\n".join([json.dumps(_vllm())] * 50))
    out = tmp_path / "p.json"
    r = run("calibrate", "--bench", f, *CAL, "--out", out, "--json")
    assert r.rc == 0, r
    sec = json.loads(r.out)
    assert sec["fitted_on"]["records"] == 1
    assert not sec["error_band"]["metrics"] and sec["error_band"]["source"].startswith("not quantified: 1 independent")
    r = run(*EVAL, "--concurrency", "16", "--profile", out, "--json")
    assert r.rc == 0, r
    band = json.loads(r.out)["error_band"]
    assert not band["metrics"] and "not quantified" in band["source"] and "held-out" not in band["source"]


def test_two_result_files_of_one_name_in_two_folders_are_two_runs(tmp_path):
    for folder, conc in (("a", 16), ("b", 32)):
        (tmp_path / folder).mkdir()
        _write(tmp_path / folder / "result.json", _vllm(max_concurrency=conc))
    recs = sources.load([tmp_path / "a/result.json", tmp_path / "b/result.json"], {"gpu": "h200-sxm-141gb", "tp": 4})
    assert [r.id for r in recs] == ["result", "b/result"]


def test_the_same_file_twice_is_refused(run, tmp_path):
    f = Path(shutil.copy(VLLM, tmp_path / "r.json"))
    _refused(run("validate", "--bench", f, tmp_path / "." / "r.json", *CAL), "pass each file once")


@pytest.mark.slow  # a robust fit and its leave-one-out over six runs
def test_all_outlier_runs_say_so_without_internal_field_names(run, tmp_path):
    base = _vllm()
    files = []
    for i, c in enumerate([1, 2, 4, 8, 16, 32]):
        d = _vllm(max_concurrency=c, **{k: base[k] * 1000 * (1 + i / 10) for k in
                                       ("request_throughput", "output_throughput", "total_token_throughput")})
        files.append(_write(tmp_path / f"r{i}.json", d))
    r = run("calibrate", "--bench", *files, *CAL, "--out", tmp_path / "p.json")
    assert r.rc == 1 and "Traceback" not in r.err, r
    last = r.err.strip().splitlines()[-1]
    assert "every run is an outlier" in last and "error_band" not in last and "<calibration>" not in last, last
    assert not (tmp_path / "p.json").exists()


# ---- impossible values ---------------------------------------------------------------------------------
@pytest.mark.parametrize("changes,field", [
    ({"output_throughput": 1e308}, "output_throughput"),
    ({"completed": 1e308}, "completed"),
    ({"completed": 2.5}, "completed"),
    ({"total_output_tokens": 1e300}, "total_output_tokens"),
    ({"mean_ttft_ms": 1e300}, "mean_ttft_ms"),
    ({"max_concurrency": 0}, "max_concurrency"),
])
def test_impossible_vllm_numbers_are_refused(run, tmp_path, changes, field):
    f = _write(tmp_path / "r.json", _vllm(**changes))
    _refused(run("calibrate", "--bench", f, *CAL, "--out", tmp_path / "p.json"), "r.json", field)
    assert not (tmp_path / "p.json").exists()


@pytest.mark.parametrize("changes,field", [
    ({"num_gpus": 10**20}, "records[0].num_gpus"),
    ({"tp": 10**6}, "records[0].tp"),
    ({"input_tokens": 2**40}, "records[0].input_tokens"),
    ({"load": {"concurrency": 0.5}}, "records[0].load.concurrency"),
    ({"load": {"request_rate_rps": 1e300}}, "records[0].load.request_rate_rps"),
    ({"metrics": {"output_throughput_per_gpu_tok_s": 1e308}}, "records[0].metrics.output_throughput_per_gpu_tok_s"),
    ({"notes_ref": [1]}, "records[0].notes_ref"),
    ({"notes_ref": {"a": 1}}, "records[0].notes_ref"),
])
def test_impossible_dataset_records_are_refused_naming_the_field(run, tmp_path, changes, field):
    f = _write(tmp_path / "d.json", _dataset(**changes))
    _refused(run("validate", "--bench", f), "d.json", field)


def test_shared_notes_must_be_texts(run, tmp_path):
    d = _dataset()
    d["shared_notes"] = {"n0": ["x"]}
    _refused(run("validate", "--bench", _write(tmp_path / "d.json", d)), "shared_notes")


# ---- kernel tables -------------------------------------------------------------------------------------
def _profile_with(table: dict) -> dict:
    from moeprof.profile import shipped_profiles

    d = shipped_profiles()["h200-sxm-141gb.published"].to_json()
    base = {"op": "allreduce", "key": {"dtype": "bf16"}, "axes": {"message_bytes": [1024, 1048576], "gpus": [2, 8]},
            "ms": [0.01, 0.02, 0.05, 0.1], "extensive": ["message_bytes"]}
    d["kernel_tables"] = {"allreduce_bf16": {**base, **table}}
    return d


@pytest.mark.parametrize("table,field", [
    ({"extensive": [["message_bytes"]]}, "kernel_tables.allreduce_bf16.extensive"),
    ({"linear": [1]}, "kernel_tables.allreduce_bf16.linear"),
    ({"meta": "abc"}, "kernel_tables.allreduce_bf16.meta"),
    ({"ms": [1e300, 0.02, 0.05, 0.1]}, "ms[0]"),
    ({"axes": {"message_bytes": list(range(1, 10001)), "gpus": list(range(1, 1001))}, "ms": []},
     "kernel_tables.allreduce_bf16.axes"),
])
def test_bad_kernel_tables_are_refused_naming_the_field(run, tmp_path, table, field):
    f = _write(tmp_path / "p.json", _profile_with(table))
    _refused(run(*EVAL, "--concurrency", "4", "--profile", f), "p.json", field)


def test_a_profile_of_too_many_cells_in_all_is_refused_before_building(run, tmp_path):
    d = _profile_with({})
    t = d["kernel_tables"]["allreduce_bf16"]
    big = {**t, "axes": {"message_bytes": list(range(1, 901)), "gpus": list(range(1, 1001))}, "ms": []}
    d["kernel_tables"] = {f"allreduce_{i}": {**big, "key": {"dtype": f"d{i}"}} for i in range(3)}
    _refused(run(*EVAL, "--concurrency", "4", "--profile", _write(tmp_path / "p.json", d)), "grid cells in all")


# ---- flags ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("args,needle", [
    (["--concurrency", "16", "--num-prompts", "1"], "--num-prompts"),
    (["--concurrency", "0.5"], "whole number"),
    (["--concurrency", "1.5"], "whole number"),
    (["--sweep", "concurrency=" + ",".join(str(i) for i in range(1, 65001))], "at most 256"),
    (["--sweep", "concurrency=1_0"], "not a number"),
    (["--sweep", "concurrency=\u0661"], "not a number"),
    (["--sweep", "concurrency=1,2.5"], "whole number"),
    (["--sweep", "concurrency=4,16", "--num-prompts", "8"], "--num-prompts"),
])
def test_evaluate_flags_are_strict(run, args, needle):
    _refused(run(*EVAL, *args), needle)


def test_a_concurrency_with_enough_prompts_runs(run):
    r = run(*EVAL, "--concurrency", "16", "--num-prompts", "16", "--json")
    assert r.rc == 0, r


@pytest.mark.parametrize("cell", ["1_5", "nan", "inf", "0x10", "+1", "١"])
def test_traffic_numbers_are_plain_decimals(run, tmp_path, cell):
    rows = "\n".join(f"{h},{cell if h == 3 else 1}" for h in range(24))
    f = _write(tmp_path / "t.csv", "hour,qps\n" + rows + "\n")
    _refused(run("plan", "--model", "scout", "--sku", "nd-h200-v5", "--max-vms", "1", "--traffic", f), "t.csv", "line 5")


# ---- a plan moeprof writes, moeprof reads -------------------------------------------------------------
def test_a_tiny_token_price_is_refused(run):
    _refused(run("plan", "--model", "scout", "--sku", "nd-h200-v5", "--max-vms", "1", "--token-price", "1e-300,1e-300"),
             "--token-price")


def test_the_smallest_token_price_gives_a_plan_report_and_export_read(run, tmp_path):
    r = run("plan", "--model", "scout", "--sku", "nd-h200-v5", "--max-vms", "1", "--token-price", "1e-4,1e-4", "--json")
    assert r.rc == 0, r
    p = _write(tmp_path / "p.json", r.out)
    assert run("report", p, "-o", tmp_path / "r.html").rc == 0
    assert run("export", p, "--format", "vllm", "-o", tmp_path / "x.sh").rc == 0


def test_every_value_a_plan_stores_is_finite(small_plan):
    def walk(v):
        if isinstance(v, float):
            assert v == v and abs(v) != float("inf")
        elif isinstance(v, dict):
            [walk(x) for x in v.values()]
        elif isinstance(v, list):
            [walk(x) for x in v]
    walk(small_plan)


# ---- report sections -----------------------------------------------------------------------------------
@pytest.mark.parametrize("edit,field", [
    (lambda c: c["build_or_buy"].update(date="2025-13-45"), "charts.build_or_buy.date"),
    (lambda c: c["build_or_buy"].update(provider=5), "charts.build_or_buy.provider"),
    (lambda c: c["build_or_buy"].update(skus=[1]), "charts.build_or_buy.skus"),
    (lambda c: c["price_sensitivity"][0].update(price_usd_per_vm_hour=[], cost_usd_per_month=[]),
     "charts.price_sensitivity[0].price_usd_per_vm_hour"),
    (lambda c: c.update(unavailable=["memory"]), "charts.unavailable"),
    (lambda c: c.update(unavailable={"memory": 5}), "charts.unavailable.memory"),
    (lambda c: c.update(kv="abc"), "charts.kv"),
    (lambda c: c.update(latency=[1]), "charts.latency"),
])
def test_report_sections_are_validated_at_the_boundary(run, tmp_path, small_plan, edit, field):
    doc = json.loads(json.dumps(small_plan))
    assert doc["charts"]["build_or_buy"] and doc["charts"]["price_sensitivity"]
    edit(doc["charts"])
    p = _write(tmp_path / "p.json", doc)
    _refused(run("report", p, "-o", tmp_path / "r.html"), "p.json", field)
    assert not (tmp_path / "r.html").exists()


# ---- limits name the input to shrink -------------------------------------------------------------------
def test_records_per_file_limit_names_the_file(run, tmp_path):
    d = _dataset(1)
    d["records"] = [dict(d["records"][0], id=f"r{i}") for i in range(2001)]
    _refused(run("validate", "--bench", _write(tmp_path / "big.json", d)), "big.json", "at most 2,000 in one file")


def test_result_lines_per_file_limit_names_the_file(run, tmp_path):
    f = _write(tmp_path / "lines.jsonl", "\n".join([json.dumps(_vllm())] * 2001))
    _refused(run("validate", "--bench", f, *CAL), "lines.jsonl", "at most 2,000 in one file")


def test_calibrate_over_many_files_is_refused_before_fitting(run, tmp_path):
    files = [_write(tmp_path / f"r{i}.json", _vllm(max_concurrency=i + 1)) for i in range(150)]
    _refused(run("calibrate", "--bench", *files, *CAL, "--out", tmp_path / "p.json"), "at most 80 in one calibration",
             "fewer --bench files")


def test_files_per_run_limit(run, tmp_path):
    f = Path(shutil.copy(VLLM, tmp_path / "r.json"))
    _refused(run("validate", "--bench", *([f] * 1001), *CAL), "at most 1,000", "fewer --bench files")


def test_out_of_memory_names_the_search_only_where_there_is_one(run, monkeypatch):
    from moeprof.calibrate import sources as src

    def boom(*a, **k):
        raise MemoryError

    monkeypatch.setattr(src, "load", boom)
    r = run("validate", "--bench", VLLM, *CAL)
    assert r.rc == 1 and r.one_line and "out of memory in validate" in r.err and "--sku" not in r.err, r
