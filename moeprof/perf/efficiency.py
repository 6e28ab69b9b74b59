"""Published efficiencies (moeprof/data/efficiency.json): the uncalibrated fallback.

When no measured profile gives a rate, the performance model uses datasheet peak x an achieved
fraction from this file. Each value keeps its source; `uncertain` marks assumptions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from ..errors import ConfigError

_PATH = "moeprof/data/efficiency.json"
GPU_FIELDS = (
    "gemm_bf16_efficiency",
    "gemm_fp8_efficiency",
    "memory_efficiency",
    "attention_prefill_efficiency",
    "attention_decode_efficiency",
    "gemm_tile_m",
    "attention_tile_m",
    "kernel_overhead_s",
)
INTERCONNECT_FIELDS = (
    "collective_latency_s",
    "cross_vm_latency_s",
    "infiniband_efficiency",
    "alltoall_infiniband_efficiency",
    "alltoall_vs_allreduce",
)
ENERGY_FIELDS = ("idle_power_fraction_of_tdp", "busy_power_fraction_of_tdp")


@dataclass(frozen=True)
class Efficiencies:
    """Fractions of datasheet peaks for one GPU (dimensionless unless suffixed)."""

    gpu_key: str
    gemm_bf16_efficiency: float
    gemm_fp8_efficiency: float
    memory_efficiency: float
    attention_prefill_efficiency: float
    attention_decode_efficiency: float
    gemm_tile_m: int
    attention_tile_m: int
    kernel_overhead_s: float
    collective_latency_s: float
    cross_vm_latency_s: float
    infiniband_efficiency: float
    alltoall_infiniband_efficiency: float
    alltoall_vs_allreduce: float
    idle_power_fraction_of_tdp: float
    busy_power_fraction_of_tdp: float
    from_default: bool = False  # the GPU is not listed: every value is an assumption
    sources: dict = field(default_factory=dict, compare=False)
    uncertain: tuple[str, ...] = ()


def _value(entry: dict, key: str, where: str) -> tuple[float, str, bool]:
    raw = entry.get(key)
    if not isinstance(raw, dict) or "value" not in raw:
        raise ConfigError(_PATH, f"{where}.{key}", "missing or not {value, source}")
    v = raw["value"]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0:
        raise ConfigError(_PATH, f"{where}.{key}.value", f"expected a positive number, got {v!r}")
    return float(v), str(raw.get("source", "")), bool(raw.get("uncertain"))


@lru_cache(maxsize=1)
def _raw() -> dict:
    return json.loads((resources.files("moeprof") / "data" / "efficiency.json").read_text())


def load_efficiencies(gpu_key: str) -> Efficiencies:
    """Efficiencies for a GPU key of the catalog; unlisted GPUs get the 'default' block."""
    d = _raw()
    gpus = d.get("gpus", {})
    from_default = gpu_key not in gpus
    block = d["default"] if from_default else gpus[gpu_key]
    where = "default" if from_default else f"gpus.{gpu_key}"
    vals, sources, uncertain = {}, {}, []
    for _name, entry, w, fields in (
        ("gpu", block, where, GPU_FIELDS),
        ("interconnect", d["interconnect"], "interconnect", INTERCONNECT_FIELDS),
        ("energy", d["energy"], "energy", ENERGY_FIELDS),
    ):
        for f in fields:
            vals[f], sources[f], unc = _value(entry, f, w)
            if unc or from_default:
                uncertain.append(f)
    vals["gemm_tile_m"] = int(vals["gemm_tile_m"])
    vals["attention_tile_m"] = int(vals["attention_tile_m"])
    return Efficiencies(
        gpu_key=gpu_key, from_default=from_default, sources=sources, uncertain=tuple(uncertain), **vals
    )
