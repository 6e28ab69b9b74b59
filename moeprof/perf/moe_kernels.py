"""Fused MoE kernels an engine can be told to run, by their measured compute rate at many tokens
per expert (moeprof/data/moe_kernel_rates.json, written by scripts/make_moe_kernel_rates.py).

Where a run selects a kernel that no kernel table times at the model's shape (vLLM's Marlin MoE for
MXFP4 experts, `VLLM_MXFP4_USE_MARLIN=1`), the routed experts' compute runs at most at this rate:
interpolated log-linearly in tokens per expert and clamped at both ends (below the first point, the
first point's rate: the kernel's time there is set by its weight reads, which the roofline already
counts), at the listed expert TP nearest at or above the layout's (the rate falls as experts are
split thinner), else the largest listed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from ..errors import ConfigError

_PATH = "moeprof/data/moe_kernel_rates.json"
# the kernels MXFP4 experts can be told to run ("": the engine's default) -> their entry in the data file
MXFP4_KERNELS = {"": None, "marlin": "marlin_mxfp4"}


@dataclass(frozen=True)
class MoeKernelRate:
    kernel: str
    tokens_per_expert: tuple[float, ...]
    expert_tp: tuple[int, ...]
    flop_per_s: tuple[tuple[float, ...], ...]  # [expert_tp][tokens_per_expert]
    source: str

    def rate(self, tokens_per_expert, shards) -> np.ndarray:
        """FLOP/s at these tokens per expert (arrays broadcast) with experts split over `shards` GPUs."""
        m = np.asarray(tokens_per_expert, dtype=float)
        s = np.asarray(shards, dtype=float) * np.ones_like(m)
        tps = np.asarray(self.expert_tp, dtype=float)
        row = np.minimum(np.searchsorted(tps, s, side="left"), len(tps) - 1)
        x = np.log(np.asarray(self.tokens_per_expert))
        lm = np.log(np.maximum(m, 1e-12))
        out = np.empty_like(m)
        for i in range(len(tps)):
            sel = row == i
            if np.any(sel):
                out[sel] = np.interp(lm[sel], x, np.asarray(self.flop_per_s[i]))
        return out


@lru_cache(maxsize=1)
def _raw() -> dict:
    return json.loads((resources.files("moeprof") / "data" / "moe_kernel_rates.json").read_text())


def moe_kernel_rate(kernel: str, gpu_key: str) -> MoeKernelRate | None:
    """The kernel's measured rates on this GPU, or None where it has none."""
    k = _raw().get("kernels", {}).get(kernel)
    e = (k or {}).get("gpus", {}).get(gpu_key)
    if e is None:
        return None
    where = f"kernels.{kernel}.gpus.{gpu_key}"
    try:
        tpe = tuple(float(v) for v in e["tokens_per_expert"])
        tps = tuple(int(v) for v in e["expert_tp"])
        grid = tuple(tuple(float(v) for v in row) for row in e["flop_per_s"])
    except (KeyError, TypeError, ValueError):
        raise ConfigError(_PATH, where, "expected tokens_per_expert, expert_tp and a flop_per_s row per expert TP") from None
    if (not tpe or any(b <= a for a, b in zip(tpe, tpe[1:])) or min(tpe) <= 0 or not tps or any(b <= a for a, b in zip(tps, tps[1:]))
            or len(grid) != len(tps) or any(len(r) != len(tpe) for r in grid)
            or not all(1e12 <= v <= 1e17 for r in grid for v in r)):
        raise ConfigError(_PATH, where, "tokens_per_expert and expert_tp must increase, with a rate in FLOP/s (1e12-1e17) per cell")
    return MoeKernelRate(kernel, tpe, tps, grid, f"{kernel}: {k.get('source', '')}; selected by {k.get('selected_by', '')}")


def mxfp4_kernel_rate(kernel: str, gpu_key: str) -> MoeKernelRate | None:
    """The measured rates of the kernel MXFP4 experts were told to run (MXFP4_KERNELS), or None for
    the engine's default kernel or a GPU without measurements."""
    entry = MXFP4_KERNELS[kernel]
    return None if entry is None else moe_kernel_rate(entry, gpu_key)
