"""The one choice of a deployment's serving calibration: the one given (`calibrate` output or a
test's), else the profile's own section (written by `moeprof calibrate`), else the shipped
calibration of the GPU for the engine (moeprof/data/serving_calibration.json)."""

from __future__ import annotations

from ..catalog.calibration.serving import ServingCalibration, serving_calibration


def choose_calibration(gpu_key: str, engine: str, profile=None, calibration: ServingCalibration | None = None,
                       engine_version: str | None = None) -> ServingCalibration:
    """`engine_version`: the shipped calibration's entry of that version of the engine on the GPU, else the nearest it has."""
    return calibration or getattr(profile, "serving_calibration", None) or serving_calibration(gpu_key, engine, engine_version)
