"""The serving engines' custom all-reduce (moeprof/data/custom_allreduce.json).

vLLM and SGLang reduce tensor-parallel activations up to a size limit with their own one-kernel
all-reduce over peer memory, not with the collective library's ring algorithm, whose small-message
bus bandwidth (all_reduce_perf) is far lower. Per listed GPU: the published time per all-reduce at
8 ranks by message size; measured on a related GPU, the part above the smallest message's time
(the bandwidth part) is scaled by the ratio of link rates. Between points: log-log interpolation;
below the smallest: its time; above the largest: the last segment's bandwidth, up to max_bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from ..errors import ConfigError

_PATH = "moeprof/data/custom_allreduce.json"


@dataclass(frozen=True)
class CustomAllreduce:
    max_bytes: float
    x_bytes: tuple[float, ...]
    t_s: tuple[float, ...]  # on this GPU (link-scaled)
    source: str

    def time_s(self, msg_bytes) -> np.ndarray:
        m = np.asarray(msg_bytes, dtype=float)
        x, t = np.log(self.x_bytes), np.log(self.t_s)
        inside = np.exp(np.interp(np.log(np.maximum(m, 1.0)), x, t))
        slope_s_per_byte = (self.t_s[-1] - self.t_s[-2]) / (self.x_bytes[-1] - self.x_bytes[-2])
        beyond = self.t_s[-1] + (m - self.x_bytes[-1]) * slope_s_per_byte
        return np.where(m > self.x_bytes[-1], beyond, inside)


@lru_cache(maxsize=1)
def _raw() -> dict:
    return json.loads((resources.files("moeprof") / "data" / "custom_allreduce.json").read_text())


def custom_allreduce(gpu_key: str) -> CustomAllreduce | None:
    """The engines' custom all-reduce of a GPU, or None when none is published for it."""
    e = _raw().get("gpus", {}).get(gpu_key)
    if e is None:
        return None
    where = f"gpus.{gpu_key}"
    try:
        xs = [float(v) for v in e["x_bytes"]]
        ts = [float(v) for v in e["measured_s"]]
        ratio = float(e["link_bytes_per_s_measured"]) / float(e["link_bytes_per_s"])
        max_bytes = float(e["max_bytes"]["value"])
    except (KeyError, TypeError, ValueError):
        raise ConfigError(_PATH, where, "expected x_bytes, measured_s, link_bytes_per_s[_measured], max_bytes.value") from None
    if len(xs) != len(ts) or len(xs) < 2 or any(b <= a for a, b in zip(xs, xs[1:])) or min(ts) <= 0 or ratio <= 0:
        raise ConfigError(_PATH, where, "x_bytes must increase, with one positive time per size (at least two)")
    scaled = tuple(ts[0] + (t - ts[0]) * ratio for t in ts)
    src = f"engine custom all-reduce up to {max_bytes / 2**20:.0f} MiB: {e.get('source', '')}"
    return CustomAllreduce(max_bytes, tuple(xs), scaled, src)
