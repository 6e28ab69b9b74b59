"""The serving calibration of one GPU fitted on benchmark records (points.Batch), by robust least
squares (robust.fit) on the log errors of throughput per GPU, tokens/s per user and TTFT:

    step_time_scale           always fitted (log scale)
    host_overhead_s_per_step  fitted where the runs pin it down (standard error <= HOST_SE_MAX_S)
    prefill_time_scale        fitted where the runs pin it down (standard error of its log <=
                              LOG_SE_MAX): needs TTFT, or runs whose input / output ratios differ

A parameter the runs do not pin down keeps its prior (the shipped calibration of the GPU, or 1)
and says so; the least determined optional one is dropped first and the fit rerun.
Leave-one-out: each record is left out in turn, the same parameters refitted on the rest (from
the full fit) and the record predicted; its residuals (measured / predicted - 1) make the
ErrorBand (catalog.calibration.error_band) the profile stores. scripts/fit_serving.py can call fit_gpu on the
"fit" split to refit moeprof/data/serving_calibration.json the same way.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field

import numpy as np

from ..catalog.calibration import error_band
from ..catalog.calibration.serving import ServingCalibration
from ..errors import MoeprofError
from . import robust
from .points import BAND_METRIC, Batch, Point, relative_residual

NAMES = ("step_time_scale", "host_overhead_s_per_step", "prefill_time_scale")
OPTIONAL = ("host_overhead_s_per_step", "prefill_time_scale")
# internal coordinates: log scale, host time in ms, log prefill scale
LO = np.array([math.log(0.05), 0.0, math.log(0.05)])
HI = np.array([math.log(20.0), 50.0, math.log(20.0)])
STEPS = np.array([1e-4, 1e-3, 1e-4])
LOG_SE_MAX = 0.25  # a scale known within +-25 % (one standard error) is pinned down
HOST_SE_MAX_S = 1e-3  # host time known within +-1 ms per step
MIN_BAND_RUNS = 5  # independent runs a leave-one-out band needs (fewer: the band is marked not quantified)
SCALE_FLOOR = 1e-3  # residual scale floor of the Huber weights (0.1 %: the model's own precision)


def to_values(theta) -> dict[str, float]:
    return {"step_time_scale": math.exp(float(theta[0])), "host_overhead_s_per_step": float(theta[1]) / 1e3,
            "prefill_time_scale": math.exp(float(theta[2]))}


def to_theta(values: dict) -> np.ndarray:
    return np.array([math.log(values["step_time_scale"]), values["host_overhead_s_per_step"] * 1e3,
                     math.log(values["prefill_time_scale"])])


def std_errors(theta, se) -> dict[str, float | None]:
    """Standard errors in the parameters' own units (a log's error times the value)."""
    v = to_values(theta)
    out = {}
    for i, name in enumerate(NAMES):
        if not math.isfinite(se[i]):
            out[name] = None
        elif name == "host_overhead_s_per_step":
            out[name] = float(se[i]) / 1e3
        else:
            out[name] = v[name] * float(se[i])
    return out


def _pinned(name: str, se_internal: float) -> bool:
    if not math.isfinite(se_internal):
        return False
    return se_internal <= (HOST_SE_MAX_S * 1e3 if name == "host_overhead_s_per_step" else LOG_SE_MAX)


@dataclass
class GpuFit:
    gpu: str
    values: dict[str, float]
    std_error: dict[str, float | None]
    fitted: dict[str, bool]
    why_fixed: dict[str, str]
    points: list[Point]
    n_obs: int
    converged: bool
    in_sample: dict[str, list[float]]  # band metric -> residuals (measured / predicted - 1)
    loo: dict[str, list[float]] = field(default_factory=dict)
    band: error_band.ErrorBand = error_band.NOT_QUANTIFIED

    def calibration(self, source: str = "") -> ServingCalibration:
        return ServingCalibration(self.gpu, self.values["step_time_scale"], self.values["host_overhead_s_per_step"],
                                  source or f"fitted on {len(self.points)} serving runs", self.values["prefill_time_scale"],
                                  self.band)


def residuals_of(batch: Batch, values: dict, rows=None) -> dict[str, list[float]]:
    """Band metric -> measured / predicted - 1 of the observations of `rows` (point indices; all)."""
    pred = batch.predict(values["step_time_scale"], values["host_overhead_s_per_step"], values["prefill_time_scale"])
    keep = None if rows is None else set(int(i) for i in rows)
    out: dict[str, list[float]] = {}
    for (i, k, v) in batch.obs:
        if keep is None or i in keep:
            out.setdefault(BAND_METRIC[k], []).append(relative_residual(k, float(pred[k][i]), v))
    return out


def _solve(batch: Batch, theta0, free, mask=None) -> robust.RobustFit:
    obs_keep = np.ones(len(batch.obs), dtype=bool) if mask is None else mask

    def fun_many(thetas):  # the log errors of each row of thetas (to_values of every row, as arrays)
        t = np.asarray(thetas, dtype=float)
        return batch.log_errors_many(np.exp(t[:, 0]), t[:, 1] / 1e3, np.exp(t[:, 2]))[:, obs_keep]

    return robust.fit(lambda theta: fun_many(np.asarray(theta)[None, :])[0], theta0, LO, HI, STEPS, free,
                      scale_floor=SCALE_FLOOR, fun_many=fun_many)


def fit_gpu(points: list[Point], prior: ServingCalibration, fit_optional=OPTIONAL, loo: bool = True,
            progress=None) -> GpuFit:
    """Fit one GPU's calibration on its points; `prior` gives the values of what is not fitted
    (its host time None: 0). `fit_optional` names the optional parameters to try."""
    if not points:
        raise MoeprofError("no benchmark record to fit")
    gpus = {p.rec.gpu for p in points}
    if gpus != {prior.gpu}:
        raise MoeprofError(f"records of {', '.join(sorted(gpus))} cannot fit one calibration of {prior.gpu}")
    say = progress or (lambda msg: None)
    batch = Batch(points)
    start = {"step_time_scale": prior.step_time_scale, "host_overhead_s_per_step": prior.host_overhead_s_per_step or 0.0,
             "prefill_time_scale": prior.prefill_time_scale}
    theta0 = np.clip(to_theta(start), LO, HI)
    free = np.array([True] + [n in fit_optional for n in OPTIONAL])
    why = {n: "not requested" for n in OPTIONAL if n not in fit_optional}
    while True:
        if len(batch.obs) < int(free.sum()) + 2:
            drop = [i for i in (2, 1) if free[i]]
            if not drop:
                raise MoeprofError(f"{prior.gpu}: {len(batch.obs)} measured figures cannot fit a calibration (need 3)")
            free[drop[0]] = False
            why[NAMES[drop[0]]] = "too few measured figures"
            continue
        # two starts of the scale (the prior's and the model's own) against a local minimum
        fits = [_solve(batch, t, free) for t in (theta0, np.where(np.arange(3) == 0, 0.0, theta0))]
        res = min(fits, key=lambda f: robust.huber_loss(f.residuals, f.scale))
        loose = [(res.std_error[i] / (LOG_SE_MAX if i != 1 else HOST_SE_MAX_S * 1e3) if math.isfinite(res.std_error[i]) else math.inf, i)
                 for i in (1, 2) if free[i] and not _pinned(NAMES[i], res.std_error[i])]
        if not loose:
            break
        _, i = max(loose)
        free[i] = False
        why[NAMES[i]] = "not pinned down by these runs (standard error too large): kept at the prior"
        say(f"{prior.gpu}: {NAMES[i]} not pinned down, refitting without it")
    values = to_values(res.theta)
    out = GpuFit(prior.gpu, values, std_errors(res.theta, res.std_error), {n: bool(free[i]) for i, n in enumerate(NAMES)},
                 why, points, len(batch.obs), res.converged, residuals_of(batch, values))
    if loo:
        _leave_one_out(out, batch, res.theta, free, say)
    return out


def _leave_one_out(out: GpuFit, batch: Batch, theta, free, say) -> None:
    n = len(batch.points)
    resid: dict[str, list[float]] = {}
    for i in range(n):
        if i and i % 10 == 0:
            say(f"{out.gpu}: leave-one-out {i}/{n}")
        mask = batch.obs_point != i
        if not mask.any() or mask.all():
            continue
        r = _solve(batch, theta, free, mask)
        for k, v in residuals_of(batch, to_values(r.theta), [i]).items():
            resid.setdefault(k, []).extend(v)
    out.loo = resid
    if n < MIN_BAND_RUNS:
        out.band = error_band.ErrorBand({}, error_band.DEFAULT_QUANTILES, n, (
            f"not quantified: {n} independent benchmark run(s) of {out.gpu}, a band needs at least {MIN_BAND_RUNS} "
            "(duplicate runs count once)"))
        return
    out.band = error_band.from_residuals(
        {k: v for k, v in resid.items() if k in error_band.METRICS},
        f"leave-one-out residuals of the serving calibration of {out.gpu} on {n} benchmark runs")


def median_abs_pct(residuals: dict[str, list[float]]) -> dict[str, float | None]:
    """Band metric -> median |residual| in percent (None when there is none)."""
    out = {}
    for k, v in residuals.items():
        a = [abs(x) for x in v if math.isfinite(x)]
        out[k] = round(100.0 * statistics.median(a), 2) if a else None
    return out
