"""Serving calibration (moeprof/data/serving_calibration.json): how the engine's steps compare with
the performance model's kernels, fitted on published serving runs.

    gpus.<gpu>.versions.<engine> <version>  a floor + slope per (engine version, GPU) where the fit split
                                            pins both: step = step_floor_s + step_time_scale x the
                                            model's step (the floor takes the host time's place; it is
                                            fitted once per vendor and engine version, shared by the
                                            vendor's GPUs)
    gpus.<gpu>.step_time_scale              the engine's step GPU time / the model's (kernels at the
                                            engine's rates: fusion, launch gaps, library maturity)
    engines.<engine>.host_overhead_s_per_step
                                            host time per step the GPU waits for (scheduling,
                                            sampling): a property of the engine's scheduler, so
                                            one value per engine, fitted over every GPU's runs
    prefill_time_scale                      the prompt work's GPU time (token-proportional work and
                                            prompt attention) relative to the decode step's, on top
                                            of step_time_scale; 1 in the shipped file, fitted by
                                            `moeprof calibrate` where the runs pin it down

Fitted by scripts/fit_serving.py on the records of moeprof/data/benchmarks whose split is "fit"
(Llama family); the file keeps what it was fitted on and the residuals. A GPU without an entry
uses scale 1; an engine without an entry uses its own host time (moeprof/data/engine.json, or
engine_for's). A profile may carry its own serving calibration (catalog.calibration.serving_section),
which wins over this file for its GPU.

Each GPU's "error_band" (catalog.calibration.error_band) is the spread of the residuals of that calibration on
published runs, written by scripts/error_bands.py; "vendor_error_band" pools a vendor's GPUs for
a GPU without runs of its own. `error_band_for` is the one lookup: a profile's own band first.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache

from ...errors import ConfigError
from ..serving_path import parse_version
from ..values import data_path, read_data_json, sourced
from . import error_band as eb

NAME = "serving_calibration.json"


@dataclass(frozen=True)
class ServingCalibration:
    gpu: str
    step_time_scale: float
    host_overhead_s_per_step: float | None  # None: the engine's
    source: str
    prefill_time_scale: float = 1.0
    error_band: eb.ErrorBand | None = field(default=None, compare=False)
    section: dict | None = field(default=None, compare=False)  # the profile section it was read from
    version: str = ""  # "vllm 0.10.1": the engine version of a per-version floor + slope; "" for the GPU's one scale


@lru_cache(maxsize=1)
def _load() -> dict:
    try:
        return read_data_json(NAME)
    except FileNotFoundError:
        return {}


def engine_host_s(engine: str, doc: dict | None = None) -> tuple[float | None, str]:
    """(fitted host time per step of `engine`, its source), or (None, why) when not fitted; `doc`: a
    calibration document of the file's shape instead of the shipped file (a refit's)."""
    d = (_load() if doc is None else doc).get("engines", {}).get(engine)
    if not d:
        return None, f"engine {engine}: not fitted (the engine's own host time)"
    host, src, _ = sourced(d.get("host_overhead_s_per_step"), data_path(NAME), f"engines.{engine}.host_overhead_s_per_step",
                           positive=False)
    return float(host), src


def _version_entry(d: dict, gpu_key: str, engine: str, version: str | None):
    """(key, entry) of the GPU's per-version calibration of `engine` closest to `version` (the
    same version, else the nearest release), or None where the GPU has none for the engine."""
    vers = {k: v for k, v in (d.get("versions") or {}).items() if k.split(" ")[0] == engine}
    if not vers:
        return None
    want = parse_version(version) if version else None

    def distance(key: str):
        v = parse_version(key.split(" ", 1)[-1]) or (0,)
        return (0,) if want is None else tuple(abs(a - b) for a, b in zip(v + (0,) * 4, want + (0,) * 4))

    key = min(vers, key=lambda k: (distance(k), [-x for x in (parse_version(k.split(" ", 1)[-1]) or (0,))]))
    return key, vers[key]


def serving_calibration(gpu_key: str, engine: str = "vllm", version: str | None = None,
                        doc: dict | None = None) -> ServingCalibration:
    """The GPU's calibration for `engine`: its per-version floor + slope (gpus.<gpu>.versions, the
    entry of `version` or the nearest one) where the fit split pins one, else the GPU's step_time_scale
    with the engine's host time. `doc`: a calibration document of the file's shape instead of the
    shipped file (scripts/bench_accuracy.py's refit without one source)."""
    host, _ = engine_host_s(engine, doc)
    d = (_load() if doc is None else doc).get("gpus", {}).get(gpu_key)
    if not d:
        return ServingCalibration(gpu_key, 1.0, host, "not calibrated: the performance model's step times as they are")
    picked = _version_entry(d, gpu_key, engine, version)
    if picked is not None:
        key, e = picked
        where = f"gpus.{gpu_key}.versions.{key}"
        scale, src, _ = sourced(e.get("step_time_scale"), data_path(NAME), f"{where}.step_time_scale")
        floor, _, _ = sourced(e.get("step_floor_s"), data_path(NAME), f"{where}.step_floor_s", positive=False)
        asked = f"{engine} {version}" if version else f"{engine} (no version given)"
        note = "" if key == asked else f" (for {asked}: the nearest calibrated version)"
        return ServingCalibration(gpu_key, float(scale), float(floor), f"{key}{note}: {src}", version=key)
    scale, src, _ = sourced(d.get("step_time_scale"), data_path(NAME), f"gpus.{gpu_key}.step_time_scale")
    return ServingCalibration(gpu_key, float(scale), host, src)


def catalog_error_band(gpu_key: str, vendor: str = "") -> eb.ErrorBand:
    """The shipped band of a GPU; else its vendor's pooled band (labelled so); else a band that
    says it is not quantified and why."""
    d = _load()
    try:
        own = eb.from_json((d.get("gpus", {}).get(gpu_key) or {}).get("error_band"))
        if own.quantified:
            return own
        pooled = eb.from_json((d.get("vendor_error_band") or {}).get(vendor))
    except ValueError as e:
        raise ConfigError(data_path(NAME), f"gpus.{gpu_key}.error_band", str(e)) from None
    if pooled.quantified:
        return replace(pooled, source=f"no published runs on {gpu_key}: the pooled band of its vendor ({vendor}): {pooled.source}")
    return replace(eb.NOT_QUANTIFIED, source=f"not quantified: no published serving runs on {gpu_key} or other {vendor or 'same-vendor'} GPUs")


def error_band_for(gpu_key: str, vendor: str = "", profile=None) -> eb.ErrorBand:
    """The error band of predictions for a GPU: the profile's own (its serving calibration's
    "error_band", from `moeprof calibrate`) when it has one, else the catalog's."""
    own = getattr(getattr(profile, "serving_calibration", None), "error_band", None)
    if own is not None and (own.quantified or own.source != eb.NOT_QUANTIFIED.source):
        return own  # the profile's calibration's own band, even one it could not quantify: never another's
    return catalog_error_band(gpu_key, vendor)
