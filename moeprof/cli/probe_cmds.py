"""`moeprof probe`, `moeprof telemetry`, `moeprof validate`.

torch is imported inside `probe` only (through moeprof.probes.suite), so importing the CLI, or
running `telemetry` / `validate`, never loads it."""

from __future__ import annotations

import json
import time

import click

from ..errors import MoeprofError
from .calibrate_cmd import bench_options, validate_bench
from .common import BoundedFloat, BoundedInt, emit_json

DEVICES = ("auto", "cuda", "rocm", "cpu")


# ---- probe ------------------------------------------------------------------------------------
@click.command()
@click.option("--quick", is_flag=True, help="Fewer sizes and repeats (CPU: well under a minute).")
@click.option("--model", "model_name", default="scout", show_default=True, help="Model whose shapes are probed (name or config.json path).")
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Profile to write [default: ./<gpu>.measured.json].")
@click.option("--device", type=click.Choice(DEVICES), default="auto", show_default=True, help="Device to probe.")
@click.option("--only", default=None, help="Comma-separated probes: ceilings,gemm,moe,attention,kv_cache,energy,collectives.")
@click.option("--budget-s", type=BoundedFloat(0, 7200), default=None, help=(
    "Wall-clock budget for all probes; cases past a probe's share are skipped and recorded."
))
@click.option("--repeats", type=BoundedInt(1, 1000), default=None, help="Timed repeats per case (median) [default: 5, quick 3].")
@click.option("--scale", "shape_scale", type=BoundedFloat(0, 1), default=None, help=(
    "Shape scale (0, 1] [default: 1 on a GPU >= 60 GiB, 1/16 quick or 1/8 on a CPU]."
))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
def probe(quick, model_name, out, device, only, budget_s, repeats, shape_scale, as_json):
    """Measure the device at hand (GEMM, MoE, attention, KV cache, energy, collectives) and write
    a profile. Progress goes to stderr, one line per case."""
    from ..probes.settings import settings_from_options
    from ..probes.text import probe_lines, probe_summary

    if only is not None and not [p for p in only.split(",") if p.strip()]:
        raise click.UsageError("--only names no probe (e.g. --only gemm,moe)")
    if out and out != "-":
        from ..fileio import check_output_target

        check_output_target(out, "profile")  # before minutes of probing, not after

    settings = settings_from_options(device, model_name, quick, only, budget_s, repeats, shape_scale)
    from ..probes.suite import run_and_save

    t0 = time.perf_counter()
    prof, path = run_and_save(settings, out)
    elapsed = time.perf_counter() - t0
    if as_json:
        emit_json(probe_summary(prof, path, elapsed))
        return
    for line in probe_lines(prof, path, elapsed):
        click.echo(line)


# ---- telemetry --------------------------------------------------------------------------------
def _telemetry_lines(samples) -> list[str]:
    out = []
    for s in samples:
        mem = "-"
        if s.memory_used_bytes is not None and s.memory_total_bytes:
            mem = f"{s.memory_used_bytes / 2**30:.2f}/{s.memory_total_bytes / 2**30:.2f} GiB"
        f = lambda v, fmt: "-" if v is None else format(v, fmt)  # noqa: E731
        out.append(
            f"{s.vendor:<7}{s.index:>3}  {str(s.device_name or '-')[:34]:<34} {mem:>20} {f(s.power_w, '.1f'):>8} W "
            f"{f(s.energy_j, '.1f'):>12} J {f(s.gpu_util_pct, '.0f'):>5} % {f(s.sm_clock_mhz, '.0f'):>6} MHz {f(s.memory_clock_mhz, '.0f'):>6} MHz"
        )
        out += [f"             note: {n}" for n in s.notes]
    return out


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON (one document; with --watch one line per reading).")
@click.option("--watch", type=BoundedFloat(0, 3600), default=None, help="Read again every SEC seconds until interrupted.")
@click.option("--count", type=BoundedInt(1, 10**9), default=None, help="With --watch: stop after N readings.")
@click.option("--vendor", type=click.Choice(("auto", "nvidia", "amd", "cpu")), default="auto", show_default=True, help="Telemetry backend.")
def telemetry(as_json, watch, count, vendor):
    """Device telemetry: name, memory, power, energy counter, utilisation, clocks (NVML, amdsmi,
    or the host CPU when no GPU library answers). Missing fields print '-' with a note."""
    from ..telemetry import open_backend, unavailable_notes

    b = open_backend(vendor)
    why = unavailable_notes() if vendor == "auto" and b.vendor == "cpu" else list(b.notes)

    def doc():
        return {"vendor": b.vendor, "available": b.available, "driver_version": b.driver_version, "notes": why, "devices": [s.to_dict() for s in b.samples()]}

    if watch is None:
        if as_json:
            emit_json(doc())
            return
        click.echo(f"telemetry: {b.vendor}" + (f" (driver {b.driver_version})" if b.driver_version else ""))
        for n in why:
            click.echo(f"  note: {n}")
        click.echo(
            f"{'vendor':<7}{'idx':>3}  {'device':<34} {'memory used/total':>20} {'power':>10} {'energy counter':>14} {'util':>7} {'clock':>10} "
            f"{'mem clk':>10}"
        )
        for line in _telemetry_lines(b.samples()):
            click.echo(line)
        return
    n = 0
    try:
        while count is None or n < count:
            if n:
                time.sleep(watch)
            if as_json:
                click.echo(json.dumps(doc(), default=str))
            else:
                stamp = time.strftime("%H:%M:%S")
                for line in _telemetry_lines(b.samples()):
                    click.echo(f"{stamp} {line}")
            n += 1
    except KeyboardInterrupt:
        return


# ---- validate ---------------------------------------------------------------------------------
@click.command()
@click.option("--profile", "profile_ref", default=None, help="Profile file, or a shipped profile / GPU name (h100, h200, mi300x).")
@click.option("--calibration", type=click.Choice(("self", "shipped", "none")), default="self", show_default=True,
              help="Rates the model uses: the profile's own curves, the shipped profile for its GPU, or datasheet ceilings only.")
@click.option("--fail-above", type=BoundedFloat(0, 1e6), default=None, help="Exit 1 when the median |error| of timed rows exceeds this percentage.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@bench_options
def validate(profile_ref, calibration, fail_above, as_json, **bench_args):
    """Predicted vs measured for every probe row of a profile the performance model can predict:
    the error of each row, then the median and worst absolute percentage error; a profile with
    kernel tables also gets them scored on held-out grid cells, per op. With --bench:
    every serving benchmark record instead (throughput per GPU, tokens/s per user, TTFT, TPOT),
    with --profile's serving calibration for its GPU."""
    if bench_args["bench_paths"]:
        return validate_bench(bench_args, profile_ref, as_json)
    if bench_args["more_bench"]:
        raise click.UsageError(f"unexpected argument {bench_args['more_bench'][0]!r} (files to check follow --bench)")
    if not profile_ref:
        raise click.UsageError("pass --profile P (or --bench FILE)")
    from ..profile import resolve_profile
    from ..validation import validate_profile, validation_lines

    prof = resolve_profile(profile_ref)
    v = validate_profile(prof, calibration)
    s = v.summary()
    if as_json:
        emit_json(v.to_json())
    else:
        for line in validation_lines(v, prof):
            click.echo(line)
    if fail_above is not None and "time" in s and s["time"]["median_abs_pct"] > fail_above:
        raise MoeprofError(f"median |error| {s['time']['median_abs_pct']:.1f}% exceeds --fail-above {fail_above:g}%")
    kt = s.get("kernel_tables", {}).get("all")
    if fail_above is not None and kt and kt["median_abs_pct"] > fail_above:
        raise MoeprofError(f"kernel tables: held-out median |error| {kt['median_abs_pct']:.1f}% exceeds --fail-above {fail_above:g}%")
