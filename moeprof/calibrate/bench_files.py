"""Readers of engine benchmark result files: `vllm bench serve --save-result` JSON and SGLang
`bench_serving --output-file` JSONL (one result object per line). Neither file records the GPU
or the parallel layout, so the caller passes them; the records come back as BenchRecords with
metric names carrying units (times in ms)."""

from __future__ import annotations

import math
import re
from pathlib import Path

from ..errors import ConfigError, MoeprofError
from ..inputs import parse_json_text, read_text_file, short
from .bench_record import MAX_PROMPTS, MAX_RECORDS_PER_FILE, BenchRecord, record_from_dict, records_from_doc, split_of

# vLLM vllm/benchmarks/serve.py result keys -> metric names (times are already ms there)
_VLLM_RENAMES = {
    "request_throughput": "request_throughput_rps",
    "output_throughput": "output_throughput_tok_s",
    "total_token_throughput": "total_token_throughput_tok_s",
    "max_output_tokens_per_s": "peak_output_throughput_tok_s",
}
# SGLang python/sglang/bench_serving.py result keys -> metric names
_SGLANG_RENAMES = {
    "request_throughput": "request_throughput_rps",
    "input_throughput": "input_throughput_tok_s",
    "output_throughput": "output_throughput_tok_s",
    "total_throughput": "total_token_throughput_tok_s",
    "concurrency": "mean_concurrency_requests",
}
_LATENCY_KEY = re.compile(r"^(mean|median|std|p\d+(?:\.\d+)?)_(ttft|tpot|itl|e2el|e2e_latency)_ms$")
_REQUIRED = ("completed", "output_throughput")

# HF model id patterns -> model family (used when the caller does not name the family)
_FAMILIES = (
    (re.compile(r"llama-?4", re.I), "llama4"),
    (re.compile(r"llama-?3", re.I), "llama3"),
    (re.compile(r"deepseek-(v3|r1)", re.I), "deepseek_v3"),
    (re.compile(r"gpt-oss", re.I), "gpt_oss"),
    (re.compile(r"qwen3-.*a\d+b", re.I), "qwen3_moe"),
    (re.compile(r"mixtral", re.I), "mixtral"),
)


def family_of(model: str) -> str:
    for pat, fam in _FAMILIES:
        if pat.search(model):
            return fam
    return "unknown"


# result-file counts and totals -> the largest a real run reports
_BOUNDS = {"completed": MAX_PROMPTS, "total_input_tokens": 1e15, "total_output_tokens": 1e15, "duration": 1e7}


def _num(doc: dict, key: str, path, where: str):
    v = doc.get(key)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
        raise ConfigError(path, f"{where}{key}", f"expected a finite number >= 0, got {short(v)}")
    if key in _BOUNDS and v > _BOUNDS[key]:
        raise ConfigError(path, f"{where}{key}", f"{v:g} is more than a benchmark run can have (at most {_BOUNDS[key]:g})")
    if key == "completed" and v != int(v):
        raise ConfigError(path, f"{where}{key}", f"expected a whole number of requests, got {v:g}")
    return v


def _latencies(doc: dict) -> dict[str, float]:
    out = {}
    for k, v in doc.items():
        m = _LATENCY_KEY.match(k)
        if m and isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
            stat = m.group(1).replace(".", "")
            kind = "e2el" if m.group(2) == "e2e_latency" else m.group(2)
            out[f"{stat}_{kind}_ms"] = float(v)
    return out


def _rate(v):
    """A request rate from a result file: a number, or "inf"/Infinity (no rate limit) -> None."""
    if v is None or v == "inf" or (isinstance(v, float) and math.isinf(v)):
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0:
        raise ValueError(v)
    return float(v)


def _load(doc: dict, path, where: str) -> tuple[dict, str]:
    try:
        rate = _rate(doc.get("request_rate"))
    except ValueError:
        raise ConfigError(path, f"{where}request_rate", f"expected a positive number or inf, got {doc.get('request_rate')!r}") from None
    conc = doc.get("max_concurrency")
    if conc is not None and (isinstance(conc, bool) or not isinstance(conc, int) or conc < 1):
        raise ConfigError(path, f"{where}max_concurrency", f"expected a positive integer or null, got {conc!r}")
    load = {}
    if conc is not None:
        load["concurrency"] = conc
    if rate is not None:
        load["request_rate_rps"] = rate
    if load:
        return load, ""
    return {"offline": True}, "request_rate inf and no max_concurrency: all prompts sent at once"


def _record(doc: dict, path, where: str, engine: str, metrics: dict, lengths, layout: dict) -> BenchRecord:
    for key in _REQUIRED:
        _num(doc, key, path, where)
    if doc["completed"] < 1:
        raise ConfigError(path, f"{where}completed", "no request completed")
    num_gpus = layout["num_gpus"]
    for name in ("output_throughput_tok_s", "total_token_throughput_tok_s", "input_throughput_tok_s"):
        if name in metrics:
            metrics[name.replace("_tok_s", "_per_gpu_tok_s")] = metrics[name] / num_gpus
    load, load_note = _load(doc, path, where)
    notes = [f"read from {engine} benchmark result file {Path(path).name}",
             f"per-GPU throughputs = file throughput / num_gpus ({num_gpus})", lengths[2], load_note]
    if layout.get("notes"):
        notes.append(layout["notes"])
    rec = {
        "id": f"{Path(path).stem}{where.rstrip('.').replace('line ', '-l')}",
        "model": layout["model"],
        "model_family": layout["model_family"] or family_of(layout["model"]),
        "checkpoint_quant": layout["checkpoint_quant"],
        "gpu": layout["gpu"],
        "num_gpus": num_gpus,
        "tp": layout["tp"],
        "ep": layout["ep"],
        "dp": layout["dp"],
        "pp": layout["pp"],
        "engine": engine,
        "engine_version": layout["engine_version"],
        "kv_cache_dtype": layout["kv_cache_dtype"],
        "spec_decode": layout["spec_decode"],
        "load": load,
        "input_tokens": lengths[0],
        "output_tokens": lengths[1],
        "range_ratio": doc.get("random_range_ratio") if isinstance(doc.get("random_range_ratio"), (int, float)) else None,
        "dataset": doc.get("dataset_name") if isinstance(doc.get("dataset_name"), str) else None,
        "num_prompts": doc.get("num_prompts") if isinstance(doc.get("num_prompts"), int) and 1 <= doc["num_prompts"] <= MAX_PROMPTS else int(doc["completed"]),
        "metrics": metrics,
        "source": {
            "url": Path(path).resolve().as_uri(),
            "quote": f"{engine} result: completed={doc['completed']}, output_throughput={doc['output_throughput']}",
        },
        "notes": "; ".join(n for n in notes if n),
    }
    rec["split"], rec["split_reason"] = split_of(rec)
    return record_from_dict(rec, path, where.rstrip(".") or "<root>")


def _mean_lengths(doc: dict, path, where: str) -> tuple[int, int, str]:
    n = _num(doc, "completed", path, where)
    tin = _num(doc, "total_input_tokens", path, where)
    tout = _num(doc, "total_output_tokens", path, where)
    if n < 1:
        raise ConfigError(path, f"{where}completed", "no request completed")
    return max(1, round(tin / n)), max(1, round(tout / n)), "input/output tokens = mean over completed requests (total_*_tokens / completed)"


def _layout(path, gpu, tp, ep, dp, pp, num_gpus, model, model_family, engine_version,
            checkpoint_quant, kv_cache_dtype, spec_decode, notes) -> dict:
    if not gpu:
        raise MoeprofError(f"{path}: the file does not record the GPU; give --gpu (e.g. h200-sxm-141gb)")
    if not tp:
        raise MoeprofError(f"{path}: the file does not record the tensor-parallel size; give --tp")
    for name, v in (("tp", tp), ("ep", ep), ("dp", dp), ("pp", pp)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise MoeprofError(f"{path}: {name} must be a positive integer, got {v!r}")
    return {
        "gpu": gpu, "tp": tp, "ep": ep, "dp": dp, "pp": pp,
        "num_gpus": num_gpus or tp * dp * pp,
        "model": model, "model_family": model_family, "engine_version": engine_version,
        "checkpoint_quant": checkpoint_quant, "kv_cache_dtype": kv_cache_dtype,
        "spec_decode": bool(spec_decode), "notes": notes,
    }


def parse_vllm_bench(doc, path, _where: str = "", **layout) -> list[BenchRecord]:
    """The record of a `vllm bench serve --save-result` JSON object (vllm/benchmarks/serve.py:
    model_id, request_rate ("inf" when unlimited), max_concurrency, duration in s, completed,
    total_input_tokens, total_output_tokens, request_throughput, output_throughput,
    total_token_throughput, {mean,median,std,p99}_{ttft,tpot,itl,e2el}_ms). `layout` as in
    load_bench_file."""
    if not isinstance(doc, dict):
        raise ConfigError(path, "<root>", "expected a JSON object (vllm bench serve --save-result)")
    w = _where
    model = layout.get("model") or doc.get("model_id")
    if not isinstance(model, str) or not model:
        raise ConfigError(path, f"{w}model_id", "missing; give --model")
    lay = _layout(path, **_with_defaults(layout, model))
    metrics = {new: float(_num(doc, old, path, w)) for old, new in _VLLM_RENAMES.items() if doc.get(old) is not None}
    metrics.update(_latencies(doc))
    if doc.get("duration") is not None:
        metrics["benchmark_duration_ms"] = float(_num(doc, "duration", path, w)) * 1000.0
    return [_record(doc, path, w, "vllm", metrics, _mean_lengths(doc, path, w), lay)]


def _sglang_lengths(doc: dict, path, where: str) -> tuple[int, int, str]:
    rin, rout = doc.get("random_input_len"), doc.get("random_output_len")
    if str(doc.get("dataset_name", "random")).startswith("random") and isinstance(rin, int) and isinstance(rout, int) and rin > 0 and rout > 0:
        return rin, rout, "input/output tokens = random_input_len / random_output_len (nominal)"
    return _mean_lengths(doc, path, where)


def _json_lines(lines, path):
    """(line number, object) of each non-blank line of a JSON-lines file (at most
    MAX_RECORDS_PER_FILE, counted before any line is parsed)."""
    numbered = [(n, line) for n, line in enumerate(lines, start=1) if line.strip()]
    if len(numbered) > MAX_RECORDS_PER_FILE:
        raise ConfigError(path, "<file>", f"{len(numbered):,} result lines, at most {MAX_RECORDS_PER_FILE:,} in one file "
                          "(split the file)")
    for n, line in numbered:
        try:
            doc = parse_json_text(line, path, allow_infinity=True)  # bounded: depth, digits, no NaN
        except ConfigError as e:
            raise ConfigError(path, f"line {n}", e.problem) from None
        if not isinstance(doc, dict):
            raise ConfigError(path, f"line {n}", "expected a JSON object")
        yield n, doc


def parse_vllm_lines(lines, path, **layout) -> list[BenchRecord]:
    """Records of a `vllm bench serve --save-result --append-result` file: one vLLM result object
    a line (each line as parse_vllm_bench reads a whole file)."""
    out = []
    for n, doc in _json_lines(lines, path):
        if _engine_of(doc) != "vllm":
            raise ConfigError(path, f"line {n}", "not a vllm bench serve result (the file's first result is one)")
        (rec,) = parse_vllm_bench(doc, path, _where=f"line {n}.", **layout)
        out.append(rec)
    if not out:
        raise ConfigError(path, "<file>", "no result lines")
    return out


def parse_sglang_bench(lines, path, **layout) -> list[BenchRecord]:
    """Records of SGLang `bench_serving --output-file` JSONL (python/sglang/bench_serving.py: one
    object a line with backend, dataset_name, request_rate, max_concurrency, random_input_len,
    random_output_len, random_range_ratio, duration in s, completed, total_input_tokens,
    total_output_tokens, request_throughput, input_throughput, output_throughput,
    total_throughput, {mean,median,std,p99}_{ttft,tpot,itl}_ms, {mean,median,std,p99}_e2e_latency_ms,
    concurrency). Blank lines are skipped; `layout` as in load_bench_file."""
    out = []
    for n, doc in _json_lines(lines, path):
        where = f"line {n}."
        if _engine_of(doc) == "vllm":
            raise ConfigError(path, f"line {n}", "a vllm bench serve result in an SGLang bench_serving file")
        model = layout.get("model") or doc.get("model_id") or doc.get("model")
        if not isinstance(model, str) or not model:
            raise ConfigError(path, f"{where}model", "the file does not name the model; give --model")
        lay = _layout(path, **_with_defaults(layout, model))
        metrics = {new: float(_num(doc, old, path, where)) for old, new in _SGLANG_RENAMES.items() if doc.get(old) is not None}
        metrics.update(_latencies(doc))
        if doc.get("duration") is not None:
            metrics["benchmark_duration_ms"] = float(_num(doc, "duration", path, where)) * 1000.0
        out.append(_record(doc, path, where, "sglang", metrics, _sglang_lengths(doc, path, where), lay))
    if not out:
        raise ConfigError(path, "<file>", "no result lines")
    return out


def _with_defaults(layout: dict, model: str) -> dict:
    keys = ("gpu", "tp", "ep", "dp", "pp", "num_gpus", "model", "model_family", "engine_version",
            "checkpoint_quant", "kv_cache_dtype", "spec_decode", "notes")
    unknown = set(layout) - set(keys)
    if unknown:
        raise TypeError(f"unknown layout arguments: {', '.join(sorted(unknown))}")
    d = {"gpu": None, "tp": None, "ep": 1, "dp": 1, "pp": 1, "num_gpus": None, "model_family": None,
         "engine_version": None, "checkpoint_quant": None, "kv_cache_dtype": None, "spec_decode": False, "notes": ""}
    d.update(layout)
    d["model"] = model
    return d


def _whole_document(text: str, path):
    """The file as one JSON document, or None when it is not one (several JSON lines)."""
    try:
        return parse_json_text(text.strip(), path, allow_infinity=True)
    except ConfigError as e:
        if "refused" in e.problem or "nested" in e.problem:
            raise
        return None


def _engine_of(doc) -> str | None:
    """Which engine's benchmark client wrote a result object, by its keys."""
    if not isinstance(doc, dict):
        return None
    if "median_e2e_latency_ms" in doc or "total_output_tokens_retokenized" in doc or "input_throughput" in doc:
        return "sglang"
    if "model_id" in doc or "total_token_throughput" in doc or "endpoint_type" in doc or "median_e2el_ms" in doc:
        return "vllm"
    return None


def detect_format(text: str, path="<file>") -> str:
    """"moeprof" (a dataset file), "vllm", "vllm-lines" (`--append-result`: one vLLM result a
    line) or "sglang" (bench_serving JSONL), by content: the keys of the document, or of the
    first result line of a JSON-lines file."""
    doc = _whole_document(text, path)
    if doc is None:  # several JSON lines: the first one says whose
        first = next((line for line in text.splitlines() if line.strip()), "")
        try:
            head = parse_json_text(first, path, allow_infinity=True)
        except ConfigError:
            return "sglang"  # the SGLang reader names the bad line
        return "vllm-lines" if _engine_of(head) == "vllm" else "sglang"
    if isinstance(doc, dict):
        if "records" in doc:
            return "moeprof"
        if _engine_of(doc):
            return _engine_of(doc)
    return "unknown"


def load_bench_file(path, gpu: str | None = None, tp: int | None = None, **layout) -> list[BenchRecord]:
    """Records of a benchmark file, its format detected: a moeprof dataset file, a vLLM
    `--save-result` JSON or an SGLang `--output-file` JSONL. Engine files carry neither GPU nor
    layout, so `gpu` and `tp` are required for them; `layout` may add ep, dp, pp, num_gpus
    (default tp*dp*pp), model (default the file's model_id), model_family (default from the
    model id), engine_version, checkpoint_quant, kv_cache_dtype, spec_decode and notes."""
    p = Path(path)
    text = read_text_file(p, "benchmark file")  # a regular UTF-8 file of at most 64 MiB
    fmt = detect_format(text, p)
    if fmt == "moeprof":
        return records_from_doc(_whole_document(text, p), p)
    if fmt == "vllm":
        return parse_vllm_bench(_whole_document(text, p), p, gpu=gpu, tp=tp, **layout)
    if fmt == "vllm-lines":
        return parse_vllm_lines(text.splitlines(), p, gpu=gpu, tp=tp, **layout)
    if fmt == "sglang":
        return parse_sglang_bench(text.splitlines(), p, gpu=gpu, tp=tp, **layout)
    raise ConfigError(p, "<root>", "not a moeprof dataset, vllm bench serve result or sglang bench_serving JSONL")
