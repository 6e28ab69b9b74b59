"""Hardware catalog: GPUs and Azure VM SKUs from data files (moeprof/data/gpus.json, vms.json).

Every numeric field in the files is {"value": ..., "source": ...}; the loaders keep the value
in base units and the source beside it (`sources[field]`). Users add or override VMs and
prices with their own JSON file (same layout, merged over the built-in one) or with
`--price-per-hour SKU=USD`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from pathlib import Path

from ...errors import ConfigError, MoeprofError, UnknownNameError
from ...inputs import parse_json_text, read_json_file, require_ident
from .. import bounds
from .price import Price
from .prices import price_table
from .vm_regions import price_builtins


@dataclass(frozen=True)
class GpuSpec:
    key: str
    name: str
    vendor: str  # nvidia | amd
    arch: str
    memory_bytes: float
    usable_memory_bytes: float
    hbm_bytes_per_s: float
    bf16_flop_per_s: float
    fp8_flop_per_s: float
    tdp_w: float
    scale_up: str
    scale_up_bytes_per_s: float  # per direction, per GPU
    supports_fp8: bool
    sources: dict = field(default_factory=dict, compare=False)
    uncertain: tuple[str, ...] = ()

    def flop_per_s(self, dtype: str) -> float:
        return self.fp8_flop_per_s if dtype == "fp8" else self.bf16_flop_per_s


@dataclass(frozen=True)
class VmSpec:
    key: str
    azure_name: str
    gpu: GpuSpec
    gpus_per_vm: int
    vcpus: int
    ram_bytes: float
    scale_out_bytes_per_s_per_gpu: float  # InfiniBand, per direction, per GPU
    price: Price
    allreduce_curve: dict | None = None  # {"x": message bytes, "y": bus bytes/s, "source"}
    sources: dict = field(default_factory=dict, compare=False)


_GPU_FIELDS = {
    "memory_bytes": float,
    "usable_memory_bytes": float,
    "hbm_bytes_per_s": float,
    "bf16_flop_per_s": float,
    "fp8_flop_per_s": float,
    "tdp_w": float,
    "scale_up": str,
    "scale_up_bytes_per_s": float,
    "supports_fp8": bool,
}
_VM_FIELDS = {
    "gpus_per_vm": int,
    "vcpus": int,
    "ram_bytes": float,
    "scale_out_bytes_per_s_per_gpu": float,
}


def _valued(entry: dict, key: str, typ, path, where: str):
    raw = entry.get(key)
    if raw is None:
        raise ConfigError(path, f"{where}.{key}", "missing")
    value, source, uncertain = raw, "", False
    if isinstance(raw, dict):
        if "value" not in raw:
            raise ConfigError(path, f"{where}.{key}.value", "missing")
        value, source, uncertain = raw["value"], str(raw.get("source", "")), bool(raw.get("uncertain"))
    if typ is bool:
        if not isinstance(value, bool):
            raise ConfigError(path, f"{where}.{key}", f"expected true/false, got {value!r}")
    elif typ is str:
        if not isinstance(value, str):
            raise ConfigError(path, f"{where}.{key}", f"expected a string, got {value!r}")
    else:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
            raise ConfigError(path, f"{where}.{key}", f"expected a positive number, got {value!r}")
        if typ is int and value != int(value):
            raise ConfigError(path, f"{where}.{key}", f"expected an integer, got {value!r}")
        value = typ(value)
    return value, source, uncertain


def _read_json(path_or_traversable, label) -> dict:
    if isinstance(path_or_traversable, Path):  # a user's file: regular, bounded, UTF-8
        d = read_json_file(path_or_traversable, "VM file")
    else:
        d = parse_json_text(path_or_traversable.read_text(encoding="utf-8"), label)
    if not isinstance(d, dict):
        raise ConfigError(label, "<root>", "expected a JSON object")
    return d


def parse_gpus(d: dict, path) -> dict[str, GpuSpec]:
    out = {}
    for key, e in d.items():
        if key.startswith("_"):
            continue
        key = bounds.check_key(key, path)
        if not isinstance(e, dict):
            raise ConfigError(path, key, "expected an object")
        vals, sources, uncertain = {}, {}, []
        for f, typ in _GPU_FIELDS.items():
            vals[f], sources[f], unc = _valued(e, f, typ, path, key)
            bounds.check_gpu_value(f, vals[f], path, key)
            if unc:
                uncertain.append(f)
        if vals["usable_memory_bytes"] > vals["memory_bytes"] * 1.1:
            raise ConfigError(path, f"{key}.usable_memory_bytes", "more than the GPU's memory_bytes")
        for f in ("name", "vendor", "arch"):
            if e.get(f) is not None:
                require_ident(e[f], path, f"{key}.{f}")
        out[key] = GpuSpec(
            key=key,
            name=str(e.get("name", key)),
            vendor=str(e.get("vendor", "")),
            arch=str(e.get("arch", "")),
            sources=sources,
            uncertain=tuple(uncertain),
            **vals,
        )
    return out


def _parse_price(e, path, where) -> Price:
    p = e.get("price")
    if not isinstance(p, dict):
        raise ConfigError(path, f"{where}.price", "missing or not an object")
    usd = bounds.check_price(p.get("usd_per_hour"), path, f"{where}.price.usd_per_hour")
    estimate = p.get("estimate", False)
    if not isinstance(estimate, bool):
        raise ConfigError(path, f"{where}.price.estimate", "expected true/false")
    if not estimate and not p.get("source"):
        raise ConfigError(path, f"{where}.price.source", "a price that is not an estimate needs a source")
    return Price(float(usd), str(p.get("region", "unknown")), str(p.get("date", "unknown")), estimate, str(p.get("source", "")))


def parse_vms(d: dict, gpus: dict[str, GpuSpec], path, base: dict[str, VmSpec] | None = None) -> dict[str, VmSpec]:
    """Parse VM entries; with `base`, an entry may give only some fields (e.g. a price) for a known SKU."""
    out = dict(base or {})
    for key, e in d.items():
        if key.startswith("_"):
            continue
        key = bounds.check_key(key, path)
        if not isinstance(e, dict):
            raise ConfigError(path, key, "expected an object")
        if key in out and set(e) <= {"price"}:
            out[key] = replace(out[key], price=_parse_price(e, path, key))
            continue
        gpu_key = e.get("gpu")
        gpu_key = gpu_key.lower() if isinstance(gpu_key, str) else gpu_key
        if not isinstance(gpu_key, str) or gpu_key not in gpus:
            raise ConfigError(path, f"{key}.gpu", f"unknown GPU {gpu_key!r} (known: {', '.join(sorted(gpus))})")
        vals, sources = {}, {}
        for f, typ in _VM_FIELDS.items():
            vals[f], sources[f], _ = _valued(e, f, typ, path, key)
            bounds.check_vm_value(f, vals[f], path, key)
        curve = bounds.check_curve(e.get("allreduce_bus_bytes_per_s"), path, f"{key}.allreduce_bus_bytes_per_s")
        if e.get("azure_name") is not None:
            require_ident(e["azure_name"], path, f"{key}.azure_name")
        out[key] = VmSpec(
            key=key,
            azure_name=str(e.get("azure_name", key)),
            gpu=gpus[gpu_key],
            price=_parse_price(e, path, key),
            allreduce_curve=curve,
            sources=sources,
            **vals,
        )
    return out


def _data(name):
    return resources.files("moeprof") / "data" / name


# gpus.json and vms.json are package data: parsed once per process into frozen specs (a user's
# --vm-file is read on every call).
@cache
def _shipped_gpus() -> dict[str, GpuSpec]:
    return parse_gpus(_read_json(_data("gpus.json"), "moeprof/data/gpus.json"), "moeprof/data/gpus.json")


@cache
def _shipped_vms() -> dict[str, VmSpec]:
    return parse_vms(_read_json(_data("vms.json"), "moeprof/data/vms.json"), _shipped_gpus(), "moeprof/data/vms.json")


def load_gpus() -> dict[str, GpuSpec]:
    return dict(_shipped_gpus())


def load_vms(vm_file: str | None = None, prices: dict[str, float] | None = None, pricing: str = "payg",
             region: str | None = None, skus=None, table: dict | None = None) -> dict[str, VmSpec]:
    """The VMs of load_priced_vms; a built-in VM with no price in the region is left out."""
    return load_priced_vms(vm_file, prices, pricing, region, skus, table)[0]


def load_priced_vms(vm_file: str | None = None, prices: dict[str, float] | None = None, pricing: str = "payg",
                    region: str | None = None, skus=None, table: dict | None = None):
    """Built-in VMs priced from the dated price list in one region (catalog.vm_regions: `region`, else
    the cheapest region selling the most of them; only the SKUs in `skus` when given), then
    `vm_file` merged over them, then `prices` ({sku: usd_per_hour}) applied. Returns (VMs, the
    RegionChoice): a built-in VM no price covers is left out and named in RegionChoice.unpriced.
    `table`: a price file's {SKU: {kind: [entry, ...]}} (`--price-file`, from `moeprof prices import`)
    instead of the shipped list."""
    gpus = load_gpus()
    vms = dict(_shipped_vms())
    overridden = {k.strip().lower() for k in (prices or {})}
    keys = [k for k in vms if k not in overridden and (skus is None or k in skus)]
    vms, choice = price_builtins(vms, price_table() if table is None else table, pricing, region, keys)
    if vm_file:
        user = _read_json(Path(vm_file), vm_file)
        if isinstance(user.get("gpus"), dict):
            gpus = {**gpus, **parse_gpus(user["gpus"], vm_file)}
        vm_entries = user.get("vms", {k: v for k, v in user.items() if k != "gpus"})
        if not isinstance(vm_entries, dict):
            raise ConfigError(vm_file, "vms", "expected an object of VM entries")
        vms = parse_vms(vm_entries, gpus, vm_file, base=vms)
        overridden |= {k.strip().lower() for k, e in vm_entries.items() if isinstance(e, dict) and "price" in e}
    for sku, usd in (prices or {}).items():
        sku = sku.strip().lower()
        if sku not in vms:
            raise UnknownNameError("VM SKU", sku, vms)
        if not (isinstance(usd, (int, float)) and math.isfinite(usd) and 0 < usd <= bounds.MAX_USD_PER_HOUR):
            raise MoeprofError(f"--price-per-hour {sku}: must be a positive number of USD per hour up to {bounds.MAX_USD_PER_HOUR:g}, got {usd!r}")
        vms[sku] = replace(
            vms[sku], price=Price(float(usd), "user", "user", False, "user-supplied --price-per-hour")
        )
    unpriced = {k: why for k, why in choice.unpriced.items() if k not in overridden}
    for k in unpriced:
        del vms[k]
    return vms, replace(choice, unpriced=unpriced)


def get_vm(key: str, vms: dict[str, VmSpec] | None = None) -> VmSpec:
    vms = vms if vms is not None else load_vms()
    k = key.strip().lower()
    if k in vms:
        return vms[k]
    by_azure = {v.azure_name.lower(): v for v in vms.values()}
    if k in by_azure:
        return by_azure[k]
    raise UnknownNameError("VM SKU", key, vms)


def get_gpu(key: str) -> GpuSpec:
    gpus = load_gpus()
    k = key.strip().lower()
    if k in gpus:
        return gpus[k]
    aliases = {g.split("-")[0]: g for g in gpus}  # h100, h200, mi300x, mi325x
    if k in aliases:
        return gpus[aliases[k]]
    raise UnknownNameError("GPU", key, list(gpus) + list(aliases))
