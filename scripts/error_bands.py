#!/usr/bin/env python3
"""The error band of the shipped serving calibration, per GPU: evaluate every published serving
run (moeprof/data/benchmarks) with the calibration as shipped (as scripts/bench_accuracy.py does,
no refit) and keep the 10th-90th percentile of the relative residuals measured / predicted - 1
(moeprof.catalog.calibration.error_band) of

    ttft_ms      median TTFT
    tpot_ms      median TPOT (1000 / tokens/s per user where only that is published)
    throughput   output (or input + output) tokens/s per GPU

Rule, per GPU and metric: the residuals of the records NOT used in the fit (split "validation")
when there are at least MIN_HELD_OUT of them; else all of that GPU's records, which include the
fit records (in-sample: the band is optimistic, and its source says so). Each vendor also gets a
pooled band (its GPUs' records, the same rule) for a GPU without records of its own.

Writes "error_band" of each GPU under "gpus" and "vendor_error_band" in
moeprof/data/serving_calibration.json, keeping every other key of the file.

    python scripts/error_bands.py [--dry-run]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_accuracy import VENDOR, measured, predict  # noqa: E402

from moeprof.calibrate.benchmarks import load_records  # noqa: E402
from moeprof.catalog.calibration.error_band import METRICS, from_residuals  # noqa: E402
from moeprof.catalog.hardware.vms import get_gpu  # noqa: E402
from moeprof.fileio import write_atomic  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "moeprof" / "data" / "serving_calibration.json"
MIN_HELD_OUT = 10  # fewer held-out residuals than this: the GPU's records of both splits


def residuals(rec, row) -> dict[str, float]:
    """measured / predicted - 1 per metric the record publishes."""
    got, m, out = measured(rec), rec.metrics, {}
    if "tput" in got and row["output_throughput_per_gpu"]:
        out["throughput"] = got["tput"] / row["output_throughput_per_gpu"] - 1.0
    elif "tput_total" in got and row["total_token_throughput_per_gpu"]:
        out["throughput"] = got["tput_total"] / row["total_token_throughput_per_gpu"] - 1.0
    if "user" in got and row["median_tpot_ms"]:
        out["tpot_ms"] = (1000.0 / got["user"]) / row["median_tpot_ms"] - 1.0
    if m.get("median_ttft_ms") and row["median_ttft_ms"]:
        out["ttft_ms"] = m["median_ttft_ms"] / row["median_ttft_ms"] - 1.0
    return out


def collect() -> tuple[dict, dict]:
    """({(gpu, split, metric): [residual]}, {gpu: {model names}})."""
    res: dict = defaultdict(list)
    models: dict = defaultdict(set)
    for rec in load_records():
        if rec.split not in ("fit", "validation") or not measured(rec):
            continue
        row, _ = predict(rec)
        if row is None:
            continue
        for metric, r in residuals(rec, row).items():
            res[(rec.gpu, rec.split, metric)].append(r)
        models[rec.gpu].add(rec.model.split("/")[-1])
    return res, models


def band_json(res: dict, gpus: list[str], what: str) -> dict:
    """The band of `gpus` pooled, by the rule of the module docstring, with its source text."""
    picked, notes = {}, []
    for metric in METRICS:
        held = [r for g in gpus for r in res.get((g, "validation", metric), [])]
        if len(held) >= MIN_HELD_OUT:
            picked[metric] = held
            notes.append(f"{metric}: {len(held)} held-out runs")
            continue
        both = held + [r for g in gpus for r in res.get((g, "fit", metric), [])]
        if both:
            picked[metric] = both
            notes.append(f"{metric}: {len(both)} runs, IN-SAMPLE (only {len(held)} held out; optimistic)")
    source = (f"scripts/error_bands.py: 10th-90th percentile of measured / predicted - 1 over published serving runs "
              f"(moeprof/data/benchmarks) of {what}, predicted with the shipped serving calibration; "
              + "; ".join(notes))
    band = from_residuals(picked, source).to_json()
    for m in band["metrics"].values():  # 0.01 % is far below the band's own uncertainty
        m["lo"], m["hi"] = round(m["lo"], 4), round(m["hi"], 4)
    return band


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--dry-run", action="store_true", help="print the bands, do not write the file")
    a = ap.parse_args(argv)
    res, models = collect()
    doc = json.loads(OUT.read_text(encoding="utf-8"))
    by_vendor: dict = defaultdict(list)
    for gpu in sorted(models):
        if gpu in VENDOR:
            by_vendor[get_gpu(gpu).vendor].append(gpu)
    print(f"{'band of':<22}{'metric':<12}{'runs':>6}{'lo %':>8}{'hi %':>8}")
    vendor_bands = {}
    for vendor, gpus in sorted(by_vendor.items()):
        vendor_bands[vendor] = band_json(res, gpus, f"the {vendor} GPUs pooled ({', '.join(gpus)})")
        _show(f"{vendor} (pooled)", vendor_bands[vendor])
    for gpu in sorted(doc.get("gpus", {})):
        if gpu not in models:
            continue
        b = band_json(res, [gpu], f"{gpu} (models with runs on it, both splits: {', '.join(sorted(models[gpu]))})")
        doc["gpus"][gpu]["error_band"] = b
        _show(gpu, b)
    doc["vendor_error_band"] = vendor_bands
    if not a.dry_run:
        write_atomic(OUT, json.dumps(doc, indent=1) + "\n", "serving calibration")
        print(f"wrote {OUT.relative_to(OUT.parent.parent.parent)} (error_band keys only)")
    return 0


def _show(name: str, band: dict) -> None:
    for metric, m in band["metrics"].items():
        print(f"{name:<22}{metric:<12}{m['n']:>6}{100 * m['lo']:>+8.1f}{100 * m['hi']:>+8.1f}")


if __name__ == "__main__":
    sys.exit(main())
