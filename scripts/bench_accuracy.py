#!/usr/bin/env python3
"""Accuracy of `moeprof evaluate` against published serving runs (moeprof/data/benchmarks).

For every record of a vLLM or SGLang serving run at a fixed concurrency or QPS whose model
moeprof can load: evaluate the same deployment (GPU, TP / EP / DP, checkpoint quantization, KV
dtype, engine, input / output lengths at the benchmark's mean, load) and compare
    throughput per GPU (output tokens/s/GPU, or input + output where only that is published)
    and tokens/s per user (1000 / median TPOT)
    and TTFT (the median where published, else the mean; the run's own num_prompts, so the
    statistic covers the burst the benchmark client starts with)
Prints each record's error, then the median and worst |error| by split (fit / validation) and GPU
vendor. A run that sends every prompt at once with no concurrency cap (single_wave) is scored as
the starting burst of that many clients, on TTFT only, in a scope of its own. Records of other
engines (TensorRT-LLM), other offline runs and models that do not load are counted as skipped,
with the reason.

    python scripts/bench_accuracy.py [--split fit|validation|all] [--rows] [--uncalibrated] [--kernel-tables] [--loso]

A second table splits the errors by vendor and engine version (the version each record names;
"?" where it names none). --loso adds the leave-one-source-out table: for each source file of
moeprof/data/benchmarks, the calibration refitted without its records (scripts/fit_serving.py's
fit, the shipped one's procedure: one host time per engine, one scale per GPU, and the floor + slope
per GPU and vLLM version where the remaining runs pin them; a GPU left without enough fit runs
uncalibrated, as moeprof treats a GPU the file does not list), then its records scored; a
source with no fit records is scored with the shipped calibration, which never saw it. Last,
every source's errors scored so are pooled per vendor and set beside the validation split's
median |error| (with --split validation or all), with their ratio.

--uncalibrated leaves out the per-GPU serving calibration (fitted on the fit split only by
scripts/fit_serving.py): the figures before that fit. --kernel-tables evaluates NVIDIA runs with
the shipped kernel-table profile of the run's GPU and engine (<gpu>.aic-<engine>) instead of the
GPU's default profile.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import statistics
import sys
from collections import Counter, defaultdict

from moeprof.calibrate.benchmarks import load_records
from moeprof.calibrate.records import MODELS, VENDOR, deployment, fixed_lengths, load_of, mean_length, record_version, skip_reason  # noqa: F401 (fit_serving imports them here)
from moeprof.calibrate.records import measured as records_measured
from moeprof.calibrate.regressions import known_regression
from moeprof.catalog.calibration.serving import ServingCalibration, serving_calibration
from moeprof.catalog.serving_path import parse_version
from moeprof.deployment.evaluate import evaluate
from moeprof.errors import MoeprofError
from moeprof.profile import shipped_profiles

KERNEL_TABLES = {"on": False}  # set by --kernel-tables


def kernel_table_profile(gpu_key: str, engine: str):
    """The shipped kernel-table profile of a GPU and engine (<gpu>.aic-<engine>), or None."""
    return shipped_profiles().get(f"{gpu_key}.aic-{engine}")


def single_wave(rec) -> bool:
    """A serving client's run that sends every prompt at once, with no concurrency cap (load offline,
    num_prompts given, TTFT published: the throughput tools trtllm-bench and benchmark_throughput
    publish no TTFT). Its TTFT is the starting burst's of num_prompts clients (serving.closed_loop
    at concurrency N with N prompts); it has no steady state, so its throughput is not scored."""
    return bool(rec.load.get("offline")) and bool(rec.num_prompts) and measured_ttft(rec) is not None


def predict(rec, calibration=None):
    """(predicted metrics dict, None) or (None, reason to skip)."""
    wave = single_wave(rec)
    why = skip_reason(dataclasses.replace(rec, load={"concurrency": rec.num_prompts}) if wave else rec)
    if why:
        return None, why
    try:
        profile = kernel_table_profile(rec.gpu, rec.engine) if KERNEL_TABLES["on"] else None
        dep, I, O = deployment(rec, calibration, profile)
        load, value = ("concurrency", rec.num_prompts) if wave else load_of(rec)
        row = evaluate(dep, load, [value], I, O, num_prompts=rec.num_prompts, fixed_lengths=fixed_lengths(rec))[0]
    except MoeprofError as e:
        return None, f"evaluate: {str(e)[:70]}"
    if not row["stable"]:
        return None, "predicted saturated"
    return row, None


def measured(rec) -> dict:
    """The record's throughput and tokens/s per user (calibrate.records.measured without TTFT,
    which measured_ttft reports on its own)."""
    return {k: v for k, v in records_measured(rec).items() if k != "ttft_ms"}


def measured_ttft(rec) -> tuple[str, float] | None:
    """(evaluate's key, value in ms) of the TTFT the record publishes: the median, else the mean."""
    for key in ("median_ttft_ms", "mean_ttft_ms"):
        if rec.metrics.get(key):
            return key, rec.metrics[key]
    return None


def version_key(rec) -> str:
    return f"{rec.engine} {record_version(rec) or '?'}"


CURRENT = {"vllm": (0, 10), "sglang": (0, 5)}  # current engines: vLLM >= 0.10, SGLang >= 0.5


def scope_of(rec) -> str:
    """'current' (a current engine release), 'older engine' (vLLM < 0.10, SGLang < 0.5, or no version
    named), 'regression' (a release with a known regression on the run's GPU and model,
    moeprof/data/engine_regressions.json) or 'single wave' (every prompt at once, single_wave): the
    headline figures are the current runs'."""
    if single_wave(rec):
        return "single wave"
    if known_regression(rec) is not None:
        return "regression"
    v = parse_version(rec.engine_version)
    return "current" if v is not None and v[:2] >= CURRENT.get(rec.engine, (0, 0)) else "older engine"


def score(recs, calibration_of=None, uncalibrated: bool = False):
    """(errors {(split, vendor, version, metric): [error %]}, skipped Counter, lines) of records;
    `calibration_of(rec)`: the ServingCalibration to use (None: the shipped one)."""
    skipped: Counter = Counter()
    errs: dict = defaultdict(list)
    lines = []
    for rec in recs:
        wave = single_wave(rec)
        got = {} if wave else measured(rec)
        if not got and not wave:
            skipped["no throughput or TPOT published"] += 1
            continue
        cal = ServingCalibration(rec.gpu, 1.0, None, "uncalibrated") if uncalibrated else (
            calibration_of(rec) if calibration_of else None)
        row, why = predict(rec, cal)
        if row is None:
            skipped[why] += 1
            continue
        pred = {"tput": row["output_throughput_per_gpu"], "tput_total": row["total_token_throughput_per_gpu"],
                "user": row["tokens_per_s_per_user"]}
        cells = []
        for k in ("tput", "tput_total", "user"):
            if k in got and pred[k]:
                e = 100.0 * (pred[k] - got[k]) / got[k]
                errs[(rec.split, VENDOR[rec.gpu], version_key(rec), "user" if k == "user" else "tput", scope_of(rec))].append(e)
                cells.append(f"{k} {pred[k]:9.1f} vs {got[k]:9.1f} ({e:+6.1f}%)")
        ttft = measured_ttft(rec)
        if ttft and row[ttft[0]]:
            e = 100.0 * (row[ttft[0]] - ttft[1]) / ttft[1]
            errs[(rec.split, VENDOR[rec.gpu], version_key(rec), "ttft", scope_of(rec))].append(e)
            cells.append(f"ttft {row[ttft[0]]:9.1f} vs {ttft[1]:9.1f} ({e:+6.1f}%)")
        lines.append(f"{rec.split:<10} {rec.gpu:<15} {rec.engine:<6} {rec.model[-28:]:<28} tp{rec.tp} "
                     f"c={rec.load.get('concurrency', rec.load.get('request_rate_rps'))!s:<5} "
                     f"{rec.input_tokens}/{rec.output_tokens}  " + "  ".join(cells))
    return errs, skipped, lines


LABEL = {"tput": "throughput per GPU", "user": "tokens/s per user", "ttft": "TTFT (median, else mean)"}


def run(split: str, show_rows: bool, uncalibrated: bool = False, out=sys.stdout) -> dict:
    recs = load_records(split=None if split == "all" else split)
    by_version, skipped, lines = score(recs, uncalibrated=uncalibrated)
    errs: dict = defaultdict(list)  # (split, vendor, scope, metric) -> [error %]
    for (sp, vendor, _, k, scope), v in by_version.items():
        errs[(sp, vendor, scope, k)] += v
    if show_rows:
        print("\n".join(lines), file=out)
    print("scope: current = vLLM >= 0.10 / SGLang >= 0.5 without a known regression (the headline figures); older engine; "
          "regression = a release with a known regression on the run's GPU and model (moeprof/data/engine_regressions.json); "
          "single wave = every prompt sent at once (TTFT only: the starting burst)",
          file=out)
    print(f"{'split':<11}{'vendor':<8}{'scope':<14}{'metric':<26}{'records':>8}{'median |err| %':>16}{'worst |err| %':>15}"
          f"{'median err %':>14}", file=out)
    summary = {}
    order = {"current": 0, "older engine": 1, "regression": 2, "single wave": 3}
    for (sp, vendor, scope, k), v in sorted(errs.items(), key=lambda kv: (kv[0][0], kv[0][1], order[kv[0][2]], kv[0][3])):
        a = [abs(x) for x in v]
        summary[(sp, vendor, scope, k)] = statistics.median(a)
        print(f"{sp:<11}{vendor:<8}{scope:<14}{LABEL[k]:<26}{len(v):>8}{statistics.median(a):>16.1f}{max(a):>15.1f}"
              f"{statistics.median(v):>+14.1f}", file=out)
    print("skipped: " + "; ".join(f"{why} ({n})" for why, n in skipped.most_common()), file=out)
    print(f"\nby engine version: median |err| % (records)\n{'split':<11}{'vendor':<8}{'engine version':<20}{'scope':<14}"
          f"{'throughput':>16}{'tok/s/user':>16}{'TTFT':>16}", file=out)
    for sp, vendor, ver, scope in sorted({(k[0], k[1], k[2], k[4]) for k in by_version}):
        cells = []
        for k in ("tput", "user", "ttft"):
            v = by_version.get((sp, vendor, ver, k, scope), [])
            cells.append(f"{statistics.median(abs(x) for x in v):.1f} ({len(v)})" if v else "-")
        print(f"{sp:<11}{vendor:<8}{ver:<20}{scope:<14}" + "".join(f"{c:>16}" for c in cells), file=out)
    return summary


def loso(out=sys.stdout, validation: dict | None = None) -> None:
    """The leave-one-source-out table (module docstring), then every source's held-out errors
    pooled per vendor beside the validation split's (`validation`: run()'s summary), and their ratio."""
    import fit_serving

    recs = [r for r in load_records() if r.split in ("fit", "validation")]
    pooled: dict = defaultdict(list)  # (vendor, metric) -> errors % of every source, scored without it
    by_source = defaultdict(list)
    for r in recs:
        by_source[r.path.replace("\\", "/").split("/")[-1]].append(r)
    print(f"\nleave one source out: median |err| % (records) of a source's runs, fitted without them (current releases "
          f"only, as the headline)\n{'source':<38}"
          f"{'fit':>5}{'vendor':>8}{'throughput':>16}{'tok/s/user':>16}{'TTFT':>16}", file=out)
    for src, mine in sorted(by_source.items()):
        held = [r for r in recs if r not in mine and r.split == "fit"]
        own_fit = any(r.split == "fit" for r in mine)
        calib = None
        if own_fit:  # the shipped fit's own procedure on the fit runs of every other source
            with contextlib.redirect_stdout(io.StringIO()):
                gpus_doc, eng_doc = fit_serving.fit(held)
            doc = {"gpus": gpus_doc, "engines": eng_doc}
            calib = lambda r, doc=doc: serving_calibration(r.gpu, r.engine, record_version(r), doc=doc)  # noqa: E731
        errs, _, _ = score(mine, calib)
        for vendor in sorted({k[1] for k in errs if k[4] == "current"}):
            cells = []
            for k in ("tput", "user", "ttft"):
                v = [x for key, xs in errs.items() if key[1] == vendor and key[3] == k and key[4] == "current" for x in xs]
                pooled[(vendor, k)] += v
                cells.append(f"{statistics.median(abs(x) for x in v):.1f} ({len(v)})" if v else "-")
            print(f"{src[:37]:<38}{'yes' if own_fit else 'no':>5}{vendor:>8}" + "".join(f"{c:>16}" for c in cells), file=out)
    print("\nleave one source out, pooled: median |err| % (records) of every source's runs scored without their source, "
          "the validation split's median |err| % and their ratio", file=out)
    print(f"{'':<43}{'vendor':>8}" + "".join(f"{h:>26}" for h in ("throughput", "tok/s/user", "TTFT")), file=out)
    for vendor in sorted({v for v, _ in pooled}):
        cells = []
        for k in ("tput", "user", "ttft"):
            v = pooled.get((vendor, k), [])
            med = statistics.median(abs(x) for x in v) if v else None
            ref = (validation or {}).get(("validation", vendor, "current", k))
            cells.append("-" if med is None else f"{med:.1f} ({len(v)})" + (f" / {ref:.1f} = {med / ref:.2f}x" if ref else ""))
        print(f"{'all sources':<38}{'':>5}{vendor:>8}" + "".join(f"{c:>26}" for c in cells), file=out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--split", choices=("fit", "validation", "all"), default="all")
    ap.add_argument("--rows", action="store_true", help="print every record")
    ap.add_argument("--uncalibrated", action="store_true",
                    help="without moeprof/data/serving_calibration.json: the performance model's step times, the engine's host time")
    ap.add_argument("--loso", action="store_true", help="also the leave-one-source-out table (refits; about a minute)")
    ap.add_argument("--kernel-tables", action="store_true",
                    help="NVIDIA runs use the shipped kernel-table profile of their GPU and engine")
    a = ap.parse_args(argv)
    KERNEL_TABLES["on"] = a.kernel_tables
    summary = run(a.split, a.rows, a.uncalibrated)
    if a.loso:
        loso(validation=summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
