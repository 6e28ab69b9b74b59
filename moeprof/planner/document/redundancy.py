"""The failure domains of a plan's pick (planner.search.redundancy): what losing a unit (one VM with
every replica on it, or the VMs one replica spans) leaves, and what one more spare unit costs.

    units            the pick's units (deployment.replicas); K of N + K is `spare_units`
    left after loss  the pick's capacity at the error band's pessimistic edge x (units - K - 1) / units:
                     what serves the traffic with one unit more than K lost
    next             the cheapest configuration, by the plan's ranking, that still meets the targets
                     with K + 1 units lost (N + (K + 1)); None when the search has none
"""

from __future__ import annotations

from dataclasses import dataclass

from .bounds import MAX_VMS
from .codec import decode, encode, field
from .targets import MAX_SPARE_UNITS


@dataclass
class RedundancyOption:
    """One configuration sized N + K: its label, VMs, SKU and $/month, and what it adds to the pick's."""

    spare_units: int = field(lo=0, hi=MAX_SPARE_UNITS + 1, why="--redundancy N+K, K <= 8, and the next one")
    sku: str = field(nonempty=True, name=True)
    vms: int = field(lo=1, hi=MAX_VMS, why="a plan uses at most 64 VMs")
    units: int = field(lo=1, hi=MAX_VMS, why="a unit is at least one VM")
    label: str = field(name=True)
    usd_per_month: float = field(lo=0.0, lo_open=True)
    extra_usd_per_month: float = field()  # over the pick's $/month (negative never: the pick is the cheapest N + K)


@dataclass
class Redundancy:
    """The pick's failure domains and the cost of one more spare unit."""

    spare_units: int = field(lo=0, hi=MAX_SPARE_UNITS, why="--redundancy N+K, K <= 8")  # K
    units: int = field(lo=1, hi=MAX_VMS, why="a unit is at least one VM")
    unit_vms: int = field(lo=1, hi=MAX_VMS, why="a plan uses at most 64 VMs")
    qps: float = field(lo=0.0, lo_open=True)  # the target
    need_qps: float = field(lo=0.0, lo_open=True)  # (1 + headroom) x the target
    capacity_low_qps: float = field(lo=0.0)  # the pick's, at the pessimistic edge, all units up
    left_after_next_loss_qps: float = field(lo=0.0)  # ... with K + 1 units lost
    next: RedundancyOption | None = None  # N + (K + 1)
    per_sku: list[RedundancyOption] = field(default_factory=list)  # the cheapest N + (K + 1) of each SKU

    def risk_text(self) -> str:
        """The failure-domain risk of the pick in one line."""
        k, u = self.spare_units, self.units
        what = f"{self.unit_vms} VM{'s' if self.unit_vms > 1 else ''}"
        lost = k + 1
        head = (f"N+0: a single failure domain per unit; the pick is {u} unit{'s' if u > 1 else ''} of {what}"
                if k == 0 else f"N+{k}: losing {k} of {u} units still meets {self.need_qps:.4g} req/s at the pessimistic edge")
        tail = (f"losing {lost} of {u} unit{'s' if u > 1 else ''} leaves {self.left_after_next_loss_qps:.2f} req/s at the "
                f"pessimistic edge of the {self.need_qps:.4g} req/s it must serve")
        return f"{head}; {tail}"

    def next_text(self) -> str:
        n = self.next
        if n is None:
            return f"N+{self.spare_units + 1}: no configuration in the search meets the targets with {self.spare_units + 1} units lost"
        return (f"N+{n.spare_units}: {n.vms} x {n.sku}, ${n.usd_per_month:,.0f}/month (+${n.extra_usd_per_month:,.0f}); "
                f"{n.label}")

    def to_json(self) -> dict:
        return encode(self)

    @classmethod
    def from_json(cls, d, path) -> Redundancy:
        return decode(cls, d, path, "redundancy")
