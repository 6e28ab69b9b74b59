"""One telemetry reading of one device, in base units with the unit in each field name."""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field

FIELDS = (
    "device_name",
    "memory_total_bytes",
    "memory_used_bytes",
    "power_w",
    "energy_j",
    "gpu_util_pct",
    "memory_util_pct",
    "sm_clock_mhz",
    "memory_clock_mhz",
)


@dataclass
class TelemetrySample:
    """A reading; a field the device, driver or library cannot give is None (see `notes`).

    energy_j is the device's cumulative energy counter (since driver load on NVIDIA), not the
    energy of a window: subtract two readings (see telemetry.energy)."""

    vendor: str  # nvidia | amd | cpu
    index: int
    device_name: str | None = None
    memory_total_bytes: int | None = None
    memory_used_bytes: int | None = None
    power_w: float | None = None
    energy_j: float | None = None
    gpu_util_pct: float | None = None
    memory_util_pct: float | None = None
    sm_clock_mhz: float | None = None
    memory_clock_mhz: float | None = None
    timestamp_s: float = field(default_factory=time.time)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def as_number(value) -> float | None:
    """A vendor value as a float, or None for 'N/A', empty, non-numeric or non-finite values."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip().split()[0])
        except (ValueError, IndexError):
            return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None
