"""Traffic over a day or a week on the plan's pick: units per hour, and what the fleet costs
bought three ways. Pure: the profile, the pick and the prices come in (planner.document.traffic_file,
the PlanRow, planner.analyses.traffic_prices).

    unit        the smallest whole-VM group of the pick that scales on its own: one VM running
                every replica that fits on it (GPUs per VM // GPUs per replica), or the VMs one
                replica spans when it needs more than one
    capacity    unit req/s = the pick's capacity per unit (req/s within the latency targets: one
                replica's x the replicas one unit runs) at the pessimistic edge of its error band
                when it has one (as --headroom sizes the pick), else as predicted
    units(h)    max(min_units, ceil(qps(h) / unit req/s))
    static      peak units x pay-as-you-go $/unit-h x hours (a fleet sized for the peak hour)
    autoscaled  sum over the hours of units(h) x pay-as-you-go $/unit-h
    mix         B units reserved, billed every hour, plus pay-as-you-go for the units above B:
                B x reserved $/unit-h x hours + pay-as-you-go $/unit-h x sum max(0, units(h) - B),
                minimised exactly over every B from 0 to the peak (the smallest B on a tie)
    per month   per period x HOURS_PER_MONTH (730 h) / the period's hours
The mix tries B = 0 (autoscaled) and B = peak (all reserved), so it never costs more than either
pay-as-you-go option.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...deployment.replicas import scaling_unit as deployment_unit
from ...errors import MoeprofError
from ...units import HOURS_PER_MONTH
from ..document.rows import PlanRow
from ..document.traffic import AUTOSCALED, MAX_UNITS, PRICINGS, STATIC, TrafficOption, TrafficPlan
from ..document.traffic_file import TrafficProfile

PAYG = "payg"
RESERVED = tuple(k for k in PRICINGS if k != PAYG)
# Floating-point slack in ceil(qps / capacity): a rate a hair over a whole number of units
# (0.3 / 0.1 = 3.0000000000000004) needs that number, not one more.
_SLACK_UNITS = 1e-9


@dataclass
class VmRates:
    """$/h of one VM of the pick's SKU per pricing kind, their sources, and the kinds with no price."""

    usd_per_vm_hour: dict[str, float]
    sources: dict[str, str] = field(default_factory=dict)
    unpriced: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ScalingUnit:
    vms: int
    replicas: int
    qps_capacity: float  # req/s within the latency targets


def scaling_unit(row: PlanRow, gpus_per_vm: int) -> ScalingUnit:
    """The autoscaling unit of a plan row (see the module doc)."""
    capacity = row.qps_capacity_low if row.qps_capacity_low is not None else row.qps_capacity
    if not capacity or capacity <= 0:
        raise MoeprofError(f"{row.label()}: no capacity within the targets, nothing to scale")
    if row.unit_vms is not None and row.unit_replicas is not None:
        vms, replicas = row.unit()
    else:  # a plan made before the unit was stored
        vms, replicas = deployment_unit(row.gpus // row.replicas, gpus_per_vm)
    return ScalingUnit(vms, replicas, capacity / row.replicas * replicas)


def units_per_hour(qps_per_hour, unit_qps: float, min_units: int = 1) -> np.ndarray:
    q = np.asarray(qps_per_hour, dtype=float)
    need = np.ceil(q / unit_qps - _SLACK_UNITS)
    if need.max(initial=0) > MAX_UNITS:
        raise MoeprofError(f"the traffic peak needs {need.max():,.0f} units of {unit_qps:g} req/s, more than {MAX_UNITS:,}")
    return np.maximum(need, min_units).astype(np.int64)


def best_reserved(units: np.ndarray, payg_usd_per_unit_hour: float, reserved_usd_per_unit_hour: float) -> tuple[int, float]:
    """(B, cost over the period) of the cheapest reserved base B in 0..peak, pay-as-you-go above it."""
    u = np.asarray(units, dtype=np.int64)
    k = np.arange(int(u.max()) + 1)
    hist = np.bincount(u, minlength=len(k))
    cnt_ge = np.cumsum(hist[::-1])[::-1]  # hours needing >= k units
    sum_ge = np.cumsum((hist * k)[::-1])[::-1]  # their units
    cnt_gt, sum_gt = np.append(cnt_ge[1:], 0), np.append(sum_ge[1:], 0)
    excess = sum_gt - k * cnt_gt  # sum over hours of max(0, units - k)
    cost = k * reserved_usd_per_unit_hour * len(u) + payg_usd_per_unit_hour * excess
    b = int(np.argmin(cost))
    return b, float(cost[b])


def traffic_plan(profile: TrafficProfile, row: PlanRow, gpus_per_vm: int, rates: VmRates, plan_qps: float,
                 min_units: int = 1) -> TrafficPlan:
    if PAYG not in rates.usd_per_vm_hour:
        raise MoeprofError(f"{row.sku}: no pay-as-you-go price ({rates.unpriced.get(PAYG, 'not listed')}); "
                           "the traffic costs need one: give --price-per-hour with --pricing payg")
    unit = scaling_unit(row, gpus_per_vm)
    units = units_per_hour(profile.qps_per_hour, unit.qps_capacity, min_units)
    hours = len(units)
    per_unit = {k: v * unit.vms for k, v in rates.usd_per_vm_hour.items() if k in PRICINGS}
    payg = per_unit[PAYG]
    static = float(units.max()) * payg * hours
    costs = [(STATIC, 0, static), (AUTOSCALED, 0, float(units.sum()) * payg)]
    for kind in RESERVED:
        if kind in per_unit:
            b, c = best_reserved(units, payg, per_unit[kind])
            costs.append((f"{kind} + payg", b, c))
    month = HOURS_PER_MONTH / hours
    options = [TrafficOption(name, b, c, c * month, 1.0 - c / static if static > 0 else 0.0) for name, b, c in costs]
    return TrafficPlan(
        path=profile.path, source=profile.source, qps_per_hour=list(profile.qps_per_hour),
        units_per_hour=[int(x) for x in units], min_units=min_units, sku=row.sku, unit_vms=unit.vms,
        unit_replicas=unit.replicas, unit_qps_capacity=unit.qps_capacity, usd_per_unit_hour=per_unit,
        price_sources={k: v for k, v in rates.sources.items() if k in per_unit},
        unpriced={k: v for k, v in rates.unpriced.items() if k in PRICINGS and k not in per_unit},
        plan_qps=plan_qps, options=options, hours_per_month=HOURS_PER_MONTH,
        notes=_notes(profile, units, unit, plan_qps, row),
    )


_EDGE = " at the pessimistic edge of the error band"


def _notes(profile: TrafficProfile, units: np.ndarray, unit: ScalingUnit, plan_qps: float, row: PlanRow) -> list[str]:
    out = []
    peak = max(profile.qps_per_hour)
    if peak > plan_qps:
        out.append(f"the traffic peaks at {peak:g} req/s, above the {plan_qps:g} req/s the pick was sized for (--qps; "
                   f"its {row.replicas} replica(s) serve {unit.qps_capacity / unit.replicas * row.replicas:.2f} req/s within "
                   f"the targets{_EDGE if row.qps_capacity_low is not None else ''}): the pick is "
                   f"the cheapest configuration at {plan_qps:g} req/s and its units scale to {int(units.max())} at the "
                   f"peak; `plan --qps {peak:g}` sizes a pick for the peak")
    if units.min() == units.max():
        out.append(f"every hour needs {int(units.max())} unit(s) of {unit.qps_capacity:.2f} req/s: autoscaling saves "
                   "nothing over the static fleet; only the price kind changes the cost")
    return out
