"""Bounds on a saved plan (`moeprof plan --json`), checked when `report` or `export` reads one.

A plan is bounded by what a plan can hold: at most MAX_VMS VMs of at most 16 GPUs, a layout
that fits its GPUs, the planner's batch sizes. Anything else was edited by hand (or forged):
refused with one line naming the field, never exported as is (an export of tp 10^18 or
10^9 replicas would be nonsense, or unbounded work).
"""

from __future__ import annotations

from ...catalog.bounds import MAX_USD_PER_HOUR, VM_BOUNDS
from ...errors import ConfigError
from ...inputs import require_ident, require_int, require_model_id, require_number

MAX_VMS = 64  # the most VMs one plan may use (`plan --max-vms`)
MAX_GPUS = MAX_VMS * int(VM_BOUNDS["gpus_per_vm"][1])
MAX_USD_PER_MONTH = MAX_USD_PER_HOUR * MAX_VMS * 750  # a plan's VMs at the highest price, a month of hours
MAX_BATCH = 65536  # the planner tries batches up to 1,024 sequences
MAX_TOKENS = 2**31  # the CLI's bound on --context / --input-tokens / --output-tokens
MAX_PATH_CHARS = 4096

INPUT_BOUNDS = {
    "input_tokens": (1, MAX_TOKENS, "the CLI's bound"),
    "output_tokens": (1, MAX_TOKENS, "the CLI's bound"),
    "context_tokens": (1, MAX_TOKENS, "the CLI's bound"),
    "qps": (0, 1e6, "the CLI's bound"),
    "ttft_ms": (0, 1e7, "the CLI's bound"),
    "tpot_ms": (0, 1e7, "the CLI's bound"),
    "percentile": (50, 99.99, "the CLI's bound"),
}


def check_inputs(inputs: dict, path) -> None:
    ref = inputs.get("model")
    require_ident(ref, path, "inputs.model", MAX_PATH_CHARS)
    for key in ("model_name", "hf_id"):
        if inputs.get(key) is not None:
            require_ident(inputs[key], path, f"inputs.{key}")
    if inputs.get("hf_id") is not None:
        require_model_id(inputs["hf_id"], path, "inputs.hf_id")
    for key, (lo, hi, why) in INPUT_BOUNDS.items():
        require_number(inputs.get(key), path, f"inputs.{key}", lo, hi, why, lo_open=(lo == 0))
    if inputs.get("max_vms") is not None:
        require_int(inputs["max_vms"], path, "inputs.max_vms", 1, MAX_VMS, f"a plan uses at most {MAX_VMS} VMs")


def check_row(row: dict, path, where: str) -> None:
    """Bounds and consistency of one planner row (types are checked by the caller)."""
    for key in ("sku", "gpu", "quant", "kv_dtype"):
        require_ident(row[key], path, f"{where}.{key}")
    require_int(row["vms"], path, f"{where}.vms", 1, MAX_VMS, f"a plan uses at most {MAX_VMS} VMs")
    gpus = require_int(row["gpus"], path, f"{where}.gpus", 1, MAX_GPUS, f"{MAX_VMS} VMs of at most 16 GPUs")
    for key in ("tp", "ep", "pp", "replicas"):
        require_int(row[key], path, f"{where}.{key}", 1, gpus, f"at most the plan's {gpus} GPUs")
    if max(row["tp"], row["ep"]) * row["pp"] * row["replicas"] > gpus:
        raise ConfigError(path, where, f"{row['replicas']} replicas of TP {row['tp']} (EP {row['ep']}) x PP {row['pp']} need more "
                          f"than the plan's {gpus} GPUs")
    for key, whole in (("unit_vms", "vms"), ("unit_replicas", "replicas")):
        if row.get(key) is not None:
            require_int(row[key], path, f"{where}.{key}", 1, row[whole], f"at most the plan's {row[whole]} {whole}")
    require_int(row["max_batch"], path, f"{where}.max_batch", 1, MAX_BATCH, "sequences one replica batches")
    require_int(row["max_context_tokens"], path, f"{where}.max_context_tokens", 0, 2**40, "tokens")
    require_number(row["usd_per_hour"], path, f"{where}.usd_per_hour", 0, MAX_USD_PER_HOUR * MAX_VMS, "VM prices are at most $1e6/h", lo_open=True)
    require_number(row["usd_per_month"], path, f"{where}.usd_per_month", 0, MAX_USD_PER_MONTH, "VM prices are at most $1e6/h", lo_open=True)


def check_extras(doc: dict, path) -> None:
    n = doc.get("configs_evaluated")
    if n is not None:
        require_int(n, path, "configs_evaluated", 0, 10**12)
    sources = doc.get("sources") or {}
    for key, v in sources.items():
        if isinstance(v, dict):
            for f in ("price", "performance"):
                if f in v and not isinstance(v[f], str):
                    raise ConfigError(path, f"sources.{key}.{f}", "expected a string (the source of the value)")
        elif key == "model" and not isinstance(v, list):
            raise ConfigError(path, "sources.model", "expected a list of sources")
