"""`moeprof validate --bench`: predicted vs measured for every benchmark record `evaluate` can
model (the same path as `moeprof evaluate`: memory, performance and serving models with the
GPU's serving calibration, a profile's own section winning where the profile is given).

Figures per record, where the record publishes them: throughput per GPU (output tokens/s, or
input + output where only that is published), tokens/s per user, TTFT (median, else mean) and
TPOT (median). Error = predicted / measured - 1, in percent; the summary gives the median and
worst |error| of each figure by split.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter

from ..deployment.evaluate import evaluate
from ..errors import MoeprofError, printable
from .records import STARTUP_SHARE_MAX, deployment, fixed_lengths, load_of, skip_reason, startup_share

FIGURES = ("throughput_per_gpu_tok_s", "tokens_per_s_per_user", "ttft_ms", "tpot_ms")


def _measured(rec) -> dict[str, tuple[float, str]]:
    """figure -> (measured value, which published metric)."""
    m, out = rec.metrics, {}
    if "output_throughput_per_gpu_tok_s" in m:
        out["throughput_per_gpu_tok_s"] = (m["output_throughput_per_gpu_tok_s"], "output")
    elif "output_throughput_tok_s" in m:
        out["throughput_per_gpu_tok_s"] = (m["output_throughput_tok_s"] / rec.num_gpus, "output")
    elif "total_token_throughput_per_gpu_tok_s" in m:
        out["throughput_per_gpu_tok_s"] = (m["total_token_throughput_per_gpu_tok_s"], "total")
    if startup_share(rec) > STARTUP_SHARE_MAX:  # the throughput over the run is mostly its start-up
        out.pop("throughput_per_gpu_tok_s", None)
    if m.get("median_tpot_ms"):
        out["tokens_per_s_per_user"] = (1000.0 / m["median_tpot_ms"], "1000 / median TPOT")
        out["tpot_ms"] = (m["median_tpot_ms"], "median")
    elif m.get("median_tokens_per_s_per_user"):
        out["tokens_per_s_per_user"] = (m["median_tokens_per_s_per_user"], "median")
    if m.get("median_ttft_ms"):
        out["ttft_ms"] = (m["median_ttft_ms"], "median")
    elif m.get("mean_ttft_ms"):
        out["ttft_ms"] = (m["mean_ttft_ms"], "mean")
    return {k: v for k, v in out.items() if v[0] > 0}


def _predicted(row: dict, figure: str, which: str) -> float | None:
    if figure == "throughput_per_gpu_tok_s":
        return row["output_throughput_per_gpu" if which == "output" else "total_token_throughput_per_gpu"]
    if figure == "tokens_per_s_per_user":
        return row["tokens_per_s_per_user"]
    if figure == "ttft_ms":
        return row["median_ttft_ms" if which == "median" else "mean_ttft_ms"]
    return row["median_tpot_ms"]


def check_record(rec, profiles: dict) -> tuple[dict | None, str]:
    """(row, "") or (None, why the record was skipped). `profiles`: GPU -> Profile to use."""
    why = skip_reason(rec, known_models_only=False)
    if why:
        return None, why
    got = _measured(rec)
    if not got:
        return None, "no throughput, TPOT or TTFT published"
    try:
        dep, I, O = deployment(rec, None, profiles.get(rec.gpu))
        load, value = load_of(rec)
        row = evaluate(dep, load, [value], I, O, num_prompts=rec.num_prompts, fixed_lengths=fixed_lengths(rec))[0]
    except MoeprofError as e:
        return None, f"evaluate: {str(e)[:80]}"
    if not row["stable"]:
        return None, "predicted saturated at this load"
    figures = {}
    for name, (v, which) in got.items():
        pred = _predicted(row, name, which)
        if pred is None or not math.isfinite(pred):
            continue
        figures[name] = {"predicted": pred, "measured": v, "error_pct": 100.0 * (pred / v - 1.0), "statistic": which}
    out = {"id": rec.id, "split": rec.split, "gpu": rec.gpu, "engine": rec.engine, "model": rec.model,
           "tp": rec.tp, "num_gpus": rec.num_gpus, "load": dict(rec.load), "input_tokens": I, "output_tokens": O,
           "figures": figures}
    return out, ""


def check(records, profiles: dict, progress=None) -> dict:
    """{"rows": [...], "summary": [...], "skipped": {reason: count}}."""
    rows, skipped = [], Counter()
    for i, rec in enumerate(records):
        if progress and i and i % 50 == 0:
            progress(f"validate: {i}/{len(records)} records")
        row, why = check_record(rec, profiles)
        if row is None:
            skipped[why] += 1
        else:
            rows.append(row)
    return {"rows": rows, "summary": summary(rows), "skipped": dict(skipped.most_common())}


def summary(rows) -> list[dict]:
    errs: dict = {}
    for r in rows:
        for name, f in r["figures"].items():
            errs.setdefault((r["split"], name), []).append(f["error_pct"])
    out = []
    for (split, name), v in sorted(errs.items(), key=lambda kv: (kv[0][0], FIGURES.index(kv[0][1]))):
        a = [abs(x) for x in v]
        out.append({"split": split, "figure": name, "records": len(v), "median_abs_error_pct": statistics.median(a),
                    "worst_abs_error_pct": max(a), "median_error_pct": statistics.median(v)})
    return out


def lines(result: dict) -> list[str]:
    """The text report: one line a record, then the summary and the skipped counts."""
    short = {"throughput_per_gpu_tok_s": "tok/s/GPU", "tokens_per_s_per_user": "tok/s/user", "ttft_ms": "TTFT ms",
             "tpot_ms": "TPOT ms"}
    out = []
    for r in result["rows"]:
        load = ", ".join(f"{k} {v:g}" for k, v in r["load"].items())
        cells = "  ".join(f"{short[k]} {f['predicted']:.4g} vs {f['measured']:.4g} ({f['error_pct']:+.1f}%)"
                          for k, f in sorted(r["figures"].items(), key=lambda kv: FIGURES.index(kv[0])))
        out.append(f"{printable(r['split']):<10} {printable(r['id'])[:44]:<44} {printable(r['gpu']):<14} "
                   f"{printable(r['engine']):<6} tp{r['tp']} {load} "
                   f"{r['input_tokens']}/{r['output_tokens']}  {cells}")
    out.append(f"{'split':<11}{'figure':<26}{'records':>8}{'median |err| %':>16}{'worst |err| %':>15}{'median err %':>14}")
    for s in result["summary"]:
        out.append(f"{s['split']:<11}{s['figure']:<26}{s['records']:>8}{s['median_abs_error_pct']:>16.1f}"
                   f"{s['worst_abs_error_pct']:>15.1f}{s['median_error_pct']:>+14.1f}")
    if result["skipped"]:
        out.append("skipped: " + "; ".join(f"{printable(why)} ({n})" for why, n in result["skipped"].items()))
    return out
