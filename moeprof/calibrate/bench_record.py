"""One published or measured serving benchmark point (`BenchRecord`), its validation, and the
split rule that decides whether it fits the model, validates it, or neither."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from ..errors import ConfigError
from ..inputs import short

ENGINES = ("vllm", "sglang", "trtllm")
SPLITS = ("fit", "validation", "none")
FIT_FAMILIES = frozenset({"llama3", "llama4"})
LOAD_KEYS = ("concurrency", "request_rate_rps", "offline", "static_batch_size", "not_stated")
METRIC_UNIT_SUFFIXES = ("_ms", "_tok_s", "_rps", "_per_user", "_requests")
MAX_RECORDS_PER_FILE = 2000  # the largest shipped dataset file has 139 records
MAX_GPUS = 65536  # GPUs of one benchmarked deployment
MAX_PARALLEL = 1024  # tp, ep, dp, pp
MAX_TOKENS = 2**24  # input / output tokens of a request (evaluate's bound)
MAX_PROMPTS = 10**9  # requests of one benchmark run
MAX_CONCURRENCY = 10**6
MAX_RATE_RPS = 1e6
# metric unit suffix -> the largest value a real run can report
METRIC_BOUNDS = {"_ms": (1e8, "27 hours"), "_tok_s": (1e9, "a billion tokens/s"), "_rps": (1e7, "ten million requests/s"),
                 "_per_user": (1e6, "a million tokens/s per user"), "_requests": (1e9, "a billion requests")}
_SERVING_METRIC = re.compile(
    r"^(mean|median|std|p\d+)_(ttft|tpot|itl|e2el)_ms$|throughput(_per_gpu)?_(tok_s|rps)$|tokens_per_s_per_user$"
)


@dataclass(frozen=True)
class BenchRecord:
    """A benchmark point. `metrics` maps unit-suffixed names (median_ttft_ms,
    output_throughput_per_gpu_tok_s, request_throughput_rps, ...) to floats; times are in ms.
    `load` is {"concurrency": C}, {"request_rate_rps": R}, {"offline": True} (optionally with
    "static_batch_size") or {"not_stated": True}."""

    id: str
    model: str
    model_family: str
    checkpoint_quant: str | None
    gpu: str
    num_gpus: int
    tp: int
    ep: int
    dp: int
    pp: int
    engine: str
    engine_version: str | None
    kv_cache_dtype: str | None
    spec_decode: bool
    load: dict
    input_tokens: int | None
    output_tokens: int | None
    range_ratio: float | None
    dataset: str | None
    num_prompts: int | None
    metrics: dict[str, float]
    source: dict
    notes: str
    split: str
    split_reason: str = ""
    path: str = field(default="", compare=False)
    engine_env: dict[str, str] = field(default_factory=dict)  # environment variables the run's server set, as published

    @property
    def concurrency(self) -> int | None:
        return self.load.get("concurrency")

    @property
    def request_rate_rps(self) -> float | None:
        return self.load.get("request_rate_rps")

    @property
    def offline(self) -> bool:
        return bool(self.load.get("offline"))


def split_of(rec: dict) -> tuple[str, str]:
    """(split, reason) of a record dict by the rule in moeprof/data/benchmarks/README.md:
    speculative decoding, static batches, unstated load or lengths, or no serving metric ->
    "none" with a reason; otherwise Llama families -> "fit", every other family -> "validation"."""
    load = rec.get("load") or {}
    if rec.get("spec_decode"):
        return "none", "speculative decoding (MTP): not modelled"
    if load.get("static_batch_size") is not None:
        return "none", "static-batch latency run, not continuous-batching serving"
    if load.get("not_stated"):
        return "none", "load (concurrency or request rate) not stated"
    if rec.get("input_tokens") is None or rec.get("output_tokens") is None:
        return "none", "input/output lengths not published"
    if not any(_SERVING_METRIC.search(k) for k in rec.get("metrics") or {}):
        return "none", "no throughput or latency metric usable for serving"
    if rec.get("model_family") in FIT_FAMILIES:
        return "fit", ""
    return "validation", ""


def _str(d: dict, key: str, path, where: str, optional: bool = False):
    v = d.get(key)
    if v is None and optional:
        return None
    if not isinstance(v, str) or not v:
        raise ConfigError(path, f"{where}.{key}", f"expected a non-empty string, got {v!r}")
    return v


def _int(d: dict, key: str, path, where: str, optional: bool = False, minimum: int = 1, maximum: int = MAX_PARALLEL):
    v = d.get(key)
    if v is None and optional:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or v < minimum or v > maximum:
        raise ConfigError(path, f"{where}.{key}", f"expected an integer from {minimum:,} to {maximum:,}, got {short(v)}")
    return v


def _number(v) -> bool:
    return not isinstance(v, bool) and isinstance(v, (int, float)) and math.isfinite(v)


def _load(d: dict, path, where: str) -> dict:
    load = d.get("load")
    if not isinstance(load, dict) or not load or set(load) - set(LOAD_KEYS):
        raise ConfigError(path, f"{where}.load", f"expected an object with keys among {', '.join(LOAD_KEYS)}, got {short(load)}")
    load = dict(load)
    for k, v in load.items():
        if k in ("offline", "not_stated"):
            ok, want = v is True, "true"
        elif k == "request_rate_rps":
            ok, want = _number(v) and 0 < v <= MAX_RATE_RPS, f"a number of requests/s in (0, {MAX_RATE_RPS:g}]"
        else:  # requests in flight, a batch: whole numbers
            ok = _number(v) and v == int(v) and 1 <= v <= MAX_CONCURRENCY
            want = f"a whole number from 1 to {MAX_CONCURRENCY:,}"
        if not ok:
            raise ConfigError(path, f"{where}.load.{k}", f"expected {want}, got {short(v)}")
        if k in ("concurrency", "static_batch_size"):
            load[k] = int(v)
    return dict(load)


def _metrics(d: dict, path, where: str) -> dict[str, float]:
    m = d.get("metrics")
    if not isinstance(m, dict) or not m:
        raise ConfigError(path, f"{where}.metrics", "expected a non-empty object of numbers")
    out = {}
    for k, v in m.items():
        if not k.endswith(METRIC_UNIT_SUFFIXES):
            raise ConfigError(path, f"{where}.metrics.{k}", f"name has no unit suffix ({', '.join(METRIC_UNIT_SUFFIXES)})")
        hi, why = next(b for suffix, b in METRIC_BOUNDS.items() if k.endswith(suffix))
        if not _number(v) or v < 0 or v > hi:
            raise ConfigError(path, f"{where}.metrics.{k}", f"expected a number from 0 to {hi:g} ({why}), got {short(v)}")
        out[k] = float(v)
    return out


def _source(d: dict, path, where: str) -> dict:
    s = d.get("source")
    if not isinstance(s, dict):
        raise ConfigError(path, f"{where}.source", "expected an object with url and quote")
    url = _str(s, "url", path, f"{where}.source")
    if not url.startswith(("https://", "http://", "file:")):
        raise ConfigError(path, f"{where}.source.url", f"expected a URL, got {url!r}")
    _str(s, "quote", path, f"{where}.source")
    return dict(s)


def _env(d: dict, path, where: str) -> dict[str, str]:
    env = d.get("engine_env") or {}
    if not isinstance(env, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
        raise ConfigError(path, f"{where}.engine_env", "expected an object of environment variable names to string values")
    return dict(env)


def record_from_dict(d, path, where: str, notes_prefix: str = "") -> BenchRecord:
    """A validated BenchRecord from a record object; errors name the file and the field."""
    if not isinstance(d, dict):
        raise ConfigError(path, where, "expected an object")
    engine = _str(d, "engine", path, where)
    if engine not in ENGINES:
        raise ConfigError(path, f"{where}.engine", f"expected one of {', '.join(ENGINES)}, got {engine!r}")
    split = d.get("split")
    if split not in SPLITS:
        raise ConfigError(path, f"{where}.split", f"expected one of {', '.join(SPLITS)}, got {split!r}")
    reason = d.get("split_reason") or ""
    if split == "none" and not reason:
        raise ConfigError(path, f"{where}.split_reason", "a record with split 'none' needs a reason")
    if not isinstance(d.get("spec_decode"), bool):
        raise ConfigError(path, f"{where}.spec_decode", f"expected true or false, got {d.get('spec_decode')!r}")
    rr = d.get("range_ratio")
    if rr is not None and not (_number(rr) and 0 <= rr <= 1):  # 0: SGLang bench_serving's default
        raise ConfigError(path, f"{where}.range_ratio", f"expected a number in [0, 1], got {rr!r}")
    own = d.get("notes") or ""
    if not isinstance(own, str):
        raise ConfigError(path, f"{where}.notes", "expected a string")
    return BenchRecord(
        id=_str(d, "id", path, where),
        model=_str(d, "model", path, where),
        model_family=_str(d, "model_family", path, where),
        checkpoint_quant=_str(d, "checkpoint_quant", path, where, optional=True),
        gpu=_str(d, "gpu", path, where),
        num_gpus=_int(d, "num_gpus", path, where, maximum=MAX_GPUS),
        tp=_int(d, "tp", path, where),
        ep=_int(d, "ep", path, where),
        dp=_int(d, "dp", path, where),
        pp=_int(d, "pp", path, where),
        engine=engine,
        engine_version=_str(d, "engine_version", path, where, optional=True),
        kv_cache_dtype=_str(d, "kv_cache_dtype", path, where, optional=True),
        spec_decode=d["spec_decode"],
        load=_load(d, path, where),
        input_tokens=_int(d, "input_tokens", path, where, optional=True, maximum=MAX_TOKENS),
        output_tokens=_int(d, "output_tokens", path, where, optional=True, maximum=MAX_TOKENS),
        range_ratio=None if rr is None else float(rr),
        dataset=_str(d, "dataset", path, where, optional=True),
        num_prompts=_int(d, "num_prompts", path, where, optional=True, maximum=MAX_PROMPTS),
        metrics=_metrics(d, path, where),
        source=_source(d, path, where),
        notes=" ".join(x for x in (notes_prefix, own) if x),
        split=split,
        split_reason=reason,
        path=str(path),
        engine_env=_env(d, path, where),
    )


def records_from_doc(doc, path) -> list[BenchRecord]:
    if not isinstance(doc, dict):
        raise ConfigError(path, "<root>", "expected a JSON object with source and records")
    source = doc.get("source")
    if not isinstance(source, dict) or not source.get("url") or not source.get("title"):
        raise ConfigError(path, "source", "expected an object with title and url")
    shared = doc.get("shared_notes") or {}
    if not isinstance(shared, dict) or not all(isinstance(v, str) for v in shared.values()):
        raise ConfigError(path, "shared_notes", "expected an object of strings")
    recs = doc.get("records")
    if not isinstance(recs, list):
        raise ConfigError(path, "records", "expected a list")
    if len(recs) > MAX_RECORDS_PER_FILE:
        raise ConfigError(path, "records", f"{len(recs):,} records, at most {MAX_RECORDS_PER_FILE:,} in one file (split the file)")
    out = []
    for i, d in enumerate(recs):
        ref = d.get("notes_ref") if isinstance(d, dict) else None
        if ref is not None and (not isinstance(ref, str) or ref not in shared):
            raise ConfigError(path, f"records[{i}].notes_ref", f"{short(ref)} is not a key of shared_notes")
        out.append(record_from_dict(d, path, f"records[{i}]", shared.get(ref, "")))
    return out
