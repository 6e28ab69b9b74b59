"""One VM price: USD per hour for the whole VM, where and when it was read, and its source."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Price:
    usd_per_hour: float
    region: str
    date: str
    estimate: bool
    source: str
    status: str = ""  # "api" | "reported by <who>" | "estimate" (catalog.hardware.price_file.entry_status); "": not said
