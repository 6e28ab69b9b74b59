"""What every probe gets: device, settings, shapes, telemetry, a timer, progress, and `case`,
which runs one measurement and turns OOM, a failed check or an exhausted time budget into a
recorded row instead of an exception."""

from __future__ import annotations

import sys
import time
import traceback

from ..catalog.models import ModelSpec
from ..telemetry.base import TelemetryBackend
from .device import DeviceInfo
from .settings import BUDGET_SHARES, ProbeSettings
from .shapes import ProbeShapes
from .tensors import ProbeCheckError, is_oom
from .timing import Timing, time_op


def stderr_progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class ProbeContext:
    def __init__(
        self,
        settings: ProbeSettings,
        dev: DeviceInfo,
        spec: ModelSpec,
        shapes: ProbeShapes,
        telemetry: TelemetryBackend,
        telemetry_index: int = 0,
        progress=stderr_progress,
    ):
        self.settings, self.dev, self.spec, self.shapes = settings, dev, spec, shapes
        self.telemetry, self.telemetry_index = telemetry, telemetry_index
        self._progress = progress or (lambda msg: None)
        self.rows: list[dict] = []
        self.t_start = time.perf_counter()
        self.deadline: float | None = None
        self.probe: str = ""
        self._seed = settings.seed

    # ---- budget and progress -------------------------------------------------------------
    def elapsed_s(self) -> float:
        return time.perf_counter() - self.t_start

    def begin(self, probe: str, remaining: list[str]) -> None:
        """Start a probe; its deadline is its share of the budget left, among the probes left."""
        self.probe = probe
        if self.settings.budget_s is None:
            self.deadline = None
            return
        left = self.settings.budget_s - self.elapsed_s()
        shares = sum(BUDGET_SHARES[p] for p in remaining) or 1.0
        self.deadline = time.perf_counter() + max(left, 0.0) * BUDGET_SHARES[probe] / shares

    def time_left_s(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.perf_counter()

    def progress(self, msg: str) -> None:
        self._progress(f"[{self.elapsed_s():6.1f}s] {msg}")

    def next_seed(self) -> int:
        self._seed += 1
        return self._seed

    # ---- measuring ------------------------------------------------------------------------
    def time(self, fn, **kw) -> Timing:
        s = self.settings
        kw.setdefault("warmup", s.warmup)
        kw.setdefault("repeats", s.repeats)
        kw.setdefault("target_ms", s.target_ms)
        return time_op(fn, self.dev, **kw)

    def case(self, probe: str, params: dict, fn, label: str | None = None, summary=None) -> dict:
        """Run one measurement: `fn()` returns a dict of results merged over `params`.

        Out of memory -> error 'oom'; a failed reference check -> 'check_failed'; no time left
        in this probe's share of the budget -> 'skipped_time_budget'; any other exception ->
        its type and message. The row is recorded either way and the probe goes on."""
        row = {"probe": probe, **params}
        label = label or " ".join(f"{k}={v}" for k, v in params.items())
        left = self.time_left_s()
        if left is not None and left <= 0:
            row["error"] = "skipped_time_budget"
            self.rows.append(row)
            return row
        try:
            row.update(fn())
        except KeyboardInterrupt:
            raise
        except ProbeCheckError as e:
            row.update(error="check_failed", detail=str(e))
        except Exception as e:
            if is_oom(e):
                row.update(error="oom", detail=str(e).splitlines()[0][:300])
            else:
                tb = traceback.extract_tb(e.__traceback__)
                where = f" at {tb[-1].name}:{tb[-1].lineno}" if tb else ""
                row.update(error=type(e).__name__, detail=(str(e).splitlines() or [""])[0][:300] + where)
            self.dev.empty_cache()
        self.rows.append(row)
        if "error" in row:
            self.progress(f"{probe} {label}: {row['error']} {row.get('detail', '')}".rstrip())
        else:
            self.progress(f"{probe} {label}: {summary(row) if summary else _default_summary(row)}")
        return row


def _default_summary(row: dict) -> str:
    parts = []
    if "ms" in row:
        parts.append(f"{row['ms']:.4g} ms")
    for key, unit, scale in (
        ("flop_per_s", "TFLOP/s", 1e12),
        ("bytes_per_s", "GB/s", 1e9),
        ("bus_bytes_per_s", "GB/s bus", 1e9),
    ):
        if row.get(key):
            parts.append(f"{row[key] / scale:.4g} {unit}")
    return ", ".join(parts) or "ok"
