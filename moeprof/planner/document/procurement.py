"""Procurement data of the plan document, computed when the plan is made (planner.analyses.breakeven,
planner.analyses.build_or_buy) so the report and `compare` read it rather than work it out again:

    PriceSensitivity  one SKU's best configuration's $/month as its VM price moves, against the
                      $/month it has to beat (the pick's, or for the pick the cheapest other SKU's),
                      and the break-even price where the two meet
    BuildOrBuy        the serverless per-token price of the model (dated, sourced) and, per SKU, the
                      monthly token volume (and req/s at the plan's token mix) above which
                      self-hosting that SKU's best configuration costs less
"""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import ConfigError
from ...inputs import has_control, short
from .bounds import MAX_VMS
from .codec import decode, encode, field


def _text(v, path, where: str, allow_none: bool = False, max_chars: int = 2000) -> str | None:
    """A label or source: a string of at most max_chars with no control characters."""
    if v is None and allow_none:
        return None
    if not isinstance(v, str) or len(v) > max_chars or has_control(v):
        raise ConfigError(path, where, f"expected a text of at most {max_chars:,} characters, got {short(v)}")
    return v


def _date(v, path, where: str) -> str:
    """A price's date: YYYY-MM-DD, or "user" for a price given on the command line."""
    import datetime as _dt

    if v == "user":
        return v
    try:
        if isinstance(v, str) and len(v) == 10:
            _dt.date.fromisoformat(v)
            return v
    except ValueError:
        pass
    raise ConfigError(path, where, f"expected a date YYYY-MM-DD (or \"user\"), got {short(v)}")


@dataclass
class PriceSensitivity:
    """$/month of one SKU's best configuration (VMs x price x 730 h) over a range of its VM price."""

    sku: str = field(nonempty=True, name=True)
    is_pick: bool = field()
    vms: int = field(lo=1, hi=MAX_VMS, why="a plan uses at most 64 VMs")
    usd_per_vm_hour: float = field(lo=0.0)  # the price the plan used
    usd_per_month: float = field(lo=0.0)  # at that price
    rival: str | None = field(name=True)  # the SKU whose $/month it must beat: the pick, or for the pick the cheapest other
    rival_usd_per_month: float | None = field(lo=0.0)
    break_even_usd_per_vm_hour: float | None = field(lo=0.0)  # where the two meet: stays (pick) / becomes (others) the pick below it
    price_usd_per_vm_hour: list[float] = field(default_factory=list, lo=0.0)  # the chart's x
    cost_usd_per_month: list[float] = field(default_factory=list, lo=0.0)  # the chart's y

    @classmethod
    def from_json(cls, d, path, where: str) -> PriceSensitivity:
        return decode(cls, d, path, where)

    def check_decoded(self, path, where: str) -> None:
        n = len(self.price_usd_per_vm_hour)
        if n != len(self.cost_usd_per_month) or not 2 <= n <= 1000:
            raise ConfigError(path, f"{where}.price_usd_per_vm_hour", (
                "price_usd_per_vm_hour and cost_usd_per_month must be lists of one length, 2 to 1,000 points (the chart's series)"
            ))


@dataclass
class BuildOrBuySku:
    """Self-hosting one SKU's best configuration against the per-token price."""

    sku: str = field(nonempty=True, name=True)
    usd_per_month: float = field(lo=0.0)  # the VM bill
    break_even_tokens_per_month: float = field(lo=0.0)  # input + output tokens; above it self-hosting (VMs + overhead) costs less
    break_even_qps: float = field(lo=0.0)  # the same volume as req/s at the plan's token mix
    capacity_tokens_per_month: float | None = field(lo=0.0)  # what the configuration carries within the targets
    capacity_qps: float | None = field(lo=0.0)
    overhead_usd_per_month: float = field(0.0, lo=0.0)  # storage, egress, operations (planner.analyses.verdict); 0: VMs alone


@dataclass
class BuildOrBuy:
    provider: str = field(name=True)
    model: str = field(name=True)
    tier: str = field(name=True)
    usd_per_million_input_tokens: float = field(lo=0.0)
    usd_per_million_output_tokens: float = field(lo=0.0)
    date: str = field(name=True)  # when the price was read
    source: str = field()
    blended_usd_per_million_tokens: float = field(lo=0.0)  # at the plan's input / output mix
    plan_tokens_per_month: float = field(lo=0.0)  # the plan's own volume (its QPS, 730 h)
    skus: list[BuildOrBuySku] = field(default_factory=list)

    def to_json(self) -> dict:
        return encode(self)

    @classmethod
    def from_json(cls, d, path) -> BuildOrBuy:
        return decode(cls, d, path, "charts.build_or_buy")

    def check_decoded(self, path, where: str) -> None:
        _date(self.date, path, f"{where}.date")
