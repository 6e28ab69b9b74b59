"""`moeprof evaluate`: one fixed deployment at a concurrency or a QPS, or a sweep of them."""

from __future__ import annotations

import click

from ..api.workflows.evaluate import evaluate_run
from ..catalog.models.quant import KV_DTYPES
from ..catalog.models.quant_label import quant_label
from ..deployment.evaluate import tail_label
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


class _Concurrency(BoundedFloat):
    """Requests in flight: a whole number from 1 to 1e6."""

    def convert(self, value, param, ctx):
        v = super().convert(value, param, ctx)
        if v != int(v) or v < 1:
            self.fail(f"{value} is not a whole number of requests in flight (1, 2, ...)", param, ctx)
        return float(int(v))


@click.command()
@click.option("--model", "model_name", required=True, help="Model: short name (moeprof models), Hugging Face id (openai/gpt-oss-120b) or config.json path.")
@click.option("--sku", default=None, help="Azure VM SKU (moeprof hardware); with --vms.")
@click.option("--vms", type=BoundedInt(1, 64), default=1, show_default=True, help="VMs of --sku.")
@click.option("--gpu", "gpu_name", default=None, help="GPU (catalog key or h100, h200, mi300x, mi325x) instead of a VM SKU; with --gpus.")
@click.option("--gpus", type=BoundedInt(1, 512), default=None, help="GPUs of --gpu (8 per host).")
@click.option("--tp", type=BoundedInt(1, 64), required=True, help="Tensor parallel GPUs per replica.")
@click.option("--ep", type=BoundedInt(1, 64), default=1, show_default=True, help=(
    "Expert parallel GPUs: 1, --tp, or a multiple of --tp across VMs (wide EP: ep / tp attention groups)."
))
@click.option("--pp", type=BoundedInt(1, 64), default=1, show_default=True, help="Pipeline stages per replica.")
@click.option("--quant", default=None, help="Quantization recipe [default: the model's released weights].")
@click.option("--kv-dtype", type=click.Choice(KV_DTYPES), default="bf16", show_default=True, help="KV cache dtype.")
@click.option("--max-concurrency", "--concurrency", "concurrency", type=_Concurrency(0, 1e6), default=None,
              help="Requests in flight (closed loop, `vllm bench serve --max-concurrency`; --concurrency is the older name).")
@click.option("--qps", type=BoundedFloat(0, 1e6), default=None, help="Poisson arrivals per second (open loop).")
@click.option("--num-prompts", type=BoundedInt(1, 2**31), default=None,
              help=(
                  "With --concurrency: prompts the benchmark client sends in all (`vllm bench serve --num-prompts`); TTFT figures then cover the burst its "
                  "clients start with [default: an endless run]."
              ))
@click.option("--fixed-lengths", is_flag=True, help=(
    "With --concurrency: every request has exactly --input-tokens and --output-tokens (`vllm bench serve`'s random dataset at its "
    "default --random-range-ratio 0). Requests that start together then end together, so the clients send in waves and TTFT is "
    "that of a wave's prefill steps [default: lengths that vary, as --random-range-ratio 0.8 draws them]."
))
@click.option("--sweep", default=None, help="max_concurrency=1,2,4,... (or qps=...; concurrency= is read too): one row per value.")
@click.option("--input-tokens", "--isl", "input_tokens", type=BoundedInt(1, 2**24), required=True, help="Prompt tokens per request.")
@click.option("--output-tokens", "--osl", "output_tokens", type=BoundedInt(1, 2**24), required=True, help="Generated tokens per request.")
@click.option("--engine", "engine_name", type=click.Choice(("vllm", "sglang")), default="vllm", show_default=True, help=(
    "Serving engine whose scheduler settings apply."
))
@click.option("--engine-version", default=None,
              help="Engine version (0.13.0, v0.5.5.post3): its serving path and calibration [default: the newest the data covers, printed].")
@click.option("--mxfp4-moe-kernel", type=click.Choice(("default", "marlin")), default="default", show_default=True, help=(
    "MoE kernel of MXFP4 experts (gpt-oss): marlin = vLLM's Marlin MoE, as VLLM_MXFP4_USE_MARLIN=1 selects on NVIDIA; its "
    "prefill compute is capped at its measured rate (moeprof/data/moe_kernel_rates.json) [default: the engine's own choice, "
    "triton_kernels on Hopper]."
))
@click.option("--percentile", type=BoundedFloat(50, 99.99, lo_open=False), default=99.0, show_default=True,
              help="Tail percentile, reported under its own name (p90_ttft_ms for 90).")
@click.option("--profile", "profile_path", default=None, help=(
    "GPU profile JSON or a shipped profile's name (h100-sxm-80gb.aic-vllm) [default: the shipped one for the GPU]."
))
@click.option("--json", "as_json", is_flag=True, help="Print JSON (a list under 'sweep' with --sweep).")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV, one row per load value.")
def evaluate(model_name, sku, vms, gpu_name, gpus, tp, ep, pp, quant, kv_dtype, concurrency, qps, num_prompts, fixed_lengths, sweep,
             input_tokens, output_tokens, engine_name, engine_version, mxfp4_moe_kernel, percentile, profile_path, as_json, as_csv):
    """What one fixed deployment does under the serving engine's scheduler: throughput per GPU,
    tokens/s per user, TTFT / TPOT / ITL / end-to-end latency (vLLM `bench serve` names), the
    running batch, KV use and the decode step split by kind."""
    run = evaluate_run(model_name, sku, vms, gpu_name, gpus, tp, ep, pp, quant, kv_dtype, concurrency, qps, num_prompts, sweep,
                       input_tokens, output_tokens, engine_name, engine_version, percentile, profile_path, fixed_lengths,
                       mxfp4_moe_kernel)
    rows, head, load, dep, band = run.rows, run.head, run.load, run.deployment, run.band
    model, vm, engine = dep.model, dep.vm, dep.engine
    if as_json:
        emit_json(run.to_json())
        return
    if as_csv:
        click.echo(rows_to_csv(run.flat_rows()), nl=False)
        return
    dp = dep.parallelism.dp
    groups = f" of {dp} attention groups each (wide EP; figures per group: batch, KV)" if dp > 1 else ""
    click.echo(f"{model.name} on {dep.gpus} x {vm.gpu.key} ({sku or 'no VM'}): TP {tp} EP {ep} PP {pp} x {dep.replicas} "
               f"replica(s){groups}, {quant_label(model, dep.quant)} / KV {kv_dtype}, {engine.engine} {engine.engine_version}"
               f"{' (the newest the data covers; --engine-version)' if engine_version is None else ''}"
               f"{', MXFP4 MoE on Marlin (VLLM_MXFP4_USE_MARLIN=1)' if engine.mxfp4_moe_kernel == 'marlin' else ''}; "
               f"{input_tokens:,} in + {output_tokens:,} out tokens")
    banded = rows[0]["bands"]
    cols = shown(tail_label(percentile))
    body = [[_cell(r, k, fmt) for k, _, fmt in cols] for r in rows]
    # each column as wide as its widest cell (a band like "1351.855 (1237.218-1565.719)" runs past 24), one space apart
    width = [max(24 if k in banded else 12, *(len(b[i]) + 1 for b in body)) for i, (k, _, _) in enumerate(cols)]
    first = max(12, *(len(f"{r[load]:g}") + 1 for r in rows))
    click.echo(f"{load:>{first}}" + "".join(f"{label:>{w}}" for (_, label, _), w in zip(cols, width)))
    for r, cells in zip(rows, body):
        click.echo(f"{r[load]:>{first}g}" + "".join(f"{c:>{w}}" for c, w in zip(cells, width)) + ("" if r["stable"] else "  saturated"))
    r = rows[-1]
    click.echo(f"decode step at batch {r['running_batch']:.1f}: {r['decode_step_ms']:.2f} ms = (attention {r['attention_ms']:.2f} + "
               f"MoE {r['moe_ms']:.2f} + dense {r['dense_ms']:.2f} + collectives {r['collectives_ms']:.2f} + head "
               f"{r['head_ms']:.2f}) x step scale {r['step_time_scale']:.2f} + host {r['host_ms']:.2f} ms (+ CUDA-graph padding); "
               f"prompts add {r['prefill_share']:.0%} of step time"
               + (" (in prefill steps of their own, the decodes waiting: SGLang without --enable-mixed-chunk)" if engine.prefill_apart
                  else " (riding in the decode steps: chunked prefill)"))
    if r["stable"]:
        t = r["ttft_parts_ms"]
        if t["output_delay_ms"] is None:  # in waves: the delayed output waits for the next group's prefill step
            engine_part = (f"engine {t['engine_ms']:.1f} (a wave's steps: the previous group's prefill step in flight, the prompt's own, "
                           f"and the next group's, after which its first token leaves)")
        else:
            engine_part = (f"engine {t['engine_ms']:.1f} (wait for the step in flight, the prompt's own steps, queues) + output one "
                           f"step late {t['output_delay_ms']:.1f}")
        click.echo(f"TTFT p50 {r['median_ttft_ms']:.1f} ms = {engine_part} + frontend {t['frontend_ms']:.1f} + CPU "
                   f"per prompt token {t['cpu_input_ms']:.1f} ({engine.engine} {engine.engine_version}: "
                   f"{engine.output_delay_steps:g} step late, {engine.cpu_s_per_input_token * 1e6:g} us a token)")
    if r["stable"] and "startup_mean_ttft_ms" in r and num_prompts is not None and num_prompts > r[load]:
        click.echo(f"start-up: the run's first {r[load]:g} prompts arrive at once; they add {r['startup_mean_ttft_ms']:.1f} ms to the mean TTFT "
                   f"(steady state: mean {r['steady_state_mean_ttft_ms']:.1f}, p50 {r['steady_state_median_ttft_ms']:.1f} ms)")
    elif r["stable"] and num_prompts is not None and num_prompts <= r[load]:
        click.echo(f"a single wave: all {num_prompts:,} prompts arrive at once, so the TTFT figures are the wave's (no steady state); "
                   "throughput and TPOT are the steady state's at this concurrency")
    click.echo(f"rates: {head['calibration']}")
    if head.get("warning"):
        click.echo(f"warning: {head['warning']}")
    click.echo(f"(low-high): error band, {band.source}")
