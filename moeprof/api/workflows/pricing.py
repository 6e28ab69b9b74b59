"""Price policy a plan's readers share (the commands and the Python API): why a Spot configuration is
not a pick, and the note on a reservation discount that breaks the other SKUs' pattern."""

from __future__ import annotations

import math

from ...catalog.hardware.discounts import discount_note, reservation_discounts
from ...catalog.hardware.spot import spot_eviction
from ...catalog.hardware.vms import load_vms
from ...errors import MoeprofError
from ...planner import PlanDocument


def vms_needed(doc: PlanDocument) -> int | None:
    """The fewest of the pick's VMs that still carry the target QPS (with the required headroom) at the error
    band's pessimistic capacity: capacity per VM = pessimistic capacity / VMs."""
    r, t = doc.recommended, doc.inputs
    if r is None:
        return None
    cap = r.qps_capacity_low if r.qps_capacity_low is not None else r.qps_capacity
    if not cap:
        return int(r.vms)
    return min(int(r.vms), math.ceil(t.qps * (1 + t.headroom) / (cap / r.vms) - 1e-9))


def spot_refusal(doc: PlanDocument) -> str:
    """One line: why a Spot configuration is not a pick."""
    r, need = doc.recommended, vms_needed(doc)
    what = (f"the cheapest Spot configuration ({r.vms} x {r.sku}, ${r.usd_per_month:,.0f}/month) serves "
            f"{doc.inputs.qps:g} req/s only with {need} of its {r.vms} VMs up") if r is not None else "a plan needs its VMs up"
    return (f"--pricing spot: no Spot pick: {what}, and Azure may evict any or all Spot VMs at once ({spot_eviction().note()}); "
            "see Spot prices with `moeprof compare --pricing spot`, plan with --pricing payg, reserved-1y or reserved-3y")


def refuse_spot_pick(doc: PlanDocument) -> None:
    raise MoeprofError(spot_refusal(doc))


def reservation_notes(doc: PlanDocument, pricing: str, table: dict | None = None) -> list[str]:
    """Under reserved pricing: a note when one SKU's discount from pay-as-you-go breaks the others' pattern."""
    if not pricing.startswith("reserved"):
        return []
    builtin = load_vms()
    tags = [p for p in doc.charts.prices if p.pricing == pricing and p.region and p.sku in builtin]
    regions = {p.region for p in tags}
    if len(regions) != 1:
        return []
    region = regions.pop()
    d = reservation_discounts({p.sku: (builtin[p.sku].azure_name, p.usd_per_vm_hour) for p in tags}, region, table)
    note = discount_note(pricing, region, d)
    return [note] if note else []
