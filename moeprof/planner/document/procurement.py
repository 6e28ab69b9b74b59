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

import math
from dataclasses import asdict, dataclass, field

from ...errors import ConfigError
from ...inputs import has_control, short


def _number(v, path, where: str, allow_none: bool = True) -> float | None:
    if v is None and allow_none:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
        raise ConfigError(path, where, f"must be a non-negative number{' or null' if allow_none else ''}, got {v!r}")
    return float(v)


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

    sku: str
    is_pick: bool
    vms: int
    usd_per_vm_hour: float  # the price the plan used
    usd_per_month: float  # at that price
    rival: str | None  # the SKU whose $/month it must beat: the pick, or for the pick the cheapest other
    rival_usd_per_month: float | None
    break_even_usd_per_vm_hour: float | None  # where the two meet: stays (pick) / becomes (others) the pick below it
    price_usd_per_vm_hour: list[float] = field(default_factory=list)  # the chart's x
    cost_usd_per_month: list[float] = field(default_factory=list)  # the chart's y

    @classmethod
    def from_json(cls, d, path, where: str) -> PriceSensitivity:
        if not isinstance(d, dict) or not isinstance(d.get("sku"), str):
            raise ConfigError(path, where, "expected an object with a 'sku' string")
        _text(d["sku"], path, f"{where}.sku", max_chars=200)
        xs, ys = d.get("price_usd_per_vm_hour"), d.get("cost_usd_per_month")
        if not isinstance(xs, list) or not isinstance(ys, list) or len(xs) != len(ys) or len(xs) < 2 or len(xs) > 1000:
            raise ConfigError(path, f"{where}.price_usd_per_vm_hour", "price_usd_per_vm_hour and cost_usd_per_month must be "
                              "lists of one length, 2 to 1,000 points (the chart's series)")
        _text(d.get("rival"), path, f"{where}.rival", allow_none=True, max_chars=200)
        vms = d.get("vms")
        if isinstance(vms, bool) or not isinstance(vms, int) or vms < 1:
            raise ConfigError(path, f"{where}.vms", f"must be a positive integer, got {vms!r}")
        return cls(
            sku=d["sku"], is_pick=bool(d.get("is_pick")), vms=vms,
            usd_per_vm_hour=_number(d.get("usd_per_vm_hour"), path, f"{where}.usd_per_vm_hour", False),
            usd_per_month=_number(d.get("usd_per_month"), path, f"{where}.usd_per_month", False),
            rival=str(d["rival"]) if d.get("rival") is not None else None,
            rival_usd_per_month=_number(d.get("rival_usd_per_month"), path, f"{where}.rival_usd_per_month"),
            break_even_usd_per_vm_hour=_number(d.get("break_even_usd_per_vm_hour"), path,
                                               f"{where}.break_even_usd_per_vm_hour"),
            price_usd_per_vm_hour=[_number(x, path, f"{where}.price_usd_per_vm_hour", False) for x in xs],
            cost_usd_per_month=[_number(y, path, f"{where}.cost_usd_per_month", False) for y in ys],
        )


@dataclass
class BuildOrBuySku:
    """Self-hosting one SKU's best configuration against the per-token price."""

    sku: str
    usd_per_month: float
    break_even_tokens_per_month: float  # input + output tokens; above it self-hosting costs less
    break_even_qps: float  # the same volume as req/s at the plan's token mix
    capacity_tokens_per_month: float | None  # what the configuration carries within the targets
    capacity_qps: float | None


@dataclass
class BuildOrBuy:
    provider: str
    model: str
    tier: str
    usd_per_million_input_tokens: float
    usd_per_million_output_tokens: float
    date: str  # when the price was read
    source: str
    blended_usd_per_million_tokens: float  # at the plan's input / output mix
    plan_tokens_per_month: float  # the plan's own volume (its QPS, 730 h)
    skus: list[BuildOrBuySku] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, d, path) -> BuildOrBuy:
        where = "charts.build_or_buy"
        if not isinstance(d, dict):
            raise ConfigError(path, where, "must be an object")
        raw_skus = d.get("skus") or []
        if not isinstance(raw_skus, list) or not all(isinstance(s, dict) for s in raw_skus):
            raise ConfigError(path, f"{where}.skus", "expected a list of objects")
        try:
            skus = [BuildOrBuySku(**s) for s in raw_skus]
            out = cls(**{**d, "skus": skus})
        except TypeError as e:
            raise ConfigError(path, where, f"malformed ({e})") from None
        for k in ("provider", "model", "tier", "source"):
            _text(getattr(out, k), path, f"{where}.{k}")
        _date(out.date, path, f"{where}.date")
        for i, s in enumerate(skus):
            _text(s.sku, path, f"{where}.skus[{i}].sku", max_chars=200)
        for k in ("usd_per_million_input_tokens", "usd_per_million_output_tokens", "blended_usd_per_million_tokens",
                  "plan_tokens_per_month"):
            _number(getattr(out, k), path, f"{where}.{k}", False)
        for i, s in enumerate(skus):
            for k in ("usd_per_month", "break_even_tokens_per_month", "break_even_qps"):
                _number(getattr(s, k), path, f"{where}.skus[{i}].{k}", False)
            for k in ("capacity_tokens_per_month", "capacity_qps"):
                _number(getattr(s, k), path, f"{where}.skus[{i}].{k}")
        return out
