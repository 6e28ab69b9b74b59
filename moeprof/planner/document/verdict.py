"""The build-or-buy verdict of the plan document (planner.analyses.verdict): the first thing a
buyer reads. Self-hosting's monthly cost (the VM bill of the plan's pick plus the overheads beside
it: storage, egress, operations) against the per-token service's at the plan's token volume, and
where the answer flips (the volume, and the VM price); the price kind, region and read dates of
both sides.

    OverheadItem      one cost beside the VMs: $/month, how it was worked out, its source
    ServerlessOption  one per-token tier of the model in the plan's region: $/month at the plan's volume
    Verdict           the answer and everything it rests on
"""

from __future__ import annotations

from dataclasses import dataclass

from .bounds import MAX_VMS
from .codec import decode, encode, field
from .procurement import _date

DECISIONS = ("buy", "build")  # buy: the per-token service costs less; build: self-hosting does


@dataclass
class OverheadItem:
    name: str = field(nonempty=True, name=True)  # storage, egress, operations, or "given" (--overhead)
    usd_per_month: float = field(lo=0.0)
    basis: str = field()  # how it was worked out
    source: str = field()  # the data file's source, or "assumption: ..."


@dataclass
class ServerlessOption:
    tier: str = field(nonempty=True, name=True)
    usd_per_million_input_tokens: float = field(lo=0.0)
    usd_per_million_output_tokens: float = field(lo=0.0)
    blended_usd_per_million_tokens: float = field(lo=0.0)
    usd_per_month: float = field(lo=0.0)  # at the plan's token volume
    date: str = field(name=True)
    note: str = field("")  # why it applies (or does not) in the plan's region
    applies: bool = field(True)  # sold for the plan's region (Regional tiers list theirs)


@dataclass
class Verdict:
    decision: str = field(choices=DECISIONS)
    text: str = field(nonempty=True)  # the one line: "buy per token: $26,911/month vs $68,560/month self-hosted (2.5x)"
    buy_usd_per_month: float = field(lo=0.0)  # the per-token service at the plan's volume
    build_usd_per_month: float = field(lo=0.0)  # compute + overhead
    compute_usd_per_month: float = field(lo=0.0)  # the VM bill of the pick
    overhead_usd_per_month: float = field(lo=0.0)
    ratio: float = field(lo=1.0)  # the dearer side over the cheaper
    sku: str = field(nonempty=True, name=True)  # the cheapest self-hosted option (the plan's pick)
    vms: int = field(lo=1, hi=MAX_VMS, why="a plan uses at most 64 VMs")
    config: str = field(name=True)
    usd_per_vm_hour: float = field(lo=0.0)
    plan_qps: float = field(lo=0.0)
    plan_tokens_per_month: float = field(lo=0.0)
    blended_usd_per_million_tokens: float = field(lo=0.0)
    flip_tokens_per_month: float = field(lo=0.0)  # this configuration's self-hosted cost / the blended per-token price
    flip_qps: float = field(lo=0.0)
    capacity_tokens_per_month: float | None = field(lo=0.0)
    capacity_qps: float | None = field(lo=0.0)
    self_hosted_usd_per_million_at_capacity: float | None = field(lo=0.0)
    flip_usd_per_vm_hour: float | None = field(lo=0.0)  # the VM price at which the two cost the same (None: none does)
    pricing: str = field(name=True)  # the VM price kind: payg, reserved-1y, reserved-3y, spot
    region: str = field(name=True)
    price_date: str = field(name=True)
    price_status: str = field(name=True)
    serverless_provider: str = field(name=True)
    serverless_tier: str = field(name=True)
    serverless_model: str = field(name=True)
    serverless_date: str = field(name=True)
    serverless_source: str = field()
    overhead_given: str = field("", name=True)  # --overhead as given; "" for the defaults
    overheads: list[OverheadItem] = field(default_factory=list)
    options: list[ServerlessOption] = field(default_factory=list)  # every per-token tier listed for the model
    not_published: list[str] = field(default_factory=list)  # serverless options without a public price (PTU, batch)

    def to_json(self) -> dict:
        return encode(self)

    @classmethod
    def from_json(cls, d, path) -> Verdict:
        return decode(cls, d, path, "verdict")

    def check_decoded(self, path, where: str) -> None:
        _date(self.serverless_date, path, f"{where}.serverless_date")
