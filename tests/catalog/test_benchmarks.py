"""The shipped benchmark dataset and the readers of engine benchmark files."""

import json

import pytest

from moeprof.calibrate.bench_record import FIT_FAMILIES, split_of
from moeprof.calibrate.benchmarks import (
    load_bench_file,
    load_records,
    parse_vllm_bench,
    shipped_paths,
)
from moeprof.errors import ConfigError, MoeprofError

GPU_KEYS = {"h100-sxm-80gb", "h200-sxm-141gb", "mi300x-192gb", "mi325x-256gb", "mi355x-288gb"}


@pytest.fixture(scope="module")
def shipped():
    return load_records()


def test_every_shipped_file_loads_with_its_source():
    paths = shipped_paths()
    assert len(paths) >= 10
    total = 0
    for p in paths:
        doc = json.loads(p.read_text(encoding="utf-8"))
        src = doc["source"]
        assert src["title"] and src["url"].startswith("https://") and src["retrieved"], p.name
        total += len(doc["records"])
    assert total == len(load_records())
    assert sum(p.stat().st_size for p in paths) < 1_600_000


def test_every_shipped_record_has_its_source_and_sane_fields(shipped):
    ids = [r.id for r in shipped]
    assert len(ids) == len(set(ids))
    for r in shipped:
        assert r.source["url"].startswith("https://"), r.id
        assert r.source["quote"].strip(), r.id
        assert r.gpu in GPU_KEYS, r.id
        assert r.num_gpus >= r.tp >= 1 and r.num_gpus % r.tp == 0, r.id
        assert r.metrics and all(v >= 0 for v in r.metrics.values()), r.id
        assert "/" in r.model and " " not in r.model, r.id


def test_no_exact_duplicates(shipped):
    keys = [
        json.dumps([r.model, r.gpu, r.tp, r.ep, r.dp, r.engine, r.engine_version, r.load,
                    r.input_tokens, r.output_tokens, r.spec_decode, r.metrics], sort_keys=True)
        for r in shipped
    ]
    assert len(keys) == len(set(keys))


def test_split_rule_holds_for_every_record(shipped):
    for r in shipped:
        d = {"spec_decode": r.spec_decode, "load": r.load, "input_tokens": r.input_tokens,
             "output_tokens": r.output_tokens, "metrics": r.metrics, "model_family": r.model_family}
        assert (r.split, r.split_reason) == split_of(d), r.id
        if r.split == "fit":
            assert r.model_family in FIT_FAMILIES and "llama" in r.model.lower(), r.id
        if r.split == "validation":
            assert r.model_family not in FIT_FAMILIES and "llama" not in r.model.lower(), r.id
        if r.spec_decode:
            assert r.split == "none", r.id


def test_split_filter_partitions_the_records(shipped):
    parts = {s: load_records(split=s) for s in ("fit", "validation", "none")}
    assert sum(len(v) for v in parts.values()) == len(shipped)
    assert parts["fit"] and parts["validation"]
    assert all(r.split_reason for r in parts["none"])
    with pytest.raises(ValueError):
        load_records(split="train")


def test_split_rule_on_hand_made_records():
    base = {"spec_decode": False, "load": {"concurrency": 8}, "input_tokens": 1024, "output_tokens": 1024,
            "metrics": {"median_tpot_ms": 20.0}, "model_family": "llama4"}
    assert split_of(base) == ("fit", "")
    assert split_of(dict(base, model_family="deepseek_v3")) == ("validation", "")
    assert split_of(dict(base, spec_decode=True))[0] == "none"
    assert split_of(dict(base, load={"offline": True, "static_batch_size": 4}))[0] == "none"
    assert split_of(dict(base, input_tokens=None))[0] == "none"
    assert split_of(dict(base, metrics={"throughput_as_published_tok_s": 5.0}))[0] == "none"


def test_seconds_were_converted_to_ms_and_said_so(shipped):
    # InferenceX runs publish times in seconds; e2e latency of a request is at least
    # ttft + (output_tokens*range_ratio - 1) * tpot, which only holds when all are in the same unit.
    runs = [r for r in shipped if r.path.endswith("inferencex_2025-12.json")]
    assert runs
    for r in runs:
        m = r.metrics
        assert "converted to ms" in r.notes, r.id
        lower = m["mean_ttft_ms"] + (r.output_tokens * r.range_ratio - 1) * m["mean_tpot_ms"]
        assert m["mean_e2el_ms"] >= 0.9 * lower, r.id


def _vllm_result(**over):
    doc = {
        "date": "20251201-120000", "endpoint_type": "openai", "backend": "openai", "label": None,
        "model_id": "meta-llama/Llama-3.3-70B-Instruct", "tokenizer_id": "meta-llama/Llama-3.3-70B-Instruct",
        "num_prompts": 320, "request_rate": "inf", "burstiness": 1.0, "max_concurrency": 32,
        "duration": 160.0, "completed": 320, "failed": 0,
        "total_input_tokens": 320 * 1000, "total_output_tokens": 320 * 500,
        "request_throughput": 2.0, "request_goodput": None,
        "output_throughput": 1000.0, "total_token_throughput": 3000.0,
        "max_output_tokens_per_s": 1400.0, "max_concurrent_requests": 32,
        "mean_ttft_ms": 210.5, "median_ttft_ms": 200.25, "std_ttft_ms": 30.0, "p99_ttft_ms": 400.0,
        "mean_tpot_ms": 31.0, "median_tpot_ms": 30.5, "std_tpot_ms": 1.5, "p99_tpot_ms": 35.0,
        "mean_itl_ms": 30.9, "median_itl_ms": 29.75, "std_itl_ms": 4.0, "p99_itl_ms": 60.0,
        "mean_e2el_ms": 15600.0, "median_e2el_ms": 15500.0, "std_e2el_ms": 300.0, "p99.9_e2el_ms": 16500.0,
    }
    doc.update(over)
    return doc


def test_vllm_result_parses_to_the_right_metrics(tmp_path):
    doc = _vllm_result()
    path = tmp_path / "vllm-c32.json"
    path.write_text(json.dumps(doc))
    (r,) = load_bench_file(path, gpu="h200-sxm-141gb", tp=4)
    assert r.engine == "vllm" and r.gpu == "h200-sxm-141gb" and r.tp == 4 and r.num_gpus == 4
    assert r.model == doc["model_id"] and r.model_family == "llama3"
    assert r.load == {"concurrency": doc["max_concurrency"]}
    assert r.input_tokens == doc["total_input_tokens"] // doc["completed"]
    assert r.output_tokens == doc["total_output_tokens"] // doc["completed"]
    m = r.metrics
    assert m["median_ttft_ms"] == doc["median_ttft_ms"] and m["p99_itl_ms"] == doc["p99_itl_ms"]
    assert m["median_tpot_ms"] == doc["median_tpot_ms"] and m["mean_e2el_ms"] == doc["mean_e2el_ms"]
    assert m["p999_e2el_ms"] == doc["p99.9_e2el_ms"]
    assert m["request_throughput_rps"] == doc["request_throughput"]
    assert m["output_throughput_tok_s"] == doc["output_throughput"]
    assert m["total_token_throughput_tok_s"] == doc["total_token_throughput"]
    assert m["output_throughput_per_gpu_tok_s"] == pytest.approx(doc["output_throughput"] / 4)
    assert m["benchmark_duration_ms"] == pytest.approx(doc["duration"] * 1000)
    assert r.split == "fit" and r.source["url"].startswith("file:")


def test_vllm_request_rate_and_unlimited_load(tmp_path):
    (r,) = parse_vllm_bench(_vllm_result(max_concurrency=None, request_rate=4.0), tmp_path / "a.json",
                            gpu="mi300x-192gb", tp=8, model_family="llama4")
    assert r.load == {"request_rate_rps": 4.0} and r.model_family == "llama4"
    (r,) = parse_vllm_bench(_vllm_result(max_concurrency=None), tmp_path / "b.json", gpu="mi300x-192gb", tp=8)
    assert r.load == {"offline": True}


def _sglang_line(**over):
    doc = {
        "backend": "sglang", "dataset_name": "random", "request_rate": float("inf"), "max_concurrency": 64,
        "sharegpt_output_len": None, "random_input_len": 1024, "random_output_len": 1024, "random_range_ratio": 0.8,
        "duration": 95.5, "completed": 640, "total_input_tokens": 590000, "total_output_tokens": 589000,
        "total_output_tokens_retokenized": 588000, "request_throughput": 6.7, "input_throughput": 6178.0,
        "output_throughput": 6167.5, "total_throughput": 12345.5,
        "mean_e2e_latency_ms": 9000.0, "median_e2e_latency_ms": 8900.0, "std_e2e_latency_ms": 800.0,
        "p99_e2e_latency_ms": 11000.0,
        "mean_ttft_ms": 350.0, "median_ttft_ms": 300.0, "std_ttft_ms": 90.0, "p99_ttft_ms": 900.0,
        "mean_tpot_ms": 9.1, "median_tpot_ms": 9.0, "std_tpot_ms": 0.4, "p99_tpot_ms": 10.2,
        "mean_itl_ms": 9.05, "median_itl_ms": 8.5, "std_itl_ms": 3.0, "p95_itl_ms": 12.0, "p99_itl_ms": 20.0,
        "concurrency": 60.2,
    }
    doc.update(over)
    return doc


def test_sglang_jsonl_parses_to_the_right_metrics(tmp_path):
    a, b = _sglang_line(), _sglang_line(max_concurrency=128, median_itl_ms=11.0)
    path = tmp_path / "sglang.jsonl"
    path.write_text(json.dumps(a) + "\n\n" + json.dumps(b) + "\n")
    recs = load_bench_file(path, gpu="mi325x-256gb", tp=8, ep=8, model="deepseek-ai/DeepSeek-R1-0528")
    assert len(recs) == 2 and recs[0].id != recs[1].id
    r = recs[0]
    assert r.engine == "sglang" and r.ep == 8 and r.num_gpus == 8 and r.model_family == "deepseek_v3"
    assert r.load == {"concurrency": a["max_concurrency"]} and recs[1].load == {"concurrency": b["max_concurrency"]}
    assert (r.input_tokens, r.output_tokens, r.range_ratio) == (a["random_input_len"], a["random_output_len"], a["random_range_ratio"])
    m = r.metrics
    assert m["median_e2el_ms"] == a["median_e2e_latency_ms"] and m["p99_e2el_ms"] == a["p99_e2e_latency_ms"]
    assert m["median_ttft_ms"] == a["median_ttft_ms"] and m["median_itl_ms"] == a["median_itl_ms"]
    assert m["p95_itl_ms"] == a["p95_itl_ms"] and m["mean_tpot_ms"] == a["mean_tpot_ms"]
    assert m["total_token_throughput_tok_s"] == a["total_throughput"]
    assert m["input_throughput_tok_s"] == a["input_throughput"]
    assert m["output_throughput_per_gpu_tok_s"] == pytest.approx(a["output_throughput"] / 8)
    assert m["mean_concurrency_requests"] == a["concurrency"]
    assert recs[1].metrics["median_itl_ms"] == b["median_itl_ms"]
    assert r.split == "validation"


def test_sglang_default_range_ratio_zero_loads(tmp_path):
    # bench_serving's default --random-range-ratio is 0.0: lengths uniform in [1, L]
    path = tmp_path / "r0.jsonl"
    path.write_text(json.dumps(_sglang_line(random_range_ratio=0.0)) + "\n")
    (r,) = load_bench_file(path, gpu="mi300x-192gb", tp=8, model="meta-llama/Llama-4-Scout-17B-16E-Instruct")
    assert r.range_ratio == 0.0


@pytest.mark.parametrize("rr", [-0.1, 1.5])
def test_range_ratio_outside_zero_one_is_refused(tmp_path, rr):
    rec = dict(_good_record(), range_ratio=rr)
    path = tmp_path / "ds.json"
    path.write_text(json.dumps(_dataset([rec])))
    with pytest.raises(ConfigError) as excinfo:
        load_records([path])
    _one_line_error(excinfo, "ds.json", "records[0].range_ratio")


def test_single_line_sglang_file_is_detected(tmp_path):
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps(_sglang_line()) + "\n")
    (r,) = load_bench_file(path, gpu="h200-sxm-141gb", tp=8, model="openai/gpt-oss-120b")
    assert r.engine == "sglang" and r.model_family == "gpt_oss"


def test_a_shipped_file_loads_through_load_bench_file():
    p = shipped_paths()[0]
    assert [r.id for r in load_bench_file(p)] == [r.id for r in load_records([p])]


def _one_line_error(excinfo, *parts):
    msg = str(excinfo.value)
    assert "\n" not in msg
    for part in parts:
        assert part in msg, msg


@pytest.mark.parametrize(
    "text, field",
    [
        ("{not json", "<json>"),  # broken JSON object, parsed as JSONL
        (json.dumps(_vllm_result(output_throughput="fast")), "output_throughput"),
        (json.dumps(_vllm_result(completed=None)), "completed"),
        (json.dumps(_vllm_result(max_concurrency=-3)), "max_concurrency"),
        (json.dumps(_sglang_line(median_ttft_ms=None, output_throughput=None)), "output_throughput"),
        (json.dumps(_sglang_line()) + "\n{\"backend\": \n", "line 2"),
        (json.dumps([1, 2]), "<root>"),
    ],
)
def test_malformed_engine_files_give_one_line_errors(tmp_path, text, field):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(ConfigError) as excinfo:
        load_bench_file(path, gpu="h200-sxm-141gb", tp=8, model="meta-llama/Llama-3.3-70B-Instruct")
    _one_line_error(excinfo, "bad.json", field if field != "<json>" else "line 1")


def test_engine_file_without_gpu_or_tp_says_what_to_pass(tmp_path):
    path = tmp_path / "r.json"
    path.write_text(json.dumps(_vllm_result()))
    with pytest.raises(MoeprofError) as excinfo:
        load_bench_file(path, tp=8)
    _one_line_error(excinfo, "r.json", "gpu")
    with pytest.raises(MoeprofError) as excinfo:
        load_bench_file(path, gpu="h100-sxm-80gb")
    _one_line_error(excinfo, "r.json", "tensor-parallel")


def _dataset(records, shared=None):
    return {"_about": "t", "source": {"title": "t", "url": "https://example.org/x", "retrieved": "2026-11-30"},
            "shared_notes": shared or {}, "records": records}


def _good_record():
    r = json.loads(shipped_paths()[0].read_text(encoding="utf-8"))["records"][0]
    r.pop("notes_ref", None)
    return r


@pytest.mark.parametrize(
    "mutate, field",
    [
        (lambda r: r.update(engine="tgi"), "records[0].engine"),
        (lambda r: r.update(split="train"), "records[0].split"),
        (lambda r: r.update(split="none", split_reason=""), "records[0].split_reason"),
        (lambda r: r.update(tp=0), "records[0].tp"),
        (lambda r: r.update(load={"concurrency": -1}), "records[0].load.concurrency"),
        (lambda r: r.update(metrics={"median_ttft": 3.0}), "records[0].metrics.median_ttft"),
        (lambda r: r.update(metrics={"median_ttft_ms": "3"}), "records[0].metrics.median_ttft_ms"),
        (lambda r: r["source"].pop("quote"), "records[0].source.quote"),
        (lambda r: r.update(spec_decode="none"), "records[0].spec_decode"),
        (lambda r: r.update(notes_ref="n9"), "records[0].notes_ref"),
    ],
)
def test_malformed_dataset_records_give_one_line_errors(tmp_path, mutate, field):
    rec = _good_record()
    mutate(rec)
    path = tmp_path / "ds.json"
    path.write_text(json.dumps(_dataset([rec])))
    with pytest.raises(ConfigError) as excinfo:
        load_records([path])
    _one_line_error(excinfo, "ds.json", field)


def test_duplicate_ids_across_files_are_refused(tmp_path):
    rec = _good_record()
    for name in ("a.json", "b.json"):
        (tmp_path / name).write_text(json.dumps(_dataset([rec])))
    with pytest.raises(ConfigError) as excinfo:
        load_records([tmp_path / "a.json", tmp_path / "b.json"])
    _one_line_error(excinfo, "b.json", rec["id"])


def test_shared_notes_are_prefixed(tmp_path):
    rec = dict(_good_record(), notes_ref="n0", notes="own remark")
    path = tmp_path / "ds.json"
    path.write_text(json.dumps(_dataset([rec], {"n0": "shared method"})))
    (r,) = load_records([path])
    assert r.notes == "shared method own remark"


def test_dense_fit_models_have_a_sourced_config(shipped):
    folder = shipped_paths()[0].parent / "configs"
    covered = set()
    for p in sorted(folder.glob("*.json")):
        cfg = json.loads(p.read_text(encoding="utf-8"))
        meta = cfg["_moeprof"]
        assert meta["hf_id"] and meta["card_total_params"] > 0, p.name
        # each source a string: repository@revision:path (fields), or the model card
        assert meta["sources"] and all(isinstance(s, str) and ("@" in s or s.startswith("model card")) for s in meta["sources"]), p.name
        # a dense Llama: the numbers the planner needs are there
        assert cfg["num_hidden_layers"] > 0 and cfg["num_attention_heads"] % cfg["num_key_value_heads"] == 0, p.name
        covered |= {meta["hf_id"], *meta.get("checkpoints_in_records", [])}
    dense_fit = {r.model for r in shipped if r.split == "fit" and r.model_family == "llama3"}
    assert dense_fit and dense_fit <= covered, dense_fit - covered
