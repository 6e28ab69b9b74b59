"""The pick's failure domains and the cheapest configuration with one more spare unit
(planner.document.redundancy): from the ranked feasible rows, those that still meet
(1 + headroom) x QPS at the error band's pessimistic edge with K + 1 of their units lost; the
first of them in the plan's ranking order is the N + (K + 1) option, the first of each SKU its
per-SKU option."""

from __future__ import annotations

import pandas as pd

from ..document.redundancy import Redundancy, RedundancyOption
from ..document.rows import PlanRow
from ..document.targets import Targets
from .verdicts import capacity_after_loss


def _option(row, spare: int, pick_usd_per_month: float) -> RedundancyOption:
    label = (f"tp={int(row.tp)} ep={int(row.ep)} pp={int(row.pp)} x {int(row.replicas)} replicas, {row.quant} / KV {row.kv_dtype}, "
             f"max batch {int(row.max_batch)}")
    return RedundancyOption(spare_units=spare, sku=str(row.sku), vms=int(row.vms), units=int(round(row.vms / max(row.unit_vms, 1))),
                            label=label, usd_per_month=float(row.usd_per_month),
                            extra_usd_per_month=float(row.usd_per_month) - pick_usd_per_month)


def redundancy(ranked: pd.DataFrame, pick: PlanRow, targets: Targets) -> Redundancy:
    """`ranked`: the feasible rows (meeting N + K) in the plan's ranking order; `pick` its first."""
    spare = targets.redundancy + 1
    need = (1.0 + targets.headroom) * targets.qps
    ok = ranked[capacity_after_loss(ranked, spare) >= need] if len(ranked) else ranked
    unit_vms, _ = pick.unit()
    u = pick.units()
    low = pick.qps_capacity_low if pick.qps_capacity_low is not None else (pick.qps_capacity or 0.0)
    first = ok.drop_duplicates("sku") if len(ok) else ok
    return Redundancy(
        spare_units=targets.redundancy, units=u, unit_vms=unit_vms, qps=targets.qps, need_qps=need, capacity_low_qps=low,
        left_after_next_loss_qps=low * max(u - spare, 0) / u,
        next=_option(ok.iloc[0], spare, pick.usd_per_month) if len(ok) else None,
        per_sku=[_option(r, spare, pick.usd_per_month) for r in first.itertuples()],
    )

