#!/usr/bin/env python3
"""Fit the serving calibration (moeprof/data/serving_calibration.json) on the "fit" split of the
published serving runs (moeprof/data/benchmarks: the Llama family), per GPU:

    step_time_scale           engine step GPU time / the performance model's   (grid 0.70 .. 2.50)
    host_overhead_s_per_step  host time per step the GPU waits for              (grid 0 .. 8 ms)

minimising the median |log(predicted / measured)| over throughput per GPU and tokens/s per user
of that GPU's fit records. Validation records (other families) are never read. Prints the fit
and writes the file with the residuals; then `python scripts/bench_accuracy.py` reports the error
on both splits.

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
from bench_accuracy import deployment, measured, skip_reason  # noqa: E402

from moeprof import serving  # noqa: E402
from moeprof.catalog.benchmarks import load_records  # noqa: E402
from moeprof.catalog.calibration import ServingCalibration  # noqa: E402
from moeprof.catalog.engine import load_engine  # noqa: E402
from moeprof.errors import MoeprofError  # noqa: E402
from moeprof.planner.evaluate import deployment_costs  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "moeprof" / "data" / "serving_calibration.json"
SCALES = np.round(np.arange(0.70, 2.501, 0.05), 2)
HOSTS_MS = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0)


def prepared(rec):
    """(unscaled StepCosts, Workload, concurrency per replica, replicas, gpus, I, O, measured) or None."""
    if skip_reason(rec) or "concurrency" not in rec.load:
        return None
    got = measured(rec)
    if not got:
        return None
    try:
        dep, I, O = deployment(rec, ServingCalibration(rec.gpu, 1.0, 0.0, "unscaled"))
        c, slots, _ = deployment_costs(dep, I, O)
    except MoeprofError:
        return None
    w = serving.Workload(np.array([float(I)]), np.array([float(O)]), np.array([float(dep.engine.max_num_batched_tokens)]),
                         np.array([slots]))
    return c, w, rec.load["concurrency"] / dep.replicas, dep.replicas, dep.gpus, I, O, got


def log_errors(items, scale, host_s):
    """|log(pred / measured)| of every metric of every prepared record at (scale, host)."""
    out = []
    for c, w, conc, reps, gpus, I, O, got in items:
        cs = serving.StepCosts(c.s_dec * scale, c.g_tok * scale, c.attn_prompt_s * scale, np.array([host_s]), c.capture_sizes)
        pt = serving.closed_loop(cs, w, conc)
        if not pt.stable[0]:
            out.append(5.0)
            continue
        X = float(pt.lam[0]) * reps
        pred = {"tput": X * O / gpus, "tput_total": X * (I + O) / gpus, "user": 1.0 / float(pt.tpot_s[0])}
        out += [abs(math.log(pred[k] / v)) for k, v in got.items()]
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dry-run", action="store_true", help="print the fit, write nothing")
    a = ap.parse_args(argv)
    by_gpu: dict[str, list] = {}
    names: dict[str, set] = {}
    for rec in load_records(split="fit"):
        p = prepared(rec)
        if p is not None:
            by_gpu.setdefault(rec.gpu, []).append(p)
            names.setdefault(rec.gpu, set()).add(f"{rec.model} ({rec.engine})")
    doc = {"_about": (__doc__ or "").split("\n\n")[0], "fitted": str(date.today()), "gpus": {}}
    print(f"{'gpu':<16}{'records':>8}{'scale':>7}{'host ms':>9}{'median |err| %':>16}{'unscaled %':>12}")
    for gpu, items in sorted(by_gpu.items()):
        best = min(((statistics.median(log_errors(items, s, h / 1e3)), s, h) for s in SCALES for h in HOSTS_MS))
        base = statistics.median(log_errors(items, 1.0, load_engine().host_overhead_s_per_step))
        err, scale, host_ms = best
        pct = lambda e: 100 * (math.exp(e) - 1)  # noqa: E731
        print(f"{gpu:<16}{len(items):>8}{scale:>7.2f}{host_ms:>9.1f}{pct(err):>16.1f}{pct(base):>12.1f}")
        src = (f"fitted by scripts/fit_serving.py on {len(items)} published serving runs (split 'fit' of "
               f"moeprof/data/benchmarks: {', '.join(sorted(names[gpu]))}); median |error| {pct(err):.1f} % on them "
               f"(throughput per GPU and tokens/s per user), {pct(base):.1f} % before")
        doc["gpus"][gpu] = {
            "step_time_scale": {"value": float(scale), "source": src},
            "host_overhead_s_per_step": {"value": host_ms / 1e3, "source": src},
            "fit_records": len(items),
            "fit_median_abs_error_pct": round(pct(err), 2),
        }
    if not a.dry_run:
        OUT.write_text(json.dumps(doc, indent=1) + "\n")
        print(f"wrote {OUT.relative_to(OUT.parent.parent.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
