"""Costs of a self-hosted deployment beside its VMs (moeprof/data/prices/overheads.json): the
defaults of `--overhead`, each with its source or marked as an assumption.

    overhead_defaults()        the shipped defaults, as OverheadDefaults
    parse_overhead(text)       `--overhead 15%` (a share of the VM bill) or `--overhead 4000`
                               (USD per month), as OverheadSpec
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from importlib import resources

from ...errors import MoeprofError
from ...inputs import parse_json_text

_LABEL = "moeprof/data/prices/overheads.json"
MAX_SHARE = 10.0  # 1,000 % of the VM bill: far above any real overhead; a typo beyond it is refused
MAX_USD_PER_MONTH = 1e9


@dataclass(frozen=True)
class OverheadDefaults:
    disk_name: str
    disk_gib: float
    usd_per_disk_month: float
    disk_source: str
    egress_usd_per_gb: float
    egress_free_gb_per_month: float
    egress_source: str
    bytes_per_output_token: float
    bytes_per_output_token_source: str
    operations_share_of_compute: float
    operations_source: str


@dataclass(frozen=True)
class OverheadSpec:
    """What --overhead gave: a share of the VM bill, or USD per month; neither: the defaults."""

    share_of_compute: float | None = None
    usd_per_month: float | None = None
    text: str = ""  # as given ("" for the defaults)

    @property
    def is_default(self) -> bool:
        return self.share_of_compute is None and self.usd_per_month is None


def overhead_defaults() -> OverheadDefaults:
    return _defaults()


@cache
def _defaults() -> OverheadDefaults:
    text = (resources.files("moeprof") / "data" / "prices" / "overheads.json").read_text(encoding="utf-8")
    d = parse_json_text(text, _LABEL)
    s, e, o = d["storage"], d["egress"], d["operations"]
    return OverheadDefaults(
        disk_name=str(s["disk"]), disk_gib=float(s["disk_gib"]), usd_per_disk_month=float(s["usd_per_disk_month"]),
        disk_source=str(s["source"]), egress_usd_per_gb=float(e["usd_per_gb"]),
        egress_free_gb_per_month=float(e["free_gb_per_month"]), egress_source=str(e["source"]),
        bytes_per_output_token=float(e["bytes_per_output_token"]),
        bytes_per_output_token_source=str(e["bytes_per_output_token_source"]),
        operations_share_of_compute=float(o["share_of_compute"]), operations_source=str(o["source"]),
    )


def parse_overhead(text: str | None) -> OverheadSpec:
    """'15%' -> 15 % of the VM bill; '4000' -> USD 4,000 per month; None -> the defaults. One-line error otherwise."""
    if text is None:
        return OverheadSpec()
    t = str(text).strip()
    pct = t.endswith("%")
    try:
        v = float(t[:-1] if pct else t.lstrip("$").replace(",", ""))
    except ValueError:
        v = math.nan
    if not math.isfinite(v) or v < 0:
        raise MoeprofError(f"--overhead {text!r}: expected a percentage of the VM bill (15%) or USD per month (4000)")
    if pct:
        if v / 100 > MAX_SHARE:
            raise MoeprofError(f"--overhead {text!r}: at most {MAX_SHARE:.0%} of the VM bill")
        return OverheadSpec(share_of_compute=v / 100, text=t)
    if v > MAX_USD_PER_MONTH:
        raise MoeprofError(f"--overhead {text!r}: at most ${MAX_USD_PER_MONTH:,.0f} per month")
    return OverheadSpec(usd_per_month=v, text=t)
