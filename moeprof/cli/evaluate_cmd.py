"""`moeprof evaluate`: one fixed deployment at a concurrency or a QPS, or a sweep of them."""

from __future__ import annotations

import re

import click

from ..catalog.calibration.serving import error_band_for
from ..catalog.engine import load_engine
from ..catalog.hardware.vms import get_gpu, load_vms
from ..catalog.models import load_model
from ..catalog.models.quant import KV_DTYPES
from ..deployment.evaluate import Deployment, bare_host, engine_for, tail_label
from ..deployment.evaluate import evaluate as run_evaluate
from ..errors import MoeprofError, UnknownNameError
from ..perf import resolve_profile
from ..planner.search.bands import evaluate_bands
from ..report.tables import rows_to_csv
from .common import BoundedFloat, BoundedInt, emit_json


def shown(tail: str) -> tuple:
    """(key, label, format) of the table's columns; `tail`: the percentile's name (p99, p90)."""
    return (
        ("request_throughput", "req/s", "{:.3f}"), ("output_throughput_per_gpu", "out tok/s/GPU", "{:,.0f}"),
        ("tokens_per_s_per_user", "tok/s/user", "{:,.1f}"), ("median_ttft_ms", "TTFT p50 ms", "{:,.0f}"),
        (f"{tail}_ttft_ms", f"TTFT {tail} ms", "{:,.0f}"), ("median_tpot_ms", "TPOT ms", "{:,.2f}"),
        ("running_batch", "batch", "{:,.1f}"),
    )


def _cell(r: dict, key: str, fmt: str) -> str:
    """A figure with its error band: '38.5 (34.1-43.9)'."""
    if r[key] is None:
        return "-"
    b = r["bands"].get(key)
    return fmt.format(r[key]) + (f" ({fmt.format(b[0])}-{fmt.format(b[1])})" if b else "")


def _flat_bands(r: dict) -> dict:
    """A row with its bands as columns: median_tpot_ms -> median_tpot_low_ms, median_tpot_high_ms;
    request_throughput -> request_throughput_low, _high."""
    out = {k: v for k, v in r.items() if k != "bands"}
    for k, b in r["bands"].items():
        stem, unit = (k[:-3], "_ms") if k.endswith("_ms") else (k, "")
        out[f"{stem}_low{unit}"], out[f"{stem}_high{unit}"] = (b[0], b[1]) if b else (None, None)
    return out


MAX_SWEEP_POINTS = 256  # rows of one sweep (each is a full evaluation)
_NUMBER = re.compile(r"\s*(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*", re.ASCII)


def _sweep(text: str) -> tuple[str, list[float]]:
    key, _, vals = text.partition("=")
    key = key.strip().lower()
    if key not in ("concurrency", "qps") or not vals:
        raise click.BadParameter("expected concurrency=1,2,4,... or qps=1,2,...", param_hint="--sweep")
    parts = [v for v in vals.split(",") if v.strip()]
    if len(parts) > MAX_SWEEP_POINTS:
        raise click.BadParameter(f"{len(parts):,} points, at most {MAX_SWEEP_POINTS} in one sweep", param_hint="--sweep")
    bad = next((v for v in parts if not _NUMBER.fullmatch(v)), None)
    if bad is not None:
        raise click.BadParameter(f"{bad.strip()[:40]!r} is not a number", param_hint="--sweep")
    out = [float(v) for v in parts]
    if not out or any(not (0 < v <= 1e6) for v in out):
        raise click.BadParameter("values must be in (0, 1e6]", param_hint="--sweep")
    if key == "concurrency" and any(v != int(v) for v in out):
        raise click.BadParameter("a concurrency is a whole number of requests in flight", param_hint="--sweep")
    return key, out


class _Concurrency(BoundedFloat):
    """Requests in flight: a whole number from 1 to 1e6."""

    def convert(self, value, param, ctx):
        v = super().convert(value, param, ctx)
        if v != int(v) or v < 1:
            self.fail(f"{value} is not a whole number of requests in flight (1, 2, ...)", param, ctx)
        return float(int(v))


@click.command()
@click.option("--model", "model_name", required=True, help="Model short name (moeprof models) or config.json path.")
@click.option("--sku", default=None, help="Azure VM SKU (moeprof hardware); with --vms.")
@click.option("--vms", type=BoundedInt(1, 64), default=1, show_default=True, help="VMs of --sku.")
@click.option("--gpu", "gpu_name", default=None, help="GPU (catalog key or h100, h200, mi300x, mi325x) instead of a VM SKU; with --gpus.")
@click.option("--gpus", type=BoundedInt(1, 512), default=None, help="GPUs of --gpu (8 per host).")
@click.option("--tp", type=BoundedInt(1, 64), required=True, help="Tensor parallel GPUs per replica.")
@click.option("--ep", type=BoundedInt(1, 64), default=1, show_default=True, help="Expert parallel GPUs: 1, --tp, or a multiple of --tp across VMs (wide EP: ep / tp attention groups).")
@click.option("--pp", type=BoundedInt(1, 64), default=1, show_default=True, help="Pipeline stages per replica.")
@click.option("--quant", default=None, help="Quantization recipe [default: the model's released weights].")
@click.option("--kv-dtype", type=click.Choice(KV_DTYPES), default="bf16", show_default=True, help="KV cache dtype.")
@click.option("--concurrency", type=_Concurrency(0, 1e6), default=None, help="Requests in flight (closed loop, as `vllm bench serve --max-concurrency`).")
@click.option("--qps", type=BoundedFloat(0, 1e6), default=None, help="Poisson arrivals per second (open loop).")
@click.option("--num-prompts", type=BoundedInt(1, 2**31), default=None,
              help="With --concurrency: prompts the benchmark client sends in all (`vllm bench serve --num-prompts`); TTFT figures then cover the burst its clients start with [default: an endless run].")
@click.option("--sweep", default=None, help="concurrency=1,2,4,... (or qps=...): one row per value.")
@click.option("--input-tokens", type=BoundedInt(1, 2**24), required=True, help="Prompt tokens per request.")
@click.option("--output-tokens", type=BoundedInt(1, 2**24), required=True, help="Generated tokens per request.")
@click.option("--engine", "engine_name", type=click.Choice(("vllm", "sglang")), default="vllm", show_default=True, help="Serving engine whose scheduler settings apply.")
@click.option("--engine-version", default=None,
              help="Engine version (0.13.0, v0.5.5.post3): its serving path and calibration [default: the newest the data covers, printed].")
@click.option("--percentile", type=BoundedFloat(50, 99.99, lo_open=False), default=99.0, show_default=True,
              help="Tail percentile, reported under its own name (p90_ttft_ms for 90).")
@click.option("--profile", "profile_path", default=None, help="GPU profile JSON or a shipped profile's name (h100-sxm-80gb.aic-vllm) [default: the shipped one for the GPU].")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (a list under 'sweep' with --sweep).")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV, one row per load value.")
def evaluate(model_name, sku, vms, gpu_name, gpus, tp, ep, pp, quant, kv_dtype, concurrency, qps, num_prompts, sweep, input_tokens,
             output_tokens, engine_name, engine_version, percentile, profile_path, as_json, as_csv):
    """What one fixed deployment does under the serving engine's scheduler: throughput per GPU,
    tokens/s per user, TTFT / TPOT / ITL / end-to-end latency (vLLM `bench serve` names), the
    running batch, KV use and the decode step split by kind."""
    model = load_model(model_name)
    if (sku is None) == (gpu_name is None):
        raise click.UsageError("give --sku (with --vms) or --gpu (with --gpus)")
    if sku is not None:
        all_vms = load_vms()
        key = sku.strip().lower()
        if key not in all_vms:
            raise UnknownNameError("VM SKU", sku, all_vms)
        vm, n_vms = all_vms[key], vms
    else:
        if gpus is None:
            raise click.UsageError("--gpu needs --gpus")
        vm, n_vms = bare_host(get_gpu(gpu_name), gpus)
    loads = [x for x in (concurrency, qps, sweep) if x is not None]
    if len(loads) != 1:
        raise click.UsageError("give exactly one of --concurrency, --qps, --sweep")
    if sweep is not None:
        load, values = _sweep(sweep)
    else:
        load, values = ("concurrency", [concurrency]) if concurrency is not None else ("qps", [qps])
    if ep not in (1, tp) and (ep < tp or ep % tp):
        raise MoeprofError(f"--ep must be 1, equal to --tp ({tp}) or a multiple of it (wide EP across VMs)")
    engine = engine_for(load_engine(), engine_name, vm.gpu.usable_memory_bytes, engine_version)
    dep = Deployment(model, vm, n_vms, tp, ep, pp, quant or model.default_quant, kv_dtype, engine,
                     resolve_profile(vm.gpu, profile_path))
    if num_prompts is not None and load != "concurrency":
        raise click.UsageError("--num-prompts goes with --concurrency (or a concurrency sweep)")
    if num_prompts is not None and num_prompts < max(values):
        raise click.BadParameter(f"{num_prompts} prompts cannot keep {max(values):g} requests in flight: give --num-prompts "
                                 "at least the concurrency", param_hint="--num-prompts")
    rows = run_evaluate(dep, load, values, input_tokens, output_tokens, percentile, num_prompts=num_prompts)
    band = error_band_for(vm.gpu.key, vm.gpu.vendor, dep.profile)
    for r in rows:
        r["bands"] = evaluate_bands(r, band)
    head = {"model": model.name, "gpu": vm.gpu.key, "gpus": dep.gpus, "sku": sku, "tp": tp, "ep": ep, "pp": pp,
            "quant": dep.quant, "kv_dtype": kv_dtype, "engine": f"{engine.engine} {engine.engine_version}",
            "input_tokens": input_tokens, "output_tokens": output_tokens, "percentile": percentile,
            "calibration": dep.profile.label if dep.profile is not None else "datasheet x published efficiencies",
            "error_band": band.to_json()}
    if as_json:
        emit_json({**head, "sweep": rows} if sweep else {**head, **rows[0]})
        return
    if as_csv:
        flat = [{**{k: v for k, v in head.items() if k != "error_band"}, **_flat_bands(r),
                 "error_band_source": band.source} for r in rows]
        click.echo(rows_to_csv(flat), nl=False)
        return
    dp = dep.parallelism.dp
    groups = f" of {dp} attention groups each (wide EP; figures per group: batch, KV)" if dp > 1 else ""
    click.echo(f"{model.name} on {dep.gpus} x {vm.gpu.key} ({sku or 'no VM'}): TP {tp} EP {ep} PP {pp} x {dep.replicas} "
               f"replica(s){groups}, {dep.quant} / KV {kv_dtype}, {engine.engine} {engine.engine_version}"
               f"{' (the newest the data covers; --engine-version)' if engine_version is None else ''}; "
               f"{input_tokens:,} in + {output_tokens:,} out tokens")
    banded = rows[0]["bands"]
    cols = shown(tail_label(percentile))
    width = [24 if k in banded else 12 for k, _, _ in cols]
    click.echo(f"{load:>12}" + "".join(f"{label:>{w}}" for (_, label, _), w in zip(cols, width)))
    for r in rows:
        cells = [_cell(r, k, fmt) for k, _, fmt in cols]
        click.echo(f"{r[load]:>12g}" + "".join(f"{c:>{w}}" for c, w in zip(cells, width)) + ("" if r["stable"] else "  saturated"))
    r = rows[-1]
    click.echo(f"decode step at batch {r['running_batch']:.1f}: {r['decode_step_ms']:.2f} ms = (attention {r['attention_ms']:.2f} + "
               f"MoE {r['moe_ms']:.2f} + dense {r['dense_ms']:.2f} + collectives {r['collectives_ms']:.2f} + head "
               f"{r['head_ms']:.2f}) x step scale {r['step_time_scale']:.2f} + host {r['host_ms']:.2f} ms (+ CUDA-graph padding); "
               f"prompts add {r['prefill_share']:.0%} of step time")
    if r["stable"]:
        t = r["ttft_parts_ms"]
        click.echo(f"TTFT p50 {r['median_ttft_ms']:.1f} ms = engine {t['engine_ms']:.1f} (wait for the step in flight, the prompt's "
                   f"own steps, queues) + output one step late {t['output_delay_ms']:.1f} + frontend {t['frontend_ms']:.1f} + CPU "
                   f"per prompt token {t['cpu_input_ms']:.1f} ({engine.engine} {engine.engine_version}: "
                   f"{engine.output_delay_steps:g} step late, {engine.cpu_s_per_input_token * 1e6:g} us a token)")
    click.echo(f"rates: {head['calibration']}")
    click.echo(f"(low-high): error band, {band.source}")
