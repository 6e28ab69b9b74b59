#!/usr/bin/env python3
"""Fit the serving calibration (moeprof/data/serving_calibration.json) on the "fit" split of the
published serving runs (moeprof/data/benchmarks: the Llama family):

    gpus.<gpu>.step_time_scale                 engine step GPU time / the performance model's
                                               (grid 0.70 .. 2.50), one per GPU
    engines.<engine>.host_overhead_s_per_step  host time per step the GPU waits for (grid 0 .. 8 ms),
                                               one per engine, shared by every GPU's runs (the
                                               scheduler is the engine's, not the GPU's)
    gpus.<gpu>.versions.<engine> <version>     step = step_floor_s + step_time_scale x the model's step,
                                               per (GPU, engine version) with at least MIN_VERSION_RUNS
                                               runs of two or more layouts (floor grid 0 .. 20 ms): a
                                               floor plus a slope where one scale cannot hold small
                                               and large steps at once; the floor (host and launch
                                               time) is one per (vendor, engine version), shared by
                                               that vendor's GPUs, the slope is each GPU's

minimising the mean |log(predicted / measured)| over throughput per GPU and tokens/s per user
(the median, which the bench reports, is flat in the host time over 0.5-3 ms on these runs, so it
leaves the host time and the scales undetermined; the mean is not): for each engine's host time on
the grid, each GPU's scale is its best; the host time is the one with the least mean over all of the
engine's runs. Every run is evaluated at its own engine version (serving path of
moeprof/data/serving_path.json). Validation records (other families) are never read. The fit split
publishes no TTFT (InferenceMAX chart data: end-to-end latency and interactivity only), so the
serving path's TTFT terms are not fitted here: they come from their sources. Keys of the file
this script does not own (e.g. gpus.<gpu>.error_band) are kept. Prints the fit and writes the file
with the residuals; then `python scripts/bench_accuracy.py` reports the error on both splits.

    python scripts/fit_serving.py [--dry-run]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_accuracy import VENDOR, deployment, fixed_lengths, measured, scope_of, skip_reason  # noqa: E402

from moeprof import serving  # noqa: E402
from moeprof.calibrate.benchmarks import load_records  # noqa: E402
from moeprof.catalog.calibration.serving import ServingCalibration  # noqa: E402
from moeprof.catalog.engine import sglang_scheduler  # noqa: E402
from moeprof.deployment.evaluate import deployment_costs  # noqa: E402
from moeprof.errors import MoeprofError  # noqa: E402
from moeprof.fileio import write_atomic  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "moeprof" / "data" / "serving_calibration.json"
SCALES = np.round(np.arange(0.70, 2.501, 0.05), 2)
HOSTS_MS = (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0)
OWNED_GPU_KEYS = ("step_time_scale", "host_overhead_s_per_step", "fit_records", "fit_median_abs_error_pct", "versions")
FLOORS_MS = tuple(float(x) for x in range(0, 21))
MIN_VERSION_RUNS = 20
# A GPU's scale needs this many runs: with fewer (one or two runs of one layout) the fit ends on the
# grid's edges. Left out of the published InferenceMAX chart data, the fit split keeps one vLLM run
# (an MI300X run of vllm_pr16674.json), whose fit was scale 2.5 and host 8 ms, both grid ends. A GPU
# with fewer runs is left uncalibrated and its runs do not set the engine's host time.
MIN_GPU_RUNS = 10


def prepared(rec):
    """(unscaled StepCosts, Workload, concurrency per replica, replicas, gpus, I, O, measured, engine
    default host s, "<engine> <version>", TP) or None."""
    if skip_reason(rec) or "concurrency" not in rec.load or scope_of(rec) != "current":
        return None  # the calibration describes current releases: older builds (eager-mode mains, unnamed versions) are scored apart
    got = measured(rec)
    if not got:
        return None
    try:
        dep, I, O = deployment(rec, ServingCalibration(rec.gpu, 1.0, 0.0, "unscaled"))
        c, slots, _ = deployment_costs(dep, I, O)
    except MoeprofError:
        return None
    w = serving.Workload(np.array([float(I)]), np.array([float(O)]), np.array([float(dep.engine.max_num_batched_tokens)]),
                         np.array([slots]), None, np.array([fixed_lengths(rec)]))
    return (c, w, rec.load["concurrency"] / dep.replicas, dep.replicas, dep.gpus, I, O, got, dep.engine.host_overhead_s_per_step,
            f"{rec.engine} {dep.engine.engine_version}", rec.tp)


class Runs:
    """Prepared runs of one engine stacked into arrays, so that one closed_loop call evaluates all
    of them at a (scale, host) per run."""

    def __init__(self, items: list, gpus: list[str]):
        cs = [it[0] for it in items]
        path = {k: np.array([float(getattr(c, k)) for c in cs]) for k in ("frontend_s", "cpu_s_per_input_token", "output_delay_steps",
                                                                                   "prefill_apart")}
        self.c = serving.StepCosts(np.concatenate([c.s_dec for c in cs]), np.concatenate([c.g_tok for c in cs]),
                                   np.concatenate([c.attn_prompt_s for c in cs]), np.zeros(len(items)), cs[0].capture_sizes, **path)
        self.version = np.array([it[9] for it in items])
        self.tp = np.array([it[10] for it in items])
        self.w = serving.Workload(*(np.concatenate([getattr(it[1], f) for it in items])
                                    for f in ("input_tokens", "output_tokens", "budget_tokens", "max_seqs")),
                                  None, np.concatenate([it[1].fixed_lengths for it in items]))
        self.conc = np.array([it[2] for it in items], dtype=float)
        self.reps, self.gpus_n, self.I, self.O = (np.array([it[k] for it in items], dtype=float) for k in (3, 4, 5, 6))
        self.got = [it[7] for it in items]
        self.default_host_s = np.array([it[8] for it in items], dtype=float)
        self.gpu = np.array(gpus)

    def errors(self, scale, host_s=None) -> list[list[float]]:
        """Per run, |log(pred / measured)| of each of its metrics at scale (scalar or per run) and host
        time (None: the engine's default)."""
        k = np.broadcast_to(np.asarray(scale, dtype=float), self.conc.shape)
        h = self.default_host_s if host_s is None else np.broadcast_to(np.asarray(host_s, dtype=float), self.conc.shape)
        c = serving.StepCosts(self.c.s_dec * k[:, None], self.c.g_tok * k[:, None], self.c.attn_prompt_s * k, h.copy(),
                              self.c.capture_sizes, self.c.frontend_s, self.c.cpu_s_per_input_token, self.c.output_delay_steps,
                              self.c.prefill_apart)
        pt = serving.closed_loop(c, self.w, self.conc)
        X = pt.lam * self.reps
        out = []
        for i, got in enumerate(self.got):
            if not pt.stable[i]:
                out.append([5.0])
                continue
            pred = {"tput": X[i] * self.O[i] / self.gpus_n[i], "tput_total": X[i] * (self.I[i] + self.O[i]) / self.gpus_n[i],
                    "user": 1.0 / float(pt.tpot_s[i])}
            out.append([abs(math.log(pred[m] / v)) for m, v in got.items()])
        return out


def median_of(errs: list[list[float]], mask) -> float:
    return statistics.median([e for i, es in enumerate(errs) if mask[i] for e in es])


def mean_of(errs: list[list[float]], mask) -> float:
    """The fit's objective: mean |log error| of the masked runs' metrics."""
    return statistics.fmean([e for i, es in enumerate(errs) if mask[i] for e in es])


def fit_engine(runs: Runs, hosts_ms=None) -> tuple[float | None, dict]:
    """(host ms, {gpu: scale}) of one engine's runs: the host time (of `hosts_ms`, default the grid)
    whose per-GPU best scales give the least mean |log error| over all of them; GPUs with fewer
    than MIN_GPU_RUNS runs take no part ((None, {}) when none has enough)."""
    gpus = sorted(g for g in set(runs.gpu) if int(np.sum(runs.gpu == g)) >= MIN_GPU_RUNS)
    if not gpus:
        return None, {}
    fitted = np.isin(runs.gpu, gpus)
    best = None
    for h in HOSTS_MS if hosts_ms is None else hosts_ms:
        by_scale = {s: runs.errors(s, h / 1e3) for s in SCALES}
        scales = {g: min(SCALES, key=lambda s: mean_of(by_scale[s], runs.gpu == g)) for g in gpus}
        errs = runs.errors(np.array([scales.get(g, 1.0) for g in runs.gpu]), h / 1e3)
        cand = (mean_of(errs, fitted), h, scales)
        if best is None or cand[0] < best[0]:
            best = cand
    return best[1], best[2]


def fit_versions(runs: Runs, names: dict) -> dict:
    """{gpu: {"<engine> <version>": entry}}: floor + slope per (GPU, engine version) with enough runs
    over two or more TP sizes (one layout cannot tell a floor from a slope). The floor is the
    engine's host and launch time per step, a property of the engine release and the vendor's
    software stack (CUDA or ROCm), not of the GPU model: one floor per (vendor, engine version),
    shared by its GPUs, each GPU with its own slope (the kernels' speed on it)."""
    groups = {}
    for i, (g, v) in enumerate(zip(runs.gpu, runs.version)):
        groups.setdefault((g, v), []).append(i)
    groups = {k: np.isin(np.arange(len(runs.gpu)), ix) for k, ix in groups.items()
              if len(ix) >= MIN_VERSION_RUNS and len(set(runs.tp[ix])) >= 2}
    if not groups:
        return {}
    grid = {(s, f): runs.errors(s, f / 1e3) for s in SCALES for f in FLOORS_MS}
    shared: dict = {}  # (vendor, version) -> [(gpu, mask)]
    for (gpu, ver), mask in sorted(groups.items()):
        shared.setdefault((VENDOR[gpu], ver), []).append((gpu, mask))
    out: dict = {}
    for (vendor, ver), members in sorted(shared.items()):
        def best_scale(f, mask):
            return min(SCALES, key=lambda sc: mean_of(grid[(sc, f)], mask))

        def total(f, members=members):
            errs = [e for _, m in members for i, es in enumerate(grid[(best_scale(f, m), f)]) if m[i] for e in es]
            return statistics.fmean(errs)

        f = min(FLOORS_MS, key=total)
        gpus_txt = ", ".join(g for g, _ in members)
        for gpu, mask in members:
            s = best_scale(f, mask)
            errs = grid[(s, f)]
            err, n = median_of(errs, mask), int(mask.sum())
            src = (f"fitted by scripts/fit_serving.py on {n} published {ver} serving runs on {gpu} (split 'fit': "
                   f"{', '.join(sorted(names.get(gpu, [])))}; TP {', '.join(str(t) for t in sorted(set(runs.tp[mask])))}): "
                   f"step = {f:g} ms + {s:g} x the performance model's step, the floor shared by the {vendor} GPUs of the "
                   f"fit on {ver} ({gpus_txt}), median |error| {pct(err):.1f} % on them")
            out.setdefault(gpu, {})[ver] = {"step_time_scale": {"value": float(s), "source": src},
                                            "step_floor_s": {"value": f / 1e3, "source": src},
                                            "fit_records": n, "fit_median_abs_error_pct": round(pct(err), 2)}
            print(f"{gpu:<16}{ver:<14}{n:>5} runs: floor {f:4.1f} ms ({vendor} shared) + {s:.2f} x step, "
                  f"median |err| {pct(err):.1f} %")
    return out


def merged(old: dict, gpus: dict, engines: dict, about: str, fitted: str) -> dict:
    """The calibration file `old` with this fit's entries: per GPU and per engine the keys this script
    owns are replaced, every other key (e.g. gpus.<gpu>.error_band, written by another script) is
    kept as it was."""
    doc = dict(old)
    doc["_about"], doc["fitted"] = about, fitted
    for block, new, owned in (("gpus", gpus, OWNED_GPU_KEYS), ("engines", engines, ("host_overhead_s_per_step",))):
        out = dict(doc.get(block, {}))
        for key, entry in new.items():
            kept = {k: v for k, v in out.get(key, {}).items() if k not in owned}
            out[key] = {**kept, **entry}
        doc[block] = out
    return doc


def pct(e: float) -> float:
    return 100 * (math.exp(e) - 1)


def fit(records) -> tuple[dict, dict]:
    """(gpus, engines): the calibration file's "gpus" and "engines" entries fitted on `records`
    (the fit split's; scripts/bench_accuracy.py --loso passes it without one source). Prints the fit."""
    items: dict[str, list] = {}  # engine -> prepared runs
    gpus_of: dict[str, list] = {}
    names: dict[str, set] = {}
    for rec in records:
        p = prepared(rec)
        if p is not None:
            items.setdefault(rec.engine, []).append(p)
            gpus_of.setdefault(rec.engine, []).append(rec.gpu)
            names.setdefault(rec.gpu, set()).add(f"{rec.model} ({rec.engine})")
    runs = {eng: Runs(items[eng], gpus_of[eng]) for eng in sorted(items)}
    # An engine whose scheduler overlaps the host's work with the GPU's keeps its sourced host time
    # (engine.json: SGLang's overlap scheduler, 0): the fit does not get to explain a gap with it.
    fixed = {"sglang": sglang_scheduler().host_overhead_s_per_step * 1e3}
    fits = {eng: fit_engine(r, [fixed[eng]] if eng in fixed else None) for eng, r in runs.items()}
    hosts_ms = {eng: fixed[eng] if eng in fixed else f[0] if f[0] is not None else float(np.median(runs[eng].default_host_s)) * 1e3
                for eng, f in fits.items()}  # an engine without a GPU of MIN_GPU_RUNS runs keeps its default host time
    print(f"{'gpu':<16}{'records':>8}{'scale':>7}{'median |err| %':>16}{'unscaled %':>12}")
    gpus_doc: dict = {}
    all_gpus = sorted({g for r in runs.values() for g in r.gpu})
    all_errs: list[float] = []
    for gpu in all_gpus:
        n = sum(int(np.sum(r.gpu == gpu)) for r in runs.values())
        if n < MIN_GPU_RUNS:
            print(f"{gpu:<16}{n:>8}  too few runs for a scale: not calibrated")
            continue

        # one scale per GPU over all its engines' runs, each engine at its fitted host time
        def errs_at(s, gpu=gpu):
            return [e for eng, r in runs.items() for i, es in enumerate(r.errors(s, hosts_ms[eng] / 1e3)) if r.gpu[i] == gpu
                    for e in es]
        scale = min(SCALES, key=lambda s: statistics.fmean(errs_at(s)))
        err = statistics.median(errs_at(scale))
        all_errs += errs_at(scale)
        base = statistics.median([e for r in runs.values() for i, es in enumerate(r.errors(1.0)) if r.gpu[i] == gpu for e in es])
        print(f"{gpu:<16}{n:>8}{scale:>7.2f}{pct(err):>16.1f}{pct(base):>12.1f}")
        src = (f"fitted by scripts/fit_serving.py on {n} published serving runs (split 'fit' of "
               f"moeprof/data/benchmarks: {', '.join(sorted(names[gpu]))}) with the engines' fitted host times; "
               f"median |error| {pct(err):.1f} % on them (throughput per GPU and tokens/s per user), {pct(base):.1f} % "
               f"before (scale 1, the engines' default host times)")
        gpus_doc[gpu] = {"step_time_scale": {"value": float(scale), "source": src}, "fit_records": n,
                         "fit_median_abs_error_pct": round(pct(err), 2)}
    eng_doc: dict = {}
    for eng, h in hosts_ms.items():
        n = len(runs[eng].got)
        if eng in fixed:
            print(f"engine {eng}: host {h:.1f} ms per step as engine.json states it ({n} runs)")
            continue
        eng_doc[eng] = {"host_overhead_s_per_step": {
            "value": h / 1e3,
            "source": (f"fitted by scripts/fit_serving.py on {n} published {eng} serving runs of split 'fit' "
                       f"({', '.join(sorted(set(runs[eng].gpu)))}), one host time for every GPU, each GPU's step_time_scale fitted with it"),
        }}
        print(f"engine {eng}: host {h:.1f} ms per step ({n} runs)")
    if all_errs:
        print(f"all fit runs: median |err| {pct(statistics.median(all_errs)):.1f} %")
    for r in runs.values():
        for gpu, vers in fit_versions(r, names).items():
            gpus_doc.setdefault(gpu, {}).setdefault("versions", {}).update(vers)
    return gpus_doc, eng_doc


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dry-run", action="store_true", help="print the fit, write nothing")
    a = ap.parse_args(argv)
    gpus_doc, eng_doc = fit(load_records(split="fit"))
    old = json.loads(OUT.read_text()) if OUT.exists() else {}
    doc = merged(old, gpus_doc, eng_doc, (__doc__ or "").split("\n\n")[0], str(date.today()))
    if not a.dry_run:
        write_atomic(OUT, json.dumps(doc, indent=1) + "\n")
        print(f"wrote {OUT.relative_to(OUT.parent.parent.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
