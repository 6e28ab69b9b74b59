"""Telemetry over time: a daemon thread that samples one device every `interval_s` and keeps
the readings as profile rows ({"probe": "telemetry", "timestamp_s", "phase", power_w, ...}).

    rec = TelemetryRecorder(backend, index, interval_s=0.25).start()
    rec.phase = "gemm"          # label the samples with what is running
    rows = rec.stop()
"""

from __future__ import annotations

import threading
import time

from .base import TelemetryBackend
from .sample import FIELDS

SERIES = tuple(f for f in FIELDS if f != "device_name")


class TelemetryRecorder:
    def __init__(self, backend: TelemetryBackend, index: int = 0, interval_s: float = 0.25, max_rows: int = 4000):
        self.backend, self.index = backend, index
        self.interval_s, self.max_rows = interval_s, max_rows
        self.phase = ""
        self.rows: list[dict] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="moeprof-telemetry", daemon=True)

    def sample_row(self) -> dict:
        row = {"probe": "telemetry", "timestamp_s": time.time(), "index": self.index, "vendor": self.backend.vendor, "phase": self.phase}
        for name in SERIES:
            row[name] = self.backend.read(self.index, name)
        return row

    def _loop(self):
        while not self._stop.is_set() and len(self.rows) < self.max_rows:
            try:
                self.rows.append(self.sample_row())
            except Exception:  # a reading never stops the probes
                pass
            self._stop.wait(self.interval_s)

    def start(self) -> TelemetryRecorder:
        if self.backend.available:
            self._thread.start()
        return self

    def stop(self) -> list[dict]:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        if self.backend.available and len(self.rows) < self.max_rows:
            self.rows.append(self.sample_row())  # the state at the end
        return self.rows
