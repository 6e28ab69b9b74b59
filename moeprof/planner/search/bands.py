"""Stage 3b of the search: the error band on every row's predicted figures.

Each GPU's band (catalog.calibration.error_band_for: a profile's own, else the catalog's) holds
the 10th-90th percentile of the relative residuals measured / predicted - 1 of the serving
calibration on published runs, per metric. Per row:

    ttft_low_ms .. ttft_high_ms          TTFT at the target QPS x (1 + lo .. 1 + hi) of TTFT
    tpot_low_ms .. tpot_high_ms          the same with the TPOT band
    qps_capacity_low .. _high            capacity x (1 + lo .. 1 + hi) of throughput: a deployment
                                         that runs slower than predicted serves fewer req/s at
                                         the same latency targets
    vms_low .. vms_high                  VMs the target QPS needs at the optimistic and at the
                                         pessimistic capacity of one unit (deployment.replicas:
                                         a VM with every replica that fits, or the VMs one
                                         replica spans), in whole units, K more for
                                         --redundancy N+K
    headroom                             qps_capacity_low / QPS - 1

    ttft_idle_high_ms, tpot_idle_high_ms the unloaded latencies at the band's high edge

The latency targets are checked at the band's pessimistic (high) edge: TTFT x (1 + hi) and TPOT
x (1 + hi) must meet them, unloaded, at the target QPS, and in the capacity search (serve_rows with
latency_edges). The band is the residuals as they are: a model that predicts too slow has hi < 0
and the check is then looser than the point. The headroom target (Targets.headroom) is checked
against qps_capacity_low (planner.search.verdicts), the throughput band on top of a capacity
already found at the latency band's edge: where both bands hold the same error of the model's
speed, that counts it twice (on the safe side).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ...catalog.calibration.error_band import ErrorBand
from ...catalog.calibration.serving import error_band_for
from ...deployment.replicas import units_for
from ..document.targets import Targets


def gpu_bands(vms: dict, profiles: dict) -> dict[str, ErrorBand]:
    """The error band of each GPU the VMs have."""
    out = {}
    for vm in vms.values():
        g = vm.gpu
        if g.key not in out:
            out[g.key] = error_band_for(g.key, g.vendor, profiles.get(g.key))
    return out


def _edges(gpus: pd.Series, bands: dict[str, ErrorBand], metric: str) -> tuple[np.ndarray, np.ndarray]:
    """(1 + lo, 1 + hi) of `metric` for each row's GPU (1, 1 where its band lacks the metric)."""
    lo = {g: 1.0 + (b.band(metric).lo if b.band(metric) else 0.0) for g, b in bands.items()}
    hi = {g: 1.0 + (b.band(metric).hi if b.band(metric) else 0.0) for g, b in bands.items()}
    return _per_row(gpus, lo, 1.0), _per_row(gpus, hi, 1.0)


def _per_row(col: pd.Series, values: dict, missing) -> np.ndarray:
    """values[key] for each row's key: mapped once per distinct key (the columns are categorical)."""
    keys, codes = np.unique(col.astype(object).to_numpy(), return_inverse=True) if not isinstance(
        col.dtype, pd.CategoricalDtype) else (np.asarray(col.cat.categories, dtype=object), col.cat.codes.to_numpy())
    table = np.array([values.get(str(k), missing) for k in keys] + [missing], dtype=float)
    return table[np.where(np.asarray(codes) < 0, len(keys), codes)]


def latency_edges(bands: dict[str, ErrorBand]) -> dict[str, tuple[float, float]]:
    """GPU -> (1 + hi of TTFT, 1 + hi of TPOT): the factor from a predicted latency to the band's pessimistic edge."""
    return {g: tuple(1.0 + (b.band(m).hi if b.band(m) else 0.0) for m in ("ttft_ms", "tpot_ms")) for g, b in bands.items()}


def add_bands(rows: pd.DataFrame, vms: dict, bands: dict[str, ErrorBand], targets: Targets) -> pd.DataFrame:
    """rows with the band columns of the module docstring."""
    gpus = rows.gpu
    for metric, col in (("ttft_ms", "ttft"), ("tpot_ms", "tpot")):
        lo, hi = _edges(gpus, bands, metric)
        v = rows[metric].to_numpy(dtype=float)
        rows[f"{col}_low_ms"], rows[f"{col}_high_ms"] = v * lo, v * hi
        rows[f"{col}_idle_high_ms"] = rows[f"{col}_idle_ms"].to_numpy(dtype=float) * hi
    lo, hi = _edges(gpus, bands, "throughput")
    cap = rows.qps_capacity.to_numpy(dtype=float)
    rows["qps_capacity_low"], rows["qps_capacity_high"] = cap * lo, cap * hi
    rows["headroom"] = cap * lo / targets.qps - 1.0

    per_unit = rows.qps_capacity_per_unit.to_numpy(dtype=float)
    unit_vms = rows.unit_vms.to_numpy(dtype=int)
    for col, edge in (("vms_low", hi), ("vms_high", lo)):
        rows[col] = units_for(targets.qps, per_unit * edge, targets.redundancy) * unit_vms  # N + K: K spare units
    return rows


def band_sources(bands: dict[str, ErrorBand]) -> dict:
    """The plan's record of each GPU's band (catalog.calibration.error_band's JSON form, with its source)."""
    return {g: b.to_json() for g, b in bands.items()}


# `moeprof evaluate`'s figures (deployment.evaluate) and the band metric of each; the tail
# percentile's keys are named by the percentile asked (p99, p90, p999: deployment.evaluate.tail_label).
EVALUATE_METRICS = {
    **{f"{s}_ttft_ms": "ttft_ms" for s in ("mean", "median")},
    **{f"{s}_{m}_ms": "tpot_ms" for s in ("mean", "median") for m in ("tpot", "itl")},
    **{k: "throughput" for k in ("request_throughput", "output_throughput", "total_token_throughput",
                                 "output_throughput_per_gpu", "total_token_throughput_per_gpu")},
}
_TAIL = re.compile(r"^p\d+_(ttft|tpot|itl)_ms$")


def evaluate_bands(row: dict, band: ErrorBand) -> dict[str, list[float] | None]:
    """{figure: [low, high]} of one `evaluate` row; tokens/s per user is 1000 / TPOT, so its band is
    the TPOT band inverted. None where the figure is not (saturated)."""
    out: dict[str, list[float] | None] = {}
    tails = {k: "ttft_ms" if m.group(1) == "ttft" else "tpot_ms" for k in row if (m := _TAIL.match(k))}
    for key, metric in {**EVALUATE_METRICS, **tails}.items():
        v = row.get(key)
        out[key] = list(band.bounds(metric, v)) if v is not None and np.isfinite(v) else None
    t = out.get("median_tpot_ms")
    out["tokens_per_s_per_user"] = [1000.0 / t[1], 1000.0 / t[0]] if t and row.get("tokens_per_s_per_user") and t[0] > 0 else None
    return out
