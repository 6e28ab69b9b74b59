"""Step energy: from a profile's energy scalars when present, else a TDP-based datasheet model.

Profile:    E = idle_power_w x GPUs x t + joules_per_flop x FLOPs + joules_per_byte x HBM bytes
Datasheet:  E = idle x GPUs x t + (TDP - idle) x busy_fraction x (GPU-seconds running kernels)
            idle = idle_power_fraction_of_tdp x TDP; both fractions are stated assumptions in
            moeprof/data/efficiency.json (busy at TDP is an upper bound for memory-bound decode).
"""

from __future__ import annotations

import numpy as np

from ..catalog.hardware.vms import GpuSpec
from ..profile import Profile
from .efficiency import load_efficiencies


def idle_power_w(gpu: GpuSpec, profile: Profile | None = None) -> float:
    """Board power of one idle GPU (W): the profile's idle_power_w, else the assumed TDP fraction."""
    if profile is not None and "idle_power_w" in profile.scalars:
        return float(profile.scalars["idle_power_w"])
    return load_efficiencies(gpu.key).idle_power_fraction_of_tdp * gpu.tdp_w


def time_scaled_energy_j(energy_j, idle_w: float, gpus, total_s, scale: float) -> np.ndarray:
    """A step's energy when a serving calibration stretches its modelled time `total_s` by `scale`:
    the GPUs draw idle power through the added time (idle_w x GPUs x total_s x (scale - 1)); the
    kernel energy (FLOPs and bytes moved, or busy GPU-seconds) is the same work and stays."""
    return np.asarray(energy_j, dtype=float) + idle_w * np.asarray(gpus, dtype=float) * np.asarray(total_s, dtype=float) * (scale - 1.0)


def step_energy_j(gpu: GpuSpec, profile: Profile | None, total_s, gpus, active_gpu_s, flops, hbm_bytes) -> tuple[np.ndarray, str]:
    """Energy (J) of one step on `gpus` GPUs lasting total_s, with active_gpu_s GPU-seconds of
    kernels, `flops` FLOPs and `hbm_bytes` bytes moved (all summed over the GPUs)."""
    eff = load_efficiencies(gpu.key)
    sc = profile.scalars if profile is not None else {}
    idle_w = idle_power_w(gpu, profile)
    if "joules_per_flop" in sc and "joules_per_byte" in sc:
        e = idle_w * gpus * total_s + sc["joules_per_flop"] * flops + sc["joules_per_byte"] * hbm_bytes
        return e, "profile: idle_power_w x GPUs x time + joules_per_flop x FLOPs + joules_per_byte x HBM bytes"
    busy_w = max(gpu.tdp_w - idle_w, 0.0) * eff.busy_power_fraction_of_tdp
    e = idle_w * gpus * total_s + busy_w * active_gpu_s
    return e, (
        f"datasheet: idle {idle_w:.0f} W x GPUs x time + (TDP {gpu.tdp_w:.0f} W - idle) x "
        f"{eff.busy_power_fraction_of_tdp:g} x GPU-seconds running kernels (assumptions in moeprof/data/efficiency.json)"
    )
