"""Device telemetry: one interface over NVIDIA (nvidia-ml-py), AMD (amdsmi) and the host CPU.

    from moeprof.telemetry import open_backend
    b = open_backend()            # nvidia, else amd, else cpu; checked once per process
    s = b.sample(0)               # TelemetrySample: memory_total_bytes, power_w, energy_j, ...

A missing library, driver or field gives None and a note, never an exception. No torch here."""

from .base import TelemetryBackend
from .detect import VENDORS, backend, open_backend, reset, unavailable_notes
from .energy import EnergyMeter, EnergyReading, PowerSampler
from .recorder import TelemetryRecorder
from .sample import FIELDS, TelemetrySample

__all__ = [
    "FIELDS",
    "VENDORS",
    "EnergyMeter",
    "EnergyReading",
    "PowerSampler",
    "TelemetryBackend",
    "TelemetryRecorder",
    "TelemetrySample",
    "backend",
    "open_backend",
    "reset",
    "unavailable_notes",
]
