"""Default planning targets (moeprof/data/targets.json): values and their sources."""

from __future__ import annotations

from functools import lru_cache

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


def target_defaults() -> dict:
    """{field: default value} for every target field."""
    return dict(_load()[0])


def target_sources() -> dict:
    """{field: source text} of every default target."""
    return dict(_load()[1])
