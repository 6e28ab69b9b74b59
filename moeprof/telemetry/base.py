"""The interface every telemetry backend (NVIDIA, AMD, host CPU) implements.

A backend checks availability once, in its constructor. Every field read goes through
`_read`, which turns any vendor error ("not supported", "N/A", a GPU lost mid-run) into None
plus a note naming the field, so a reading never raises."""

from __future__ import annotations

from .sample import FIELDS, TelemetrySample


class TelemetryBackend:
    vendor = "none"

    def __init__(self):
        self.available = False
        self.notes: list[str] = []  # why the backend is unavailable
        self.field_notes: dict[str, str] = {}  # field -> why it was last None
        self.driver_version: str | None = None

    # ---- to implement ------------------------------------------------------------------
    def device_count(self) -> int:
        return 0

    def _field(self, index: int, name: str):
        """Raw value of one field in base units, None if not reported (may raise)."""
        raise NotImplementedError

    # ---- shared ------------------------------------------------------------------------
    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def _read(self, index: int, name: str):
        try:
            value = self._field(index, name)
        except Exception as e:  # vendor libraries raise their own types, ctypes or OS errors
            msg = str(e).strip()
            self.field_notes[name] = f"unavailable ({type(e).__name__}{': ' + msg if msg else ''})"
            return None
        if value is None:
            self.field_notes.setdefault(name, "not reported by the device or driver")
        else:
            self.field_notes.pop(name, None)
        return value

    def read(self, index: int, name: str):
        """One field, or None if this backend or device cannot give it."""
        if not self.available or not 0 <= index < self.device_count():
            return None
        return self._read(index, name)

    def energy_j(self, index: int = 0) -> float | None:
        return self.read(index, "energy_j")

    def power_w(self, index: int = 0) -> float | None:
        return self.read(index, "power_w")

    def memory_used_bytes(self, index: int = 0) -> int | None:
        return self.read(index, "memory_used_bytes")

    def sample(self, index: int = 0) -> TelemetrySample:
        s = TelemetrySample(vendor=self.vendor, index=index)
        if not self.available or not 0 <= index < self.device_count():
            s.notes = list(self.notes) or [f"no {self.vendor} device {index}"]
            return s
        for name in FIELDS:
            setattr(s, name, self._read(index, name))
        s.notes = [f"{n}: {self.field_notes[n]}" for n in FIELDS if getattr(s, n) is None and n in self.field_notes]
        return s

    def samples(self) -> list[TelemetrySample]:
        return [self.sample(i) for i in range(self.device_count())]

    def index_for_uuid(self, uuid: str | None, fallback: int) -> int:
        """This backend's index for a device UUID (as torch reports it), else `fallback`."""
        return fallback

    def close(self) -> None:
        pass
