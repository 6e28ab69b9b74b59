"""Error band: how far a predicted figure may be from what the deployment measures, taken from
the residuals of a calibration (measured vs predicted on serving runs kept for that purpose).

A residual is the relative error of the prediction, r = measured / predicted - 1. The band keeps
the ``quantiles`` (default the 10th and 90th percentile) of the residuals of each metric:

    ttft_ms, tpot_ms      latency: the pessimistic edge is predicted x (1 + hi)
    throughput            request / token throughput and QPS capacity: pessimistic is
                          predicted x (1 + lo)

Stored in a calibration or profile as

    "error_band": {"quantiles": [0.1, 0.9], "n_records": 45, "source": "...",
                   "metrics": {"tpot_ms": {"lo": -0.08, "hi": 0.12, "n": 45}, ...}}
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

METRICS = ("ttft_ms", "tpot_ms", "throughput")
LATENCY_METRICS = ("ttft_ms", "tpot_ms")
DEFAULT_QUANTILES = (0.1, 0.9)


@dataclass(frozen=True)
class MetricBand:
    lo: float  # relative: measured / predicted - 1 at the lower quantile
    hi: float  # at the upper quantile
    n: int

    def bounds(self, predicted: float) -> tuple[float, float]:
        """(low, high) of a predicted value; infinite and NaN values pass through."""
        if not math.isfinite(predicted):
            return predicted, predicted
        return predicted * (1.0 + self.lo), predicted * (1.0 + self.hi)


@dataclass(frozen=True)
class ErrorBand:
    metrics: dict[str, MetricBand] = field(default_factory=dict)
    quantiles: tuple[float, float] = DEFAULT_QUANTILES
    n_records: int = 0
    source: str = "not quantified"

    @property
    def quantified(self) -> bool:
        return bool(self.metrics)

    def band(self, metric: str) -> MetricBand | None:
        return self.metrics.get(metric)

    def bounds(self, metric: str, predicted: float) -> tuple[float, float]:
        b = self.metrics.get(metric)
        return b.bounds(predicted) if b else (predicted, predicted)

    def pessimistic(self, metric: str, predicted: float) -> float:
        """The edge a buyer plans for: higher latency, lower throughput."""
        lo, hi = self.bounds(metric, predicted)
        return hi if metric in LATENCY_METRICS else lo

    def to_json(self) -> dict:
        return {
            "quantiles": list(self.quantiles),
            "n_records": self.n_records,
            "source": self.source,
            "metrics": {k: {"lo": v.lo, "hi": v.hi, "n": v.n} for k, v in self.metrics.items()},
        }


NOT_QUANTIFIED = ErrorBand()


def _quantile(sorted_values: list[float], q: float) -> float:
    """Linear interpolation between order statistics (numpy's default)."""
    pos = q * (len(sorted_values) - 1)
    i = int(math.floor(pos))
    j = min(i + 1, len(sorted_values) - 1)
    return sorted_values[i] + (sorted_values[j] - sorted_values[i]) * (pos - i)


def from_residuals(residuals: dict[str, list[float]], source: str,
                   quantiles: tuple[float, float] = DEFAULT_QUANTILES) -> ErrorBand:
    """A band from relative residuals (measured / predicted - 1) per metric, the quantiles as they
    are: a biased model's band need not contain 0 (its prediction), and says so."""
    q_lo, q_hi = quantiles
    if not 0.0 <= q_lo < q_hi <= 1.0:
        raise ValueError(f"quantiles must satisfy 0 <= lo < hi <= 1, got {quantiles}")
    metrics = {}
    n_records = 0
    for name, values in residuals.items():
        if name not in METRICS:
            raise ValueError(f"unknown error-band metric {name!r} (known: {', '.join(METRICS)})")
        vals = sorted(v for v in values if math.isfinite(v))
        if not vals:
            continue
        lo, hi = _quantile(vals, q_lo), _quantile(vals, q_hi)
        metrics[name] = MetricBand(lo, hi, len(vals))
        n_records = max(n_records, len(vals))
    return ErrorBand(metrics, (q_lo, q_hi), n_records, source)


def from_json(d: dict | None) -> ErrorBand:
    """Parse the stored form; an absent band is NOT_QUANTIFIED. Raises ValueError on a bad one."""
    if not d:
        return NOT_QUANTIFIED
    if not isinstance(d, dict):
        raise ValueError("error_band must be an object")
    q = d.get("quantiles", list(DEFAULT_QUANTILES))
    if not (isinstance(q, list) and len(q) == 2 and all(isinstance(x, (int, float)) for x in q)
            and 0.0 <= q[0] < q[1] <= 1.0):
        raise ValueError("error_band.quantiles must be two numbers 0 <= lo < hi <= 1")
    metrics = {}
    for name, m in (d.get("metrics") or {}).items():
        if name not in METRICS:
            raise ValueError(f"error_band.metrics: unknown metric {name!r}")
        try:
            lo, hi, n = float(m["lo"]), float(m["hi"]), int(m.get("n", 0))
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"error_band.metrics.{name} needs numbers lo and hi") from None
        if not (math.isfinite(lo) and math.isfinite(hi) and -1.0 < lo <= hi <= 100.0):
            raise ValueError(f"error_band.metrics.{name}: need -1 < lo <= hi <= 100, got {lo}, {hi}")
        metrics[name] = MetricBand(lo, hi, n)
    return ErrorBand(metrics, (float(q[0]), float(q[1])), int(d.get("n_records", 0)), str(d.get("source", "")))
