"""The serving-calibration section of a GPU profile (written by `moeprof calibrate`): the
parameters of catalog.calibration fitted on serving benchmark results, what they were fitted on,
and the leave-one-out residual band. Where a profile carries it, it wins over
moeprof/data/serving_calibration.json for that GPU (deployment.steps).

    "serving_calibration": {
      "gpu": "h200-sxm-141gb",
      "parameters": {"step_time_scale": {"value": 1.21, "std_error": 0.02, "fitted": true},
                     "host_overhead_s_per_step": {...}, "prefill_time_scale": {...}},
      "fitted_on": {"files": [...], "records": 60, "observations": 150, "models": [...],
                    "engines": [...], "splits": [...]},
      "fit": {"method": "...", "in_sample_median_abs_error_pct": {...},
              "loo_median_abs_error_pct": {...}},
      "error_band": {... catalog.calibration.error_band format, leave-one-out residuals ...},
      "date": "2026-11-30",
      "source": "one line: fitted by moeprof calibrate on ..."
    }
"""

from __future__ import annotations

import math

from ...errors import ConfigError
from . import error_band
from .serving import ServingCalibration

KEY = "serving_calibration"
# parameter -> (lowest, highest) value a calibration may hold: a step 20x faster or slower than
# the performance model's, or a second of host time per step, is a broken fit, not a GPU
BOUNDS = {
    "step_time_scale": (0.05, 20.0),
    "host_overhead_s_per_step": (0.0, 1.0),
    "prefill_time_scale": (0.05, 20.0),
}
REQUIRED = ("step_time_scale", "host_overhead_s_per_step")


def _value(params: dict, name: str, path) -> float | None:
    p = params.get(name)
    if p is None:
        if name in REQUIRED:
            raise ConfigError(path, f"{KEY}.parameters.{name}", "missing")
        return None
    v = p.get("value") if isinstance(p, dict) else None
    lo, hi = BOUNDS[name]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not lo <= v <= hi:
        raise ConfigError(path, f"{KEY}.parameters.{name}.value", f"expected a number in [{lo:g}, {hi:g}], got {str(v)[:40]!r}")
    return float(v)


def parse(section, gpu: str, path="<profile>") -> ServingCalibration:
    """A ServingCalibration from a profile's section; errors name the file and the field."""
    if not isinstance(section, dict):
        raise ConfigError(path, KEY, "expected a JSON object")
    if section.get("gpu") != gpu:
        raise ConfigError(path, f"{KEY}.gpu", f"expected the profile's GPU {gpu!r}, got {str(section.get('gpu'))[:40]!r}")
    params = section.get("parameters")
    if not isinstance(params, dict):
        raise ConfigError(path, f"{KEY}.parameters", "expected a JSON object")
    unknown = sorted(set(params) - set(BOUNDS))
    if unknown:
        raise ConfigError(path, f"{KEY}.parameters.{unknown[0][:40]}", f"unknown parameter (known: {', '.join(BOUNDS)})")
    scale = _value(params, "step_time_scale", path)
    host = _value(params, "host_overhead_s_per_step", path)
    prefill = _value(params, "prefill_time_scale", path)
    try:
        band = error_band.from_json(section.get("error_band"))
    except ValueError as e:
        raise ConfigError(path, f"{KEY}.error_band", str(e)) from None
    source = section.get("source")
    if not isinstance(source, str) or not source:
        raise ConfigError(path, f"{KEY}.source", "expected a non-empty string")
    assert scale is not None  # REQUIRED: _value raised on a missing one
    return ServingCalibration(gpu, scale, host, source, 1.0 if prefill is None else prefill, band, dict(section))


def to_json(cal: ServingCalibration) -> dict:
    """The stored section (the one it was read from, or the bare parameters)."""
    if cal.section is not None:
        return dict(cal.section)
    params = {"step_time_scale": {"value": cal.step_time_scale},
              "host_overhead_s_per_step": {"value": cal.host_overhead_s_per_step or 0.0},
              "prefill_time_scale": {"value": cal.prefill_time_scale}}
    out = {"gpu": cal.gpu, "parameters": params, "source": cal.source}
    if cal.error_band is not None and (cal.error_band.quantified or cal.error_band.source != error_band.NOT_QUANTIFIED.source):
        out["error_band"] = cal.error_band.to_json()
    return out
