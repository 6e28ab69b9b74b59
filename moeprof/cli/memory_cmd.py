"""`moeprof memory`: per-GPU memory of one deployment."""

from __future__ import annotations

import click

from ..api.workflows.memory import memory_run
from ..catalog.models.quant import KV_DTYPES
from ..catalog.models.quant_label import quant_label
from ..units import fmt_bytes, fmt_tokens
from .common import BoundedFloat, BoundedInt, emit_json


@click.command()
@click.option("--model", "model_name", required=True, help="Model: short name (moeprof models), Hugging Face id (openai/gpt-oss-120b) or config.json path.")
@click.option("--sku", required=True, help="VM SKU, e.g. nd-h100-v5 (moeprof hardware).")
@click.option("--vms", type=BoundedInt(1, 1024), default=1, show_default=True, help="Number of VMs.")
@click.option("--quant", default=None, help="Quantization recipe: bf16, fp8, fp8-experts, int4, int4-experts [default: the model's].")
@click.option("--kv-dtype", type=click.Choice(sorted(KV_DTYPES)), default=None, help="KV-cache dtype [default: the checkpoint's KV scheme, else bf16].")
@click.option("--tp", type=BoundedInt(1, 1024), default=None, help="Tensor parallel size [default: GPUs per VM].")
@click.option("--ep", type=BoundedInt(1, 1024), default=None, help="Expert parallel size: 1 or tp [default: 1].")
@click.option("--pp", type=BoundedInt(1, 1024), default=1, show_default=True, help="Pipeline parallel size.")
@click.option("--context", type=BoundedInt(1, 2**31), default=None, help=(
    "Sequence length in tokens (prompt + output) every sequence must be able to reach; fits=false when the KV cache cannot hold one that long."
))
@click.option("--gpu-memory-utilization", type=BoundedFloat(0, 1.0), default=None, help="Engine memory fraction [default: vLLM's 0.9].")
@click.option("--vm-file", type=click.Path(dir_okay=False), help="JSON file of extra / overriding VMs.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def memory(model_name, sku, vms, quant, kv_dtype, tp, ep, pp, context, gpu_memory_utilization, vm_file, as_json):
    """Weights, KV cache, engine overhead and max context per GPU for one deployment.

    Default parallelism: TP over the VM's GPUs, one replica per VM. Exit 1 when it does not fit."""
    run = memory_run(model_name, sku, vms, quant, kv_dtype, tp, ep, pp, context, gpu_memory_utilization, vm_file)
    r, engine, model, vm = run.result, run.engine, run.model, run.vm
    if as_json:
        emit_json(r.to_json())
        if not r.fits:
            raise SystemExit(1)
        return
    click.echo(
        f"{model.name} on {vms} x {vm.key} ({r.gpus} x {vm.gpu.name}); tp={r.tp} ep={r.ep} pp={r.pp} "
        f"replicas={r.replicas}; quant {quant_label(model, r.quant)}; KV {r.kv_dtype}"
    )
    click.echo("per GPU (heaviest pipeline stage):")
    click.echo(f"  usable memory      {fmt_bytes(r.usable_memory_bytes_per_gpu)}")
    click.echo(
        f"engine budget      {fmt_bytes(r.budget_bytes_per_gpu)}  ({engine.gpu_memory_utilization:g} x usable, {engine.engine} {engine.engine_version})"
    )
    click.echo(f"  weights            {fmt_bytes(r.weights_bytes_per_gpu)}")
    for k, v in r.weights_bytes_by_component.items():
        if v:
            click.echo(f"    {k:<16} {fmt_bytes(v)}")
    click.echo(
        f"  engine overhead    {fmt_bytes(r.overhead_bytes_per_gpu)}  (activation peak {fmt_bytes(r.activation_peak_bytes_per_gpu)}, "
        f"non-torch {fmt_bytes(r.non_torch_bytes_per_gpu)}, CUDA graphs {fmt_bytes(r.cuda_graph_bytes_per_gpu)})"
    )
    click.echo(
        "KV budget          "
        f"{fmt_bytes(r.kv_budget_bytes_per_gpu) if r.kv_budget_bytes_per_gpu > 0 else 'none (' + fmt_bytes(r.kv_budget_bytes_per_gpu) + ')'}"
    )
    by = r.kv_bytes_per_token_per_gpu_by_kind
    click.echo(
        f"  KV per token       {fmt_bytes(r.kv_bytes_per_token_per_gpu)} ("
        + ", ".join(f"{k} layers {fmt_bytes(v)}" for k, v in by.items() if v)
        + ")"
    )
    click.echo(f"  KV capacity        {r.kv_capacity_tokens:,} tokens (all layers)")
    click.echo(
        f"  max context        {fmt_tokens(r.max_context_tokens)} tokens (model max {fmt_tokens(r.model_max_context_tokens)})"
    )
    if model.num_chunked_layers or model.num_sliding_layers:
        capped = ", ".join(r.kv_capped_kinds) or "no"
        click.echo(f"                     (the engine caps KV at the span on {capped} layers)")
    if r.max_context_tokens_full_kv != r.max_context_tokens:
        click.echo(f"                     {fmt_tokens(r.max_context_tokens_full_kv)} tokens if the engine keeps full KV on every layer")
    if r.max_context_tokens_all_capped != r.max_context_tokens:
        click.echo(
            f"                     {fmt_tokens(r.max_context_tokens_all_capped)} tokens if the engine caps chunked and sliding layers "
            "(hybrid KV cache manager; VLLM_ALLOW_CHUNKED_LOCAL_ATTN_WITH_HYBRID_KV_CACHE=1 for chunked)"
        )
    if r.max_concurrent_seqs_at_target is not None:
        click.echo(f"  sequences at {r.target_context_tokens:,} tokens: {r.max_concurrent_seqs_at_target:,} per replica")
    click.echo(("FITS: " if r.fits else "DOES NOT FIT: ") + r.reason)
    if not r.fits:
        raise SystemExit(1)  # a deployment that does not fit is an answer a script must not take for success
