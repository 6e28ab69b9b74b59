"""Energy of a window of device work.

With an energy counter (NVIDIA mJ counter, AMD accumulator, RAPL): the counter delta between a
device sync at the start and a device sync at the end. Without one but with a power reading:
power sampled in a background thread and integrated (trapezoid). Neither: energy None + a note.

    with EnergyMeter(backend, index, sync=torch.cuda.synchronize) as m:
        run_burst()
    m.result.energy_j, m.result.seconds, m.result.mean_power_w
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from .base import TelemetryBackend


@dataclass
class EnergyReading:
    seconds: float
    energy_j: float | None
    method: str | None  # "counter" | "power_sampling" | None
    samples: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def mean_power_w(self) -> float | None:
        if self.energy_j is None or self.seconds <= 0:
            return None
        return self.energy_j / self.seconds

    def to_dict(self) -> dict:
        return {
            "seconds": self.seconds,
            "energy_j": self.energy_j,
            "mean_power_w": self.mean_power_w,
            "energy_method": self.method,
            "power_samples": self.samples,
            "notes": list(self.notes),
        }


class PowerSampler:
    """Samples power_w every `interval_s` in a daemon thread; integrates to joules."""

    def __init__(self, backend: TelemetryBackend, index: int, interval_s: float = 0.02):
        self.backend, self.index, self.interval_s = backend, index, interval_s
        self.points: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="moeprof-power-sampler", daemon=True)

    def _loop(self):
        while not self._stop.is_set():
            p = self.backend.power_w(self.index)
            if p is not None:
                self.points.append((time.perf_counter(), p))
            self._stop.wait(self.interval_s)

    def start(self):
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def energy_j(self, t0: float, t1: float) -> float | None:
        """Trapezoid integral over [t0, t1], holding the first / last sample flat at the ends."""
        pts = [(t, p) for t, p in self.points]
        if not pts:
            return None
        pts = [(t0, pts[0][1])] + [(t, p) for t, p in pts if t0 < t < t1] + [(t1, pts[-1][1])]
        return sum((b[0] - a[0]) * (a[1] + b[1]) / 2 for a, b in zip(pts, pts[1:]))


class EnergyMeter:
    def __init__(self, backend: TelemetryBackend, index: int = 0, sync=None, interval_s: float = 0.02):
        self.backend, self.index = backend, index
        self.sync = sync or (lambda: None)
        self.interval_s = interval_s
        self.result: EnergyReading | None = None
        self._sampler: PowerSampler | None = None

    def __enter__(self):
        self.sync()
        self._e0 = self.backend.energy_j(self.index)
        if self._e0 is None and self.backend.power_w(self.index) is not None:
            self._sampler = PowerSampler(self.backend, self.index, self.interval_s).start()
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, exc_type, exc, tb):
        self.sync()
        t1 = time.perf_counter()
        seconds = t1 - self._t0
        notes: list[str] = []
        if self._e0 is not None:
            e1 = self.backend.energy_j(self.index)
            if e1 is None:
                notes.append("energy counter stopped answering during the window")
                self.result = EnergyReading(seconds, None, None, notes=notes)
            elif e1 - self._e0 <= 0:
                notes.append("energy counter did not advance (unsupported on this device or VM guest)")
                self.result = EnergyReading(seconds, None, None, notes=notes)
            else:
                self.result = EnergyReading(seconds, e1 - self._e0, "counter")
        elif self._sampler is not None:
            self._sampler.stop()
            e = self._sampler.energy_j(self._t0, t1)
            notes.append("no energy counter: power sampled in a thread and integrated")
            self.result = EnergyReading(seconds, e, "power_sampling" if e is not None else None, len(self._sampler.points), notes)
        else:
            notes.append(f"no energy counter or power reading on this {self.backend.vendor} device")
            self.result = EnergyReading(seconds, None, None, notes=notes)
        return False
