"""Serving calibration (moeprof/data/serving_calibration.json): per GPU, how the engine's steps
compare with the performance model's kernels, fitted on published serving runs.

    step_time_scale           the engine's step GPU time / the model's (kernels at the engine's
                              rates: fusion, launch gaps, library maturity)
    host_overhead_s_per_step  host time per step the GPU waits for (scheduling, sampling)
    prefill_time_scale        the prompt work's GPU time (token-proportional work and prompt
                              attention) relative to the decode step's, on top of step_time_scale;
                              1 in the shipped file, fitted by `moeprof calibrate` where the runs
                              pin it down

Fitted by scripts/fit_serving.py on the records of moeprof/data/benchmarks whose split is "fit"
(Llama family); the file keeps what it was fitted on and the residuals. A GPU without an entry
uses scale 1 and the engine's host time (moeprof/data/engine.json). A profile may carry its own
serving calibration (catalog.serving_section), which wins over this file for its GPU.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from .values import data_path, read_data_json, sourced

NAME = "serving_calibration.json"


@dataclass(frozen=True)
class ServingCalibration:
    gpu: str
    step_time_scale: float
    host_overhead_s_per_step: float | None  # None: the engine's
    source: str
    prefill_time_scale: float = 1.0
    error_band: object = field(default=None, compare=False)  # catalog.error_band.ErrorBand or None
    section: dict | None = field(default=None, compare=False)  # the profile section it was read from


@lru_cache(maxsize=1)
def _load() -> dict:
    try:
        return read_data_json(NAME)
    except FileNotFoundError:
        return {}


def serving_calibration(gpu_key: str) -> ServingCalibration:
    d = _load().get("gpus", {}).get(gpu_key)
    if not d:
        return ServingCalibration(gpu_key, 1.0, None, "not calibrated: the performance model's step times as they are")
    path = data_path(NAME)
    scale, src, _ = sourced(d.get("step_time_scale"), path, f"gpus.{gpu_key}.step_time_scale")
    host, _, _ = sourced(d.get("host_overhead_s_per_step"), path, f"gpus.{gpu_key}.host_overhead_s_per_step", positive=False)
    return ServingCalibration(gpu_key, float(scale), float(host), src)
