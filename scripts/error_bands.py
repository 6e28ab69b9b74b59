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
pooled band (its GPUs' records, the same rule) for a GPU without records of its own. Only runs of
current engine releases count (bench_accuracy.scope_of: vLLM >= 0.10, SGLang >= 0.5, no known
regression of the release on the run's GPU and model): a plan is made for the newest release.

Width, checked out of sample: for each source file of the runs, the bands are rebuilt without that
source and its runs scored (is measured / predicted - 1 inside the band of its GPU, else of its
vendor?); the coverage of each of QUANTILE_CHOICES is printed against TARGET_COVERAGE. The 10th-90th
percentile bands are written: a wider choice is not picked by this script because the shortfall is
not width but sources (a GPU whose runs come from one or two sources has no spread between sources
to learn); the printed table is the figure to quote.

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
from bench_accuracy import VENDOR, measured, predict, scope_of  # noqa: E402

from moeprof.calibrate.benchmarks import load_records  # noqa: E402
from moeprof.catalog.calibration.error_band import METRICS, from_residuals  # noqa: E402
from moeprof.catalog.hardware.vms import get_gpu  # noqa: E402
from moeprof.fileio import write_atomic  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "moeprof" / "data" / "serving_calibration.json"
MIN_HELD_OUT = 10  # fewer held-out residuals than this: the GPU's records of both splits
QUANTILE_CHOICES = ((0.1, 0.9), (0.05, 0.95), (0.025, 0.975))
TARGET_COVERAGE = 0.8  # of runs inside the band, each scored with the bands built without its source


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


def collect() -> tuple[list, dict]:
    """([(gpu, split, metric, source file, residual)], {gpu: {model names}}) of the current-release runs."""
    tagged: list = []
    models: dict = defaultdict(set)
    for rec in load_records():
        if rec.split not in ("fit", "validation") or not measured(rec) or scope_of(rec) != "current":
            continue
        row, _ = predict(rec)
        if row is None:
            continue
        src = rec.path.replace("\\", "/").split("/")[-1]
        for metric, r in residuals(rec, row).items():
            tagged.append((rec.gpu, rec.split, metric, src, r))
        models[rec.gpu].add(rec.model.split("/")[-1])
    return tagged, models


def by_gpu(tagged: list, without: str | None = None) -> dict:
    """{(gpu, split, metric): [residual]} of the tagged residuals, less those of source `without`."""
    res: dict = defaultdict(list)
    for gpu, split, metric, src, r in tagged:
        if src != without:
            res[(gpu, split, metric)].append(r)
    return res


def coverage(tagged: list, quantiles: tuple[float, float]) -> dict:
    """{(vendor, metric): (inside, scored)}: each run scored against the band of its GPU (else its
    vendor's pooled band) built without the runs of its own source."""
    out: dict = defaultdict(lambda: [0, 0])
    for src in sorted({t[3] for t in tagged}):
        res = by_gpu(tagged, without=src)
        bands: dict = {}
        for gpu, _, metric, s, r in tagged:
            if s != src:
                continue
            vendor = VENDOR[gpu]
            if gpu not in bands:
                bands[gpu] = band_json(res, [gpu], gpu, quantiles)["metrics"]
                pool = [g for g in VENDOR if VENDOR[g] == vendor]
                bands[vendor] = band_json(res, pool, vendor, quantiles)["metrics"]
            m = bands[gpu].get(metric) or bands[vendor].get(metric)
            if m is None:
                continue
            cell = out[(vendor, metric)]
            cell[0] += m["lo"] <= r <= m["hi"]
            cell[1] += 1
    return {k: (v[0], v[1]) for k, v in out.items()}


def band_json(res: dict, gpus: list[str], what: str, quantiles: tuple[float, float] = QUANTILE_CHOICES[0]) -> dict:
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
    lo_q, hi_q = (round(100 * q, 1) for q in quantiles)
    source = (f"scripts/error_bands.py: {lo_q:g}th-{hi_q:g}th percentile of measured / predicted - 1 over published serving "
              f"runs of current engine releases (moeprof/data/benchmarks) of {what}, predicted with the shipped serving "
              f"calibration; " + "; ".join(notes))
    band = from_residuals(picked, source, quantiles).to_json()
    for m in band["metrics"].values():  # 0.01 % is far below the band's own uncertainty
        m["lo"], m["hi"] = round(m["lo"], 4), round(m["hi"], 4)
    return band


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--dry-run", action="store_true", help="print the bands, do not write the file")
    a = ap.parse_args(argv)
    tagged, models = collect()
    res = by_gpu(tagged)
    show_coverage(tagged)
    quantiles = QUANTILE_CHOICES[0]
    doc = json.loads(OUT.read_text(encoding="utf-8"))
    by_vendor: dict = defaultdict(list)
    for gpu in sorted(models):
        if gpu in VENDOR:
            by_vendor[get_gpu(gpu).vendor].append(gpu)
    print(f"{'band of':<22}{'metric':<12}{'runs':>6}{'lo %':>8}{'hi %':>8}")
    vendor_bands = {}
    for vendor, gpus in sorted(by_vendor.items()):
        vendor_bands[vendor] = band_json(res, gpus, f"the {vendor} GPUs pooled ({', '.join(gpus)})", quantiles)
        _show(f"{vendor} (pooled)", vendor_bands[vendor])
    for gpu in sorted(doc.get("gpus", {})):
        if gpu not in models:
            continue
        b = band_json(res, [gpu], f"{gpu} (models with runs on it, both splits: {', '.join(sorted(models[gpu]))})", quantiles)
        doc["gpus"][gpu]["error_band"] = b
        _show(gpu, b)
    doc["vendor_error_band"] = vendor_bands
    if not a.dry_run:
        write_atomic(OUT, json.dumps(doc, indent=1) + "\n", "serving calibration")
        print(f"wrote {OUT.relative_to(OUT.parent.parent.parent)} (error_band keys only)")
    return 0


def show_coverage(tagged: list) -> None:
    """Prints each of QUANTILE_CHOICES' leave-one-source-out coverage by vendor and metric, and
    whether it reaches TARGET_COVERAGE."""
    print("leave-one-source-out coverage: runs inside the band built without their source (inside / scored)")
    for q in QUANTILE_CHOICES:
        cov = coverage(tagged, q)
        pooled = {m: [sum(v[0] for (vd, mm), v in cov.items() if mm == m), sum(v[1] for (vd, mm), v in cov.items() if mm == m)]
                  for m in METRICS}
        cells = [f"{vd} {m} {a}/{n} ({100 * a / n:.0f} %)" for (vd, m), (a, n) in sorted(cov.items()) if n]
        cells += [f"all {m} {a}/{n} ({100 * a / n:.0f} %)" for m, (a, n) in pooled.items() if n]
        short = [m for m, (a, n) in pooled.items() if n and a < TARGET_COVERAGE * n]
        print(f"  {100 * q[0]:g}th-{100 * q[1]:g}th: " + "; ".join(cells)
              + (f"; below {TARGET_COVERAGE:.0%}: {', '.join(short)}" if short else f"; all metrics >= {TARGET_COVERAGE:.0%}"))


def _show(name: str, band: dict) -> None:
    for metric, m in band["metrics"].items():
        print(f"{name:<22}{metric:<12}{m['n']:>6}{100 * m['lo']:>+8.1f}{100 * m['hi']:>+8.1f}")


if __name__ == "__main__":
    sys.exit(main())
