"""Block-scaled fp8 GEMMs at few tokens (moeprof/data/blockscale_gemm.json).

A GEMM whose weights carry one scale per 128 x 128 block (fp8 block-wise checkpoints such as
DeepSeek-V3/R1) runs as two kernels, the per-group activation quantization and the GEMM, and at
small M the GEMM kernel takes far longer than its bytes at the memory rate: the engines' kernels
loop over K blocks loading scales. Per listed GPU: published kernel times at small M by K; the
model takes the GEMM kernel's time as max(roofline, this time at its K). At many tokens the
block-scaled kernels also stay below the GPU's per-tensor fp8 GEMM rate: where listed, the
measured large-M rates of the dense GEMM and of the fused MoE cap their compute rate. A GPU not
listed keeps the roofline.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from ..errors import ConfigError

_PATH = "moeprof/data/blockscale_gemm.json"


@dataclass(frozen=True)
class BlockscaleGemm:
    k: tuple[float, ...]
    kernel_s: tuple[float, ...]
    extra_kernels: float
    source: str
    gemm_flop_per_s: float | None = None  # measured rate at many tokens (None: the roofline's)
    moe_flop_per_s: float | None = None

    def floor_s(self, k) -> np.ndarray:
        """Published kernel time of a block-scaled GEMM at small M with reduction length k."""
        return np.interp(np.asarray(k, dtype=float), self.k, self.kernel_s)


@lru_cache(maxsize=1)
def _raw() -> dict:
    return json.loads((resources.files("moeprof") / "data" / "blockscale_gemm.json").read_text())


def blockscale_gemm(gpu_key: str) -> BlockscaleGemm | None:
    d = _raw()
    e = d.get("gpus", {}).get(gpu_key)
    if e is None:
        return None
    try:
        ks = tuple(float(v) for v in e["k"])
        ts = tuple(float(v) for v in e["kernel_s"])
        extra = float(d["activation_quant_kernel"]["kernels"])
    except (KeyError, TypeError, ValueError):
        raise ConfigError(_PATH, f"gpus.{gpu_key}", "expected k and kernel_s lists and activation_quant_kernel.kernels") from None
    if len(ks) != len(ts) or not ks or any(b <= a for a, b in zip(ks, ks[1:])) or min(ts) <= 0:
        raise ConfigError(_PATH, f"gpus.{gpu_key}", "k must increase, with one positive kernel time per k")
    caps = []
    for key in ("large_m_gemm_flop_per_s", "large_m_moe_flop_per_s"):
        v = e.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or not 1e12 <= v <= 1e17):
            raise ConfigError(_PATH, f"gpus.{gpu_key}.{key}", "expected a rate in FLOP/s between 1e12 and 1e17")
        caps.append(None if v is None else float(v))
    src = f"block-scaled fp8 GEMM at small M: {e.get('source', '')}; + {extra:g} activation-quantization kernel ({d['activation_quant_kernel']['source']})"
    if any(c is not None for c in caps):
        src += f"; at many tokens: {e.get('large_m_source', '')}"
    return BlockscaleGemm(ks, ts, extra, src, caps[0], caps[1])
