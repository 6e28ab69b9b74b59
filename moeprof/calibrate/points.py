"""Benchmark records prepared for the fit: each record's step costs computed once by the
performance model with the serving calibration left out (scale 1, no host time), so a trial of the
calibration parameters only rescales them and reruns the scheduler's closed form (moeprof.serving)
over every record at once.

The parameters act on the step costs exactly as deployment.steps applies a ServingCalibration:
    decode steps x step_time_scale; token work and prompt attention x step_time_scale x
    prefill_time_scale; host time per step = host_overhead_s_per_step
(tests/calibrate checks that evaluate with the fitted calibration reproduces the fit's figures).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import serving
from ..catalog.calibration.serving import ServingCalibration
from ..deployment.evaluate import deployment_costs
from ..errors import MoeprofError
from .benchmarks import BenchRecord
from .records import deployment, fixed_lengths, load_of, measured, skip_reason

FIGURES = ("tput", "tput_total", "user", "ttft_ms")
BAND_METRIC = {"tput": "throughput", "tput_total": "throughput", "user": "tpot_ms", "ttft_ms": "ttft_ms"}
LOG_ERROR_CAP = 5.0  # a saturated or unstable prediction counts as a factor e^5 off


@dataclass
class Point:
    rec: BenchRecord
    costs: serving.StepCosts  # one row, unscaled
    workload: serving.Workload
    load: str  # "concurrency" | "qps"
    per_replica: float
    replicas: int
    gpus: int
    input_tokens: int
    output_tokens: int
    got: dict  # measured figures (records.measured)


def prepare(rec: BenchRecord, profile=None, known_models_only: bool = True) -> tuple[Point | None, str]:
    """(Point, "") or (None, why the record cannot be used)."""
    why = skip_reason(rec, known_models_only)
    if why:
        return None, why
    got = measured(rec)
    if not got:
        return None, "no throughput, TPOT or TTFT published"
    try:
        dep, I, O = deployment(rec, ServingCalibration(rec.gpu, 1.0, 0.0, "unscaled"), profile)
        if dep.gpus % (dep.tp * dep.pp):
            return None, f"{dep.gpus} GPUs do not split into tp x pp = {dep.tp * dep.pp}"
        c, slots, _ = deployment_costs(dep, I, O)
    except MoeprofError as e:
        return None, f"evaluate: {str(e)[:80]}"
    load, value = load_of(rec)
    n = rec.num_prompts / dep.replicas if rec.num_prompts and load == "concurrency" else np.inf  # the finite run's burst
    w = serving.Workload(np.array([float(I)]), np.array([float(O)]), np.array([float(dep.engine.max_num_batched_tokens)]),
                         np.array([slots]), np.array([n]), np.array([load == "concurrency" and fixed_lengths(rec)]))
    return Point(rec, c, w, load, value / dep.replicas, dep.replicas, dep.gpus, I, O, got), ""


class Batch:
    """Points stacked by (load kind, CUDA-graph sizes): one scheduler solve per group per trial."""

    def __init__(self, points: list[Point]):
        self.points = points
        groups: dict = {}
        for i, p in enumerate(points):
            key = (p.load, tuple(p.costs.capture_sizes) if p.costs.capture_sizes is not None else ())
            groups.setdefault(key, []).append(i)
        self.groups = []
        for (load, caps), idx in groups.items():
            ps = [points[i] for i in idx]
            stack = lambda f: np.concatenate([f(p) for p in ps])  # noqa: E731
            self.groups.append({
                "idx": np.array(idx), "load": load, "caps": np.array(caps, dtype=float) if caps else None,
                "s_dec": np.vstack([p.costs.s_dec for p in ps]), "g_tok": np.vstack([p.costs.g_tok for p in ps]),
                "attn": stack(lambda p: p.costs.attn_prompt_s),
                "path": {k: np.array([float(getattr(p.costs, k)) for p in ps])  # the serving path (catalog.serving_path)
                         for k in ("frontend_s", "cpu_s_per_input_token", "output_delay_steps", "prefill_apart")},
                "w": serving.Workload(stack(lambda p: p.workload.input_tokens), stack(lambda p: p.workload.output_tokens),
                                      stack(lambda p: p.workload.budget_tokens), stack(lambda p: p.workload.max_seqs),
                                      stack(lambda p: p.workload.num_prompts), stack(lambda p: p.workload.fixed_lengths)),
                "value": np.array([p.per_replica for p in ps]),
                "median_ttft": np.array(["median_ttft_ms" in p.rec.metrics for p in ps]),
            })
        self.replicas = np.array([p.replicas for p in points], dtype=float)
        self.gpus = np.array([p.gpus for p in points], dtype=float)
        self.I = np.array([p.input_tokens for p in points], dtype=float)
        self.O = np.array([p.output_tokens for p in points], dtype=float)
        # the observations: (point index, figure, measured value)
        self.obs = [(i, k, v) for i, p in enumerate(points) for k, v in p.got.items() if k in FIGURES]
        self.obs_point = np.array([i for i, _, _ in self.obs], dtype=int)
        self.obs_figure = [k for _, k, _ in self.obs]
        self.obs_value = np.array([v for _, _, v in self.obs], dtype=float)
        self.obs_columns = {f: np.flatnonzero(np.array(self.obs_figure) == f) for f in set(self.obs_figure)}  # figure -> its observations

    def predict(self, scale: float, host_s: float, prefill_scale: float) -> dict[str, np.ndarray]:
        """Predicted figures of every point (arrays; nan where the replica is saturated)."""
        return {k: v[0] for k, v in self.predict_many([scale], [host_s], [prefill_scale]).items()}

    def predict_many(self, scales, host_s, prefill_scales) -> dict[str, np.ndarray]:
        """predict of k parameter sets at once ([k, points] arrays): one scheduler solve per group
        over every (set, point) pair instead of k solves."""
        S, H, P = (np.atleast_1d(np.asarray(x, dtype=float)) for x in (scales, host_s, prefill_scales))
        k, n = len(S), len(self.points)
        lam, tpot, ttft = np.full((k, n), np.nan), np.full((k, n), np.nan), np.full((k, n), np.nan)
        for g in self.groups:
            m = len(g["idx"])
            rep = np.tile(np.arange(m), k)  # point of each (set, point) pair, set-major
            s, kp = np.repeat(S, m), np.repeat(S * P, m)
            c = serving.StepCosts(g["s_dec"][rep] * s[:, None], g["g_tok"][rep] * kp[:, None], g["attn"][rep] * kp,
                                  np.repeat(H, m), g["caps"], **{key: v[rep] for key, v in g["path"].items()})
            run = serving.closed_loop if g["load"] == "concurrency" else serving.open_loop
            pt = run(c, g["w"].take(rep), g["value"][rep])
            ok = pt.stable & np.isfinite(pt.tpot_s)
            lam[:, g["idx"]] = np.where(ok, pt.lam, np.nan).reshape(k, m)
            tpot[:, g["idx"]] = np.where(ok, pt.tpot_s, np.nan).reshape(k, m)
            ttft[:, g["idx"]] = np.where(ok, np.where(g["median_ttft"][rep], pt.ttft_median_s, pt.ttft_mean_s), np.nan).reshape(k, m)
        X = lam * self.replicas
        return {"tput": X * self.O / self.gpus, "tput_total": X * (self.I + self.O) / self.gpus,
                "user": 1.0 / tpot, "ttft_ms": ttft * 1e3}

    def predicted_obs_many(self, scales, host_s, prefill_scales) -> np.ndarray:
        """[k, observations] predicted values of k parameter sets."""
        pred = self.predict_many(scales, host_s, prefill_scales)
        out = np.full((len(np.atleast_1d(scales)), len(self.obs)), np.nan)
        for f, j in self.obs_columns.items():
            out[:, j] = pred[f][:, self.obs_point[j]]
        return out

    def log_errors(self, scale: float, host_s: float, prefill_scale: float) -> np.ndarray:
        """log(predicted / measured) of every observation, capped at +-LOG_ERROR_CAP."""
        return self.log_errors_many([scale], [host_s], [prefill_scale])[0]

    def log_errors_many(self, scales, host_s, prefill_scales) -> np.ndarray:
        """log_errors of k parameter sets ([k, observations])."""
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.log(self.predicted_obs_many(scales, host_s, prefill_scales) / self.obs_value)
        return np.clip(np.where(np.isfinite(r), r, LOG_ERROR_CAP), -LOG_ERROR_CAP, LOG_ERROR_CAP)


def relative_residual(figure: str, predicted: float, measured_value: float) -> float:
    """The error band's residual, measured / predicted - 1, of the band's metric (tokens/s per user
    becomes TPOT: measured TPOT / predicted TPOT - 1)."""
    if not (math.isfinite(predicted) and predicted > 0):
        return math.nan
    if figure == "user":
        return predicted / measured_value - 1.0
    return measured_value / predicted - 1.0
