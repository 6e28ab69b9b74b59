"""Reading a saved plan (`moeprof plan --json > PLAN.json`) back: checks that name the file and
the field, so a malformed or hand-edited plan gives one clear line instead of a traceback."""

from __future__ import annotations

import json
import math
from pathlib import Path

from .. import plan_bounds
from ..errors import ConfigError
from ..inputs import read_json_file

_INT_FIELDS = ("vms", "gpus", "tp", "ep", "pp", "replicas", "max_batch", "max_context_tokens")
_STR_FIELDS = ("sku", "gpu", "quant", "kv_dtype")
_NUM_FIELDS = (
    "ttft_ms", "tpot_ms", "tokens_per_s", "output_tokens_per_s", "qps_capacity", "running_batch",
    "utilization", "usd_per_hour", "usd_per_month", "usd_per_million_tokens", "usd_per_million_input_tokens",
    "usd_per_million_output_tokens", "joules_per_token", "weights_bytes_per_gpu", "kv_budget_bytes_per_gpu",
    "overhead_bytes_per_gpu", "kv_bytes_per_token_per_gpu",
)
_INPUT_NUMS = ("input_tokens", "output_tokens", "context_tokens", "qps", "ttft_ms", "tpot_ms", "percentile")


def _is_num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def check_row(row, path, where: str) -> dict:
    """A planner row (recommended / alternatives / feasible entry)."""
    if not isinstance(row, dict):
        raise ConfigError(path, where, "expected an object")
    for k in _STR_FIELDS:
        if not isinstance(row.get(k), str) or not row.get(k):
            raise ConfigError(path, f"{where}.{k}", "missing or not a string")
    for k in _INT_FIELDS:
        v = row.get(k)
        if not _is_int(v) or v < (0 if k == "max_context_tokens" else 1):
            raise ConfigError(path, f"{where}.{k}", f"must be a positive integer, got {v!r}")
    for k in _NUM_FIELDS:
        v = row.get(k)
        if v is not None and not _is_num(v):
            raise ConfigError(path, f"{where}.{k}", f"must be a number or null, got {v!r}")
    for k in ("usd_per_hour", "usd_per_month"):
        if not _is_num(row.get(k)):
            raise ConfigError(path, f"{where}.{k}", "missing or not a number")
    plan_bounds.check_row(row, path, where)
    return row


def check_plan(doc, path="<plan>") -> dict:
    """Validate a plan document (PlanResult.to_json()); returns it unchanged."""
    if not isinstance(doc, dict):
        raise ConfigError(path, "<root>", "expected a JSON object from `moeprof plan --json`")
    inputs = doc.get("inputs")
    if not isinstance(inputs, dict):
        raise ConfigError(path, "inputs", "missing or not an object (is this `moeprof plan --json` output?)")
    if not isinstance(inputs.get("model"), str) or not inputs.get("model"):
        raise ConfigError(path, "inputs.model", "missing or not a string")
    for k in _INPUT_NUMS:
        v = inputs.get(k)
        if not _is_num(v) or v <= 0:
            raise ConfigError(path, f"inputs.{k}", f"must be a positive number, got {v!r}")
    plan_bounds.check_inputs(inputs, path)
    if "recommended" not in doc:
        raise ConfigError(path, "recommended", "missing (null when nothing met the targets)")
    if doc["recommended"] is not None:
        check_row(doc["recommended"], path, "recommended")
    for key in ("alternatives", "feasible", "closest"):
        rows = doc.get(key)
        if rows is None:
            continue
        if not isinstance(rows, list):
            raise ConfigError(path, key, "must be a list")
        for i, r in enumerate(rows):
            check_row(r, path, f"{key}[{i}]")
    rejected = doc.get("rejected", [])
    if not isinstance(rejected, list):
        raise ConfigError(path, "rejected", "must be a list")
    for i, r in enumerate(rejected):
        if not isinstance(r, dict) or not isinstance(r.get("reason"), str) or not isinstance(r.get("sku"), str):
            raise ConfigError(path, f"rejected[{i}]", "expected an object with 'sku' and 'reason' strings")
    for key, typ in (("rejected_counts", dict), ("sources", dict), ("warnings", list)):
        if key in doc and doc[key] is not None and not isinstance(doc[key], typ):
            raise ConfigError(path, key, f"must be {'an object' if typ is dict else 'a list'}")
    plan_bounds.check_extras(doc, path)
    return doc


def read_json(path) -> dict:
    return read_json_file(Path(path), "JSON file")


def load_plan(path) -> dict:
    return check_plan(read_json(path), path)


def is_profile(doc) -> bool:
    return isinstance(doc, dict) and doc.get("schema") == "moeprof.profile"


def is_plan(doc) -> bool:
    return isinstance(doc, dict) and "inputs" in doc and "recommended" in doc
