"""Why a row is not feasible, as a typed kind (never parsed back from text) and one line.

A row gets the first reason it fails, in the order the search evaluates (latencies at the
error band's pessimistic edge, planner.search.bands): memory, then TTFT or TPOT even when idle,
then QPS capacity at the latency targets, or the latency at the target QPS
(the capacity search and the latency at the load are two solutions of the serving model; where
they disagree near the capacity, the latency at the load decides, filed as QPS), then the
headroom: capacity at the pessimistic edge of the error band (planner.search.bands) >= (1 + headroom) x
QPS; then the redundancy (--redundancy N+K): with K of the row's units lost, the capacity left at
the pessimistic edge, qps_capacity_low x (units - K) / units, >= (1 + headroom) x QPS. `stage`
records how far it got (memory 0 < TTFT 1 < TPOT 2 < QPS 3 < headroom, redundancy and feasible 4)
to pick each layout's most promising row.
"""

from __future__ import annotations

from enum import Enum

import numpy as np
import pandas as pd

from ..document.targets import Targets


class RejectKind(str, Enum):
    MEMORY = "memory"
    TTFT = "TTFT"
    TPOT = "TPOT"
    QPS = "QPS"
    HEADROOM = "headroom"
    CHECKPOINT = "checkpoint"  # meets the targets, no published checkpoint (planner.search.checkpoints)
    REDUNDANCY = "redundancy"


def add_verdicts(rows: pd.DataFrame, targets: Targets) -> pd.DataFrame:
    """rows with `kind` ('' feasible or a RejectKind value), `reason`, `stage` and `feasible`."""
    n = len(rows)
    mem_ok = (rows.memory_kind == "").to_numpy()
    kind = np.where(mem_ok, "", RejectKind.MEMORY.value).astype(object)
    reason = np.where(mem_ok, "", "memory: " + rows.memory_reason.to_numpy(dtype=object)).astype(object)
    t_ttft, t_tpot = targets.ttft_ms, targets.tpot_ms
    # latencies at the error band's pessimistic edge (planner.search.bands)
    ttft0, tpot0 = rows.ttft_idle_high_ms.to_numpy(), rows.tpot_idle_high_ms.to_numpy()
    miss_ttft0 = mem_ok & (ttft0 > t_ttft)
    miss_tpot0 = mem_ok & ~miss_ttft0 & (tpot0 > t_tpot)
    cap = rows.qps_capacity.to_numpy()
    short = mem_ok & ~miss_ttft0 & ~miss_tpot0 & (cap < targets.qps)
    ttft, tpot = rows.ttft_high_ms.to_numpy(), rows.tpot_high_ms.to_numpy()
    slow = mem_ok & ~miss_ttft0 & ~miss_tpot0 & ~short & ((ttft > t_ttft) | (tpot > t_tpot))
    kind[miss_ttft0] = RejectKind.TTFT.value
    kind[miss_tpot0] = RejectKind.TPOT.value
    need = (1.0 + targets.headroom) * targets.qps
    cap_lo = rows.qps_capacity_low.to_numpy()
    thin = mem_ok & ~miss_ttft0 & ~miss_tpot0 & ~short & (cap_lo < need)
    kind[short] = RejectKind.QPS.value
    kind[slow] = RejectKind.QPS.value
    thin = thin & ~slow
    kind[thin] = RejectKind.HEADROOM.value
    left = capacity_after_loss(rows, targets.redundancy)
    fragile = mem_ok & ~miss_ttft0 & ~miss_tpot0 & ~short & ~slow & ~thin & (left < need) if targets.redundancy else np.zeros(n, bool)
    kind[fragile] = RejectKind.REDUNDANCY.value
    reason[miss_ttft0] = [f"TTFT: {v:.0f} ms (error band's high edge) > {t_ttft:g} ms even unloaded" for v in ttft0[miss_ttft0]]
    reason[miss_tpot0] = [f"TPOT: {v:.1f} ms (error band's high edge) > {t_tpot:g} ms even at batch 1" for v in tpot0[miss_tpot0]]
    reason[short] = [f"QPS: capacity {c:.2f} < {targets.qps:g} req/s at the latency targets" for c in cap[short]]
    reason[slow] = [f"QPS: at {targets.qps:g} req/s TTFT {a:.0f} ms / TPOT {b:.1f} ms (error band's high edge) exceed the targets "
                    f"({t_ttft:g} / {t_tpot:g} ms)" for a, b in zip(ttft[slow], tpot[slow])]
    reason[thin] = [headroom_reason(c, targets) for c in cap_lo[thin]]
    units = units_of(rows)
    reason[fragile] = [f"redundancy N+{targets.redundancy}: losing {targets.redundancy} of {u:.0f} units leaves {c:.2f} req/s at "
                       f"the error band's pessimistic edge < {need:.4g} req/s" for u, c in zip(units[fragile], left[fragile])]
    stage = np.where(mem_ok, 4, 0)
    stage[short | slow] = 3
    stage[miss_ttft0] = 1
    stage[miss_tpot0] = 2
    rows["kind"] = kind if n else np.array([], dtype=object)
    rows["reason"] = reason
    rows["stage"] = stage
    rows["feasible"] = kind == ""
    return rows


def headroom_reason(capacity_low: float, targets: Targets) -> str:
    need = (1.0 + targets.headroom) * targets.qps
    return (f"headroom: capacity {capacity_low:.2f} req/s at the error band's pessimistic edge < {need:.4g} req/s "
            f"((1 + {targets.headroom:g}) x {targets.qps:g})")


def units_of(rows: pd.DataFrame) -> np.ndarray:
    """Units (deployment.replicas) each row buys."""
    return rows.vms.to_numpy(dtype=float) / np.maximum(rows.unit_vms.to_numpy(dtype=float), 1.0)


def capacity_after_loss(rows: pd.DataFrame, lost_units: int) -> np.ndarray:
    """req/s at the pessimistic edge with `lost_units` of each row's units gone (0 where none is left)."""
    u = units_of(rows)
    return rows.qps_capacity_low.to_numpy(dtype=float) * np.clip(u - lost_units, 0, None) / np.maximum(u, 1.0)
