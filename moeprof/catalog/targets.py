"""Default planning targets (moeprof/data/targets.json): values and their sources.

    target_defaults() / target_sources()      the defaults of every model
    workload_kind(model)                      'reasoning' for a model whose card says it reasons, else None
    model_target_defaults(model, name)        ({field: value}, {field: source}) for that model: a reasoning
                                              model's long-output workload, its sources naming the model
"""

from __future__ import annotations

from functools import lru_cache

from ..errors import ConfigError
from .values import data_path, read_data_json, sourced

TARGET_FIELDS = ("input_tokens", "output_tokens", "context_tokens", "qps", "ttft_ms", "tpot_ms", "percentile", "headroom")
_NON_NEGATIVE = ("headroom",)  # a fraction of the QPS that may be 0
_INT_FIELDS = ("input_tokens", "output_tokens", "context_tokens")


@lru_cache(maxsize=1)
def _load() -> tuple[dict, dict]:
    d = read_data_json("targets.json")
    values, sources = {}, {}
    for k in TARGET_FIELDS:
        v, src, _ = sourced(d.get(k), data_path("targets.json"), k, positive=k not in _NON_NEGATIVE)
        values[k] = int(v) if k in _INT_FIELDS else float(v)
        sources[k] = src
    return values, sources


@lru_cache(maxsize=1)
def _reasoning() -> tuple[dict, dict, dict]:
    """({field: value}, {field: source}, {model: source}) of the reasoning workload."""
    path = data_path("targets.json")
    r = read_data_json("targets.json").get("reasoning")
    if not isinstance(r, dict) or not isinstance(r.get("models"), dict):
        raise ConfigError(path, "reasoning", "expected {input_tokens, output_tokens, models}")
    values, sources = {}, {}
    for k in ("input_tokens", "output_tokens"):
        v, src, _ = sourced(r.get(k), path, f"reasoning.{k}")
        values[k], sources[k] = int(v), src
    models = {str(m).lower(): str(src) for m, src in r["models"].items()}
    if not all(models.values()):
        raise ConfigError(path, "reasoning.models", "every model needs its source")
    return values, sources, models


def workload_kind(model: str) -> str | None:
    """'reasoning' when the built-in model's card says it reasons by default (targets.json), else None."""
    return "reasoning" if str(model).lower() in _reasoning()[2] else None


def model_target_defaults(model: str, name: str | None = None) -> tuple[dict, dict]:
    """({field: value}, {field: source}) of the default targets of a model (a built-in short name, or a
    config path, which gets the general defaults); a reasoning model's workload fields and their
    sources say which model and why."""
    values, sources = target_defaults(), target_sources()
    if workload_kind(model) is None:
        return values, sources
    r_values, r_sources, models = _reasoning()
    who = name or str(model)
    for k, v in r_values.items():
        values[k] = v
        sources[k] = f"{who} is a reasoning model ({models[str(model).lower()]}): a long-output workload; {r_sources[k]}"
    return values, sources


def target_defaults() -> dict:
    """{field: default value} for every target field."""
    return dict(_load()[0])


def target_sources() -> dict:
    """{field: source text} of every default target."""
    return dict(_load()[1])
