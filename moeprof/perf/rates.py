"""Achieved rates on one GPU: from a profile's curves where present, else datasheet x efficiency.

Every method takes numpy arrays (any shape) and returns an array of the same shape.

GEMM compute rate at M tokens (the token dimension of [M, K] x [K, N]):
- measured curve `gemm_bf16` / `gemm_fp8`: y(M), interpolated log-log, clamped at both ends;
- fallback: peak x efficiency x tile_eff(M), with the tile-quantisation factor
  tile_eff(M) = M / (ceil(M / tile_m) * tile_m): a kernel computes whole M tiles, so M = 1 costs
  as much tensor-core time as M = tile_m. Wave quantisation over SMs is not modelled.
A measured GEMM curve at small M records the probe's own weight streaming (memory-bound), not a
compute ceiling. That is consistent for a GEMM whose weights have the curve's dtype, but a
weight-only quantised GEMM (int4 dequantised to bf16) streams fewer bytes, so for it the compute
rate is max(curve(M), plateau x tile_eff(M)) with plateau the curve's largest rate.

Kernel tables. A profile with kernel tables (moeprof/kernel_tables) gives an op's time directly:
`table_ms(op, coords, **key)` looks the op up at its shape (None when the profile has no table
for those settings, and the caller uses the rates above) and counts, per table, the lookups and
those outside the table's grid (`table_use`: extrapolated, see KernelTable.lookup).
"""

from __future__ import annotations

import numpy as np

from ..catalog.hardware.vms import GpuSpec
from ..profile import Curve, Profile
from .blockscale import blockscale_gemm
from .efficiency import Efficiencies


def curve_at(curve: Curve, x) -> np.ndarray:
    """A curve's rate at x as an array (Curve interpolates log-log, clamped at both ends)."""
    return np.asarray(curve(x), dtype=float)


def tile_efficiency(m, tile_m: int) -> np.ndarray:
    """Fraction of tensor-core work that is useful when M is padded to whole tiles of tile_m rows."""
    m = np.maximum(np.asarray(m, dtype=float), 1e-12)
    return m / (np.ceil(m / tile_m) * tile_m)


class Rates:
    """Achieved FLOP/s and bytes/s for one GPU. `sources[name]` says where each rate comes from."""

    def __init__(self, gpu: GpuSpec, profile: Profile | None, eff: Efficiencies):
        self.gpu, self.profile, self.eff = gpu, profile, eff
        self.sources: dict[str, str] = {}
        self._curves: dict[str, Curve | None] = {}
        label = profile.label if profile is not None else ""
        for name, fallback in (
            (
                "gemm_bf16",
                f"datasheet {gpu.bf16_flop_per_s / 1e12:.1f} TFLOP/s x {eff.gemm_bf16_efficiency:.3f} x tile quantisation (M tile {eff.gemm_tile_m})",
            ),
            ("gemm_fp8", f"datasheet {gpu.fp8_flop_per_s / 1e12:.1f} TFLOP/s x {eff.gemm_fp8_efficiency:.3f} x tile quantisation (M tile {eff.gemm_tile_m})"),
            ("memory_copy", f"datasheet {gpu.hbm_bytes_per_s / 1e12:.2f} TB/s x {eff.memory_efficiency:.3f}"),
            ("attention_decode", f"datasheet {gpu.hbm_bytes_per_s / 1e12:.2f} TB/s x {eff.attention_decode_efficiency:.3f}"),
            (
                "attention_prefill",
                (
                    f"datasheet {gpu.bf16_flop_per_s / 1e12:.1f} TFLOP/s x {eff.attention_prefill_efficiency:.3f} x tile quantisation (query tile "
                    f"{eff.attention_tile_m})"
                ),
            ),
        ):
            c = profile.curve(name) if profile is not None else None
            self._curves[name] = c
            self.sources[name] = f"{label}: curve {name}" if c is not None else fallback
        self.tables = profile.kernel_tables if profile is not None else None
        self.table_use: dict[str, dict] = {}
        if self.tables is not None:
            self.sources["kernel_tables"] = f"{label}: {len(self.tables)} kernel tables ({', '.join(sorted(self.tables.ops()))})"
        sc = profile.scalars if profile is not None else {}
        self.kernel_overhead_s = float(sc.get("kernel_overhead_s", eff.kernel_overhead_s))
        self.sources["kernel_overhead_s"] = (
            f"{label}: scalar kernel_overhead_s" if "kernel_overhead_s" in sc else f"published/assumed {eff.kernel_overhead_s * 1e6:.1f} us"
        )
        self.blockscale = blockscale_gemm(gpu.key) if gpu.supports_fp8 else None
        if self.blockscale is not None:
            self.sources["gemm_fp8_blockscale"] = self.blockscale.source
        self.collective_latency_s = float(sc.get("collective_latency_s", eff.collective_latency_s))
        self.sources["collective_latency_s"] = (
            f"{label}: scalar collective_latency_s"
            if "collective_latency_s" in sc
            else f"published {eff.collective_latency_s * 1e6:.1f} us"
        )

    # ---- kernel tables ----------------------------------------------------------------
    def table_ms(self, op: str, coords: dict, **key) -> np.ndarray | None:
        """The op's milliseconds from the profile's kernel table for `key` at `coords` (arrays,
        broadcast), or None when there is no such table."""
        t = self.tables.find(op, **key) if self.tables is not None else None
        if t is None:
            return None
        ms, outside = t.lookup(**coords)
        name = t.op + "(" + ", ".join(f"{k}={v}" for k, v in t.key.items()) + ")"
        use = self.table_use.setdefault(name, {"lookups": 0, "extrapolated": 0})
        use["lookups"] += int(ms.size)
        use["extrapolated"] += int(np.count_nonzero(outside))
        return ms

    # ---- which curves are measured ---------------------------------------------------
    def uses_curve(self, name: str) -> bool:
        return self._curves.get(name) is not None

    def gemm_dtype(self, dtype: str) -> str:
        """The dtype a GEMM really runs in: fp8 needs hardware support, else it is dequantised."""
        return "fp8" if dtype == "fp8" and self.gpu.supports_fp8 else "bf16"

    # ---- rates -----------------------------------------------------------------------
    def gemm_flop_per_s(self, dtype: str, m_tokens, weight_only: bool = False) -> np.ndarray:
        """Achieved FLOP/s of a GEMM with M = m_tokens rows in `dtype` ('bf16' or 'fp8')."""
        dtype = self.gemm_dtype(dtype)
        m = np.asarray(m_tokens, dtype=float)
        tile = tile_efficiency(m, self.eff.gemm_tile_m)
        c = self._curves["gemm_fp8" if dtype == "fp8" else "gemm_bf16"]
        if c is None:
            peak = self.gpu.flop_per_s(dtype)
            e = self.eff.gemm_fp8_efficiency if dtype == "fp8" else self.eff.gemm_bf16_efficiency
            return peak * e * tile
        measured = curve_at(c, m)
        if weight_only:
            return np.maximum(measured, max(c.y) * tile)
        return measured

    def memory_bytes_per_s(self, bytes_moved) -> np.ndarray:
        """Achieved HBM bytes/s (read + write) for an op that moves `bytes_moved` bytes."""
        c = self._curves["memory_copy"]
        if c is None:
            return np.full(np.shape(bytes_moved), self.gpu.hbm_bytes_per_s * self.eff.memory_efficiency)
        return curve_at(c, bytes_moved)

    def attention_decode_bytes_per_s(self, kv_bytes) -> np.ndarray:
        """Achieved bytes/s of decode attention reading `kv_bytes` of KV cache in one step."""
        c = self._curves["attention_decode"]
        if c is None:
            return np.full(np.shape(kv_bytes), self.gpu.hbm_bytes_per_s * self.eff.attention_decode_efficiency)
        return curve_at(c, kv_bytes)

    def attention_prefill_flop_per_s(self, seq_tokens) -> np.ndarray:
        """Achieved FLOP/s of prefill attention over sequences of `seq_tokens` query tokens."""
        c = self._curves["attention_prefill"]
        if c is None:
            peak = self.gpu.bf16_flop_per_s * self.eff.attention_prefill_efficiency
            return peak * tile_efficiency(seq_tokens, self.eff.attention_tile_m)
        return curve_at(c, seq_tokens)
