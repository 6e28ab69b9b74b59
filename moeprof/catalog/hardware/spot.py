"""What is known of Spot VM eviction (moeprof/data/prices/spot.json): the notice Azure gives and
where its eviction rates are (moeprof holds none)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

from ...inputs import parse_json_text

_LABEL = "moeprof/data/prices/spot.json"


@dataclass(frozen=True)
class SpotEviction:
    notice_s: float
    notice_source: str
    rates: str
    rates_source: str

    def note(self) -> str:
        return (f"evictable with {self.notice_s:g} s notice, {self.notice_source}; eviction rates: {self.rates}, "
                f"{self.rates_source}")


@cache
def spot_eviction() -> SpotEviction:
    text = (resources.files("moeprof") / "data" / "prices" / "spot.json").read_text(encoding="utf-8")
    e = parse_json_text(text, _LABEL)["eviction"]
    return SpotEviction(float(e["notice_s"]), str(e["notice_source"]), str(e["rates"]), str(e["rates_source"]))
