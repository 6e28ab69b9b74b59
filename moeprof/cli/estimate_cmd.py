"""`moeprof estimate`: one model step on one GPU, by layer kind and op (the performance model)."""

from __future__ import annotations

import click

from ..catalog.hardware.vms import get_gpu
from ..catalog.models import load_model
from ..catalog.models.quant import KV_DTYPES, get_recipe
from .common import BoundedFloat, BoundedInt, emit_json


@click.command()
@click.option("--model", "model_name", required=True, help="Model: short name (moeprof models), Hugging Face id (openai/gpt-oss-120b) or config.json path.")
@click.option("--gpu", "gpu_name", required=True, help="GPU: h100, h200, mi300x, mi325x or a catalog key (moeprof hardware).")
@click.option("--quant", default=None, help="Quantization recipe: bf16, fp8, fp8-experts, int4, int4-experts [default: the model's].")
@click.option("--kv-dtype", type=click.Choice(sorted(KV_DTYPES)), default="bf16", show_default=True, help="KV-cache dtype.")
@click.option("--phase", type=click.Choice(["decode", "prefill"]), default="decode", show_default=True,
              help="decode: one iteration of BATCH sequences; prefill: BATCH prompts of CONTEXT tokens.")
@click.option("--batch", type=BoundedInt(1, 1 << 20), default=1, show_default=True, help="Sequences in the step.")
@click.option("--context", type=BoundedInt(1, 1 << 31), default=8192, show_default=True,
              help="Sequence length in tokens (prompt + output so far) of every sequence in the step: its KV (decode), its prompt (prefill).")
@click.option("--profile", default=None,
              help="GPU profile JSON, or 'datasheet' for the uncalibrated fallback [default: the shipped profile for the GPU, if any].")
@click.option("--routing-skew", type=BoundedFloat(0.0, 10.0, lo_open=False), default=0.0, show_default=True,
              help="Zipf exponent of expert popularity; 0 = uniform routing.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def estimate(model_name, gpu_name, quant, kv_dtype, phase, batch, context, profile, routing_skew, as_json):
    """Time of one decode or prefill step on ONE GPU (no parallelism), per layer kind and op.

    Each op costs max(FLOPs / achieved FLOP/s, bytes / achieved bytes/s) + a per-kernel fixed
    cost; achieved rates come from a GPU profile, else datasheet x published efficiencies
    (reported as uncalibrated). The model need not fit in one GPU's memory: this is a cost
    breakdown, see `moeprof memory` for what fits."""
    from ..perf import estimate as run_estimate
    from ..perf import make_context, resolve_profile

    model = load_model(model_name)
    gpu = get_gpu(gpu_name)
    recipe = get_recipe(quant or model.default_quant, model)
    ctx = make_context(model, gpu, recipe, kv_dtype, resolve_profile(gpu, profile), None, routing_skew)
    out = run_estimate(ctx, phase, batch, context)
    if as_json:
        emit_json(out)
        return
    _print(out)


def _print(out: dict) -> None:
    what = (
        f"decode step, {out['batch']} sequence(s) x {out['context']:,} tokens of KV"
        if out["phase"] == "decode"
        else f"prefill of {out['batch']} prompt(s) x {out['context']:,} tokens"
    )
    click.echo(f"{out['model']} on one {out['gpu']}; quant {out['quant']}; KV {out['kv_dtype']}; {what}")
    click.echo(f"rates: {out['calibration']['label']}")
    for name, use in out.get("kernel_tables", {}).items():
        flag = f", EXTRAPOLATED at {use['extrapolated']} of them (outside the measured grid)" if use["extrapolated"] else ""
        click.echo(f"  kernel table {name}: {use['lookups']} lookups{flag}")
    names = []
    for layer in out["layers"]:
        names += [n for n in layer["ops"] if n not in names]
    head = f"{'layer kind':<16}{'count':>6}" + "".join(f"{n:>12}" for n in names) + f"{'ms/layer':>11}{'ms total':>11}"
    click.echo(head)
    for layer in out["layers"]:
        cells = "".join(f"{layer['ops'][n]:>12.4f}" if n in layer["ops"] else f"{'-':>12}" for n in names)
        click.echo(f"{layer['attention'] + '-' + layer['ffn']:<16}{layer['count']:>6}{cells}{layer['ms']:>11.4f}{layer['total_ms']:>11.3f}")
    h = out["head"]
    click.echo(f"{'head':<16}{1:>6}  " + ", ".join(f"{k} {v:.4f}" for k, v in h["ops"].items()) + f"   = {h['ms']:.3f} ms")
    for layer in out["layers"]:
        d = layer.get("moe_detail")
        if d:
            click.echo(
                f"  {layer['attention']}-{layer['ffn']} moe: router {d['router_ms']:.4f} + shared {d['shared_expert_ms']:.4f} + routed "
                f"{d['routed_experts_ms']:.4f} ms; {d['experts_touched']:.2f} experts touched, {d['tokens_per_expert']:.2f} tokens/expert"
            )
            break
    click.echo(
        f"step {out['step_ms']:.3f} ms  ({out['tokens_per_s']:,.0f} tokens/s); {out['flops'] / 1e12:.2f} TFLOP, weights read "
        f"{out['weight_bytes'] / 1e9:.2f} GB, KV read {out['kv_bytes'] / 1e9:.2f} GB; {out['joules_per_token']:.3f} J/token"
    )
