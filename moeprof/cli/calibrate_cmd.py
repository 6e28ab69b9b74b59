"""`moeprof calibrate --bench FILE... --out P` and the `--bench` path of `moeprof validate`:
benchmark files in, a profile with a fitted serving calibration out / predicted vs measured."""

from __future__ import annotations

from collections import Counter

import click

from ..catalog.bundled import resolve
from ..errors import MoeprofError, printable
from .common import BoundedInt, emit_json

MAX_CALIBRATE_RECORDS = 80  # runs one calibration fits: n leave-one-out refits of n runs each (100 runs: 45 s of CPU)


def bench_options(f):
    """The options that read benchmark files: the files, and what engine result files leave out."""
    opts = [
        click.argument("more_bench", nargs=-1, type=click.Path(dir_okay=False)),
        click.option("--bench", "bench_paths", multiple=True, type=click.Path(dir_okay=False),
                     help=(
                         "Benchmark file or a shipped set's name (moeprof data: inferencex-2025-12): a moeprof dataset file (moeprof/data/benchmarks), `vllm "
                         "bench serve --save-result` JSON or SGLang bench_serving JSONL (repeatable; more files may follow: --bench A B C)."
                     )),
        click.option("--split", type=click.Choice(("fit", "validation", "all")), default="all", show_default=True,
                     help="Records of this split only (Llama families fit, others validation; 'none' records never)."),
        click.option("--model", default=None, help=(
            "Model of engine result files: a Hugging Face id, a built-in model or a config.json [default: the file's model_id]."
        )),
        click.option("--gpu", default=None, help="GPU of engine result files (h100, h200, mi300x, mi325x); for dataset files, keep that GPU's records."),
        click.option("--tp", type=BoundedInt(1, 64), default=None, help="Tensor-parallel size of engine result files."),
        click.option("--ep", type=BoundedInt(1, 1024), default=None, help="Expert-parallel size (1: off) [default: 1]."),
        click.option("--pp", type=BoundedInt(1, 64), default=None, help="Pipeline-parallel size [default: 1]."),
        click.option("--num-gpus", type=BoundedInt(1, 1024), default=None, help="GPUs of the run [default: tp x pp]."),
        click.option("--engine", "engine_name", type=click.Choice(("vllm", "sglang")), default=None,
                     help="Serving engine the client ran against [default: the file's format]."),
        click.option("--input-tokens", type=BoundedInt(1, 10**7), default=None, help="Input tokens per request [default: the file's mean]."),
        click.option("--output-tokens", type=BoundedInt(1, 10**7), default=None, help="Output tokens per request [default: the file's mean]."),
        click.option("--kv-cache-dtype", type=click.Choice(("auto", "fp8")), default=None, help="KV cache dtype of the run [default: auto]."),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def load_bench(bench_paths, more_bench, split, model, gpu, tp, ep, pp, num_gpus, engine_name, input_tokens, output_tokens,
               kv_cache_dtype) -> list:
    from ..calibrate import sources
    from ..catalog.hardware.vms import get_gpu

    layout = {"model": model, "gpu": get_gpu(gpu).key if gpu else None, "tp": tp, "ep": ep, "pp": pp,
              "num_gpus": num_gpus, "kv_cache_dtype": kv_cache_dtype}
    bench_paths = tuple(resolve("benchmarks", b) for b in tuple(bench_paths) + tuple(more_bench))
    recs = sources.load(bench_paths, layout, engine_name, input_tokens, output_tokens, split)
    if not recs:
        raise MoeprofError(f"no {'' if split == 'all' else split + ' '}serving record in {', '.join(bench_paths)}"
                           + (f" for GPU {layout['gpu']}" if layout["gpu"] else ""))
    return recs


def _say(msg: str) -> None:
    click.echo(printable(msg), err=True)


@click.command()
@bench_options
@click.option("--profile", "profile_ref", default=None, help="Base profile (file, shipped name or GPU) [default: the GPU's shipped one].")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False), help="Write the calibrated profile here ('-': stdout).")
@click.option("--json", "as_json", is_flag=True, help="Print the serving-calibration section as JSON.")
def calibrate(more_bench, bench_paths, split, model, gpu, tp, ep, pp, num_gpus, engine_name, input_tokens, output_tokens,
              kv_cache_dtype, profile_ref, out_path, as_json):
    """Fit the serving calibration of one GPU (step time scale, host time per step, prefill time
    scale where the runs pin it down) to benchmark results by robust least squares, and write a
    profile carrying it with its leave-one-out residual band. `plan`, `compare` and `evaluate`
    with `--profile` that file use it instead of the shipped calibration."""
    from ..calibrate.fit import fit_gpu
    from ..calibrate.points import prepare
    from ..calibrate.profile_out import calibrated_profile
    from ..catalog.calibration.serving import serving_calibration
    from ..profile import default_profile_for, resolve_profile, save_profile

    if not bench_paths:
        raise click.UsageError("give at least one --bench FILE or NAME (moeprof data)")
    bench_paths = tuple(resolve("benchmarks", b) for b in tuple(bench_paths) + tuple(more_bench))
    if out_path != "-":
        from ..fileio import refuse_input

        refuse_input(out_path, "profile", inputs=(*bench_paths, profile_ref))  # before reading and fitting
    recs = load_bench(bench_paths, (), split, model, gpu, tp, ep, pp, num_gpus, engine_name, input_tokens, output_tokens, kv_cache_dtype)
    if len(recs) > MAX_CALIBRATE_RECORDS:
        raise MoeprofError(f"{len(recs):,} benchmark records, at most {MAX_CALIBRATE_RECORDS} in one calibration (the "
                           "leave-one-out refits grow with the square): pass fewer --bench files, or --split fit")
    gpus = sorted({r.gpu for r in recs})
    if len(gpus) > 1:
        raise MoeprofError(f"the records are of several GPUs ({', '.join(gpus)}): pass --gpu to calibrate one")
    key = gpus[0]
    base = resolve_profile(profile_ref) if profile_ref else default_profile_for(key)
    if base is not None and base.gpu != key:
        raise MoeprofError(f"profile {profile_ref} is for GPU '{base.gpu}', the records for '{key}'")
    engine = Counter(r.engine for r in recs).most_common(1)[0][0]  # the prior's host time is the engine's
    prior = (base.serving_calibration if base is not None else None) or serving_calibration(key, engine)
    _say(f"calibrate: preparing {len(recs)} records of {key}")
    points, skipped = [], Counter()
    for rec in recs:
        p, why = prepare(rec, base, known_models_only=False)
        if p is None:
            skipped[why] += 1
        else:
            points.append(p)
    if not points:
        raise MoeprofError(f"no record can be modelled: {'; '.join(f'{w} ({n})' for w, n in skipped.most_common(3))}")
    _say(f"calibrate: fitting {len(points)} records, then leave-one-out")
    fit = fit_gpu(points, prior, progress=lambda msg: _say(f"calibrate: {msg}"))
    prof = calibrated_profile(base, fit, bench_paths)
    save_profile(prof, out_path)
    sec = prof.serving_calibration.section
    if as_json:
        emit_json(dict(sec, skipped=dict(skipped.most_common())))
        return
    if out_path == "-":
        return
    for line in summary_lines(sec, skipped):
        click.echo(line)
    click.echo(f"wrote {printable(out_path)}")


def summary_lines(sec: dict, skipped: Counter) -> list[str]:
    on = sec["fitted_on"]
    out = [f"{sec['gpu']}: {on['records']} records ({on['observations']} figures) of {printable(', '.join(on['models']))} "
           f"({printable(', '.join(on['engines']))}; splits {printable(', '.join(on['splits']))})"]
    for name, p in sec["parameters"].items():
        se = f" +- {p['std_error']:.3g}" if p.get("std_error") is not None else ""
        tail = "" if p["fitted"] else f"  (kept: {p.get('why_not_fitted', '')})"
        out.append(f"  {name:<26} {p['value']:.4g}{se}{tail}")
    fit = sec["fit"]
    for label, key in (("in-sample", "in_sample_median_abs_error_pct"), ("leave-one-out", "loo_median_abs_error_pct")):
        vals = ", ".join(f"{k} {v:.1f} %" for k, v in fit[key].items() if v is not None)
        out.append(f"  median |error| {label}: {vals}")
    band = sec["error_band"]
    if band.get("metrics"):
        q = band["quantiles"]
        out.append(f"  error band (leave-one-out, {q[0]:g}-{q[1]:g} quantiles): " + ", ".join(
            f"{k} {100 * m['lo']:+.1f} % .. {100 * m['hi']:+.1f} %" for k, m in band["metrics"].items()))
    if skipped:
        out.append("  skipped: " + "; ".join(f"{printable(w)} ({n})" for w, n in skipped.most_common()))
    return out


def validate_bench(bench_args: dict, profile_ref, as_json: bool) -> None:
    """The --bench path of `moeprof validate`."""
    from ..calibrate.bench_check import check, lines
    from ..profile import resolve_profile

    recs = load_bench(**bench_args)
    profiles = {}
    if profile_ref:
        prof = resolve_profile(profile_ref)
        profiles[prof.gpu] = prof
    result = check(recs, profiles, progress=_say)
    if not result["rows"]:
        raise MoeprofError("no record could be predicted: " + "; ".join(f"{w} ({n})" for w, n in result["skipped"].items()))
    if as_json:
        emit_json(result)
    else:
        for line in lines(result):
            click.echo(line)
