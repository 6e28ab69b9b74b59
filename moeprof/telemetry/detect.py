"""Which telemetry backend answers on this machine; checked once per process.

`open_backend('auto')` tries NVML, then amdsmi, then falls back to the host CPU backend (which
always answers, with None for what it cannot read). `reset()` forgets the cached answer."""

from __future__ import annotations

import threading

from .amd import AmdSmiBackend
from .base import TelemetryBackend
from .host import HostBackend
from .nvidia import NvmlBackend

VENDORS = ("nvidia", "amd", "cpu")
_cache: dict[str, TelemetryBackend] = {}
_lock = threading.Lock()


def _make(vendor: str) -> TelemetryBackend:
    if vendor == "nvidia":
        return NvmlBackend()
    if vendor == "amd":
        return AmdSmiBackend()
    if vendor == "cpu":
        return HostBackend()
    raise ValueError(f"unknown telemetry vendor {vendor!r} (known: {', '.join(VENDORS)})")


def backend(vendor: str) -> TelemetryBackend:
    """The backend for one vendor (created once; may be unavailable, see its notes)."""
    with _lock:
        if vendor not in _cache:
            _cache[vendor] = _make(vendor)
        return _cache[vendor]


def open_backend(vendor: str = "auto") -> TelemetryBackend:
    """'auto': the first GPU backend that is available, else the host CPU backend."""
    if vendor != "auto":
        return backend(vendor)
    for v in ("nvidia", "amd"):
        b = backend(v)
        if b.available:
            return b
    return backend("cpu")


def unavailable_notes() -> list[str]:
    """Why each GPU backend is unavailable (for `moeprof telemetry`)."""
    out = []
    for v in ("nvidia", "amd"):
        b = backend(v)
        if not b.available:
            out += [f"{v}: {n}" for n in b.notes]
    return out


def reset() -> None:
    with _lock:
        for b in _cache.values():
            b.close()
        _cache.clear()
