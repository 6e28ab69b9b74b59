"""`moeprof models`, `moeprof models show NAME`, `moeprof hardware`."""

from __future__ import annotations

import click

from ..catalog.hardware.vms import load_gpus, load_vms
from ..catalog.models import load_model, model_names
from ..catalog.models.quant import load_recipes
from ..catalog.models.quant_label import quant_label
from ..errors import printable
from ..units import fmt_bytes, fmt_params, fmt_tokens
from .common import emit_json


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def models(ctx, as_json):
    """List the built-in models (total / active parameters, layout). `models show NAME` for one."""
    if ctx.invoked_subcommand:
        return
    specs = [load_model(n) for n in model_names()]
    rows = [m.summary() for m in specs]
    if as_json:
        emit_json(rows)
        return
    click.echo(f"{'name':<22}{'total':>10}{'active':>10}{'experts':>9}{'top-k':>6}{'MoE layers':>11}{'max context':>22}  default quant")
    for m, r in zip(specs, rows):
        click.echo(
            f"{r['name']:<22}{fmt_params(r['total_params']):>10}{fmt_params(r['active_params']):>10}"
            f"{r['num_experts']:>9}{r['top_k']:>6}{r['num_moe_layers']:>7}/{r['num_layers']:<3}"
            f"{fmt_tokens(r['max_position_embeddings']):>22}  {quant_label(m, r['default_quant'])}"
            + ("  (estimated config)" if r["estimated_fields"] else "")
        )
    click.echo("\nA Hugging Face id (openai/gpt-oss-120b) or a path to a config.json works wherever a model name does; "
               "ids of models not shipped are read from the Hub (pip install \"moeprof[hf]\").")


@models.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def models_show(name, as_json):
    """Parameters by component, layer layout and KV bytes per token of one model (NAME, Hugging Face id or config.json path)."""
    m = load_model(name)
    s = m.summary()
    if as_json:
        emit_json(s)
        return
    click.echo(f"{printable(m.name)}  ({printable(m.hf_id or m.source_path)})")
    if m.card_total_params:
        click.echo(
            f"  model card: {fmt_params(m.card_total_params)} total / "
            f"{fmt_params(m.card_active_params) if m.card_active_params else '-'} active"
        )
    click.echo(f"  derived:    {fmt_params(m.total_params)} total / {fmt_params(m.active_params)} active")
    if m.card_active_excludes:
        click.echo(
            f"              {fmt_params(m.active_params_card_convention)} active as the card counts it "
            f"(without {', '.join(m.card_active_excludes)})"
        )
    click.echo(f"  {'component':<16}{'total params':>14}{'active params':>15}")
    for k, v in m.params_by_component.items():
        click.echo(f"  {k:<16}{fmt_params(v):>14}{fmt_params(m.active_params_by_component[k]):>15}")
    click.echo(
        f"  layers {m.num_layers}: "
        + ", ".join(f"{k.count} x {k.attention} attention + {k.ffn}" for k in m.layer_kinds())
    )
    click.echo(
        f"  attention {s['attention']}: {m.num_heads} heads, {m.num_kv_heads} KV heads, head_dim {m.head_dim}"
        + (f", chunk {m.attention_chunk_size:,} tokens on {m.num_chunked_layers} layers" if m.attention_chunk_size else "")
        + (f", window {m.sliding_window:,} tokens on {m.num_sliding_layers} layers" if m.sliding_window else "")
        + (", attention sinks" if m.attention_sinks else "")
    )
    click.echo(
        f"  experts {m.num_experts}, top-{m.top_k}, expert width {m.expert_intermediate_size}"
        + (f", shared expert width {m.shared_intermediate_size}" if m.shared_intermediate_size else "")
    )
    kv = m.kv_bytes_per_token(2)
    click.echo(
        f"  KV per token (bf16, one copy): {fmt_bytes(sum(kv.values()))} ("
        + ", ".join(f"{k} layers {fmt_bytes(v)}" for k, v in kv.items() if v)
        + ")"
    )
    click.echo(f"  max position embeddings {fmt_tokens(m.max_position_embeddings)}; default quant {quant_label(m, m.default_quant)}")
    if m.checkpoint_quant is not None:
        click.echo(f"  checkpoint quant: {m.checkpoint_quant.description}")
    if m.draft_params:
        click.echo(f"  draft model (MTP, not in the totals): {fmt_params(m.draft_params)}")
    if m.estimated_fields:
        click.echo(f"  ESTIMATED fields: {printable(', '.join(m.estimated_fields))}")
    for n in m.notes:
        click.echo(f"  {'how' if m.estimated_fields else 'note'}: {printable(n)}")
    for src in m.sources:
        click.echo(f"  source: {printable(src)}")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--vm-file", type=click.Path(dir_okay=False), help="JSON file of extra / overriding VMs and prices.")
def hardware(as_json, vm_file):
    """GPUs, Azure VM SKUs and prices, quantization recipes, each value with its source."""
    gpus, vms, recipes = load_gpus(), load_vms(vm_file), load_recipes()
    if as_json:
        emit_json(
            {
                "gpus": {
                    k: {**{f: getattr(g, f) for f in g.__dataclass_fields__ if f not in ("sources",)}, "sources": g.sources}
                    for k, g in gpus.items()
                },
                "vms": {
                    k: {
                        "azure_name": v.azure_name,
                        "gpu": v.gpu.key,
                        "gpus_per_vm": v.gpus_per_vm,
                        "vcpus": v.vcpus,
                        "ram_bytes": v.ram_bytes,
                        "scale_out_bytes_per_s_per_gpu": v.scale_out_bytes_per_s_per_gpu,
                        "price": v.price.__dict__,
                        "allreduce_bus_bytes_per_s": v.allreduce_curve,
                        "sources": v.sources,
                    }
                    for k, v in vms.items()
                },
                "quant_recipes": {k: r.__dict__ for k, r in recipes.items()},
            }
        )
        return
    click.echo("GPUs (datasheet, dense):")
    click.echo(f"  {'key':<16}{'usable GiB':>11}{'HBM TB/s':>10}{'bf16 TFLOP/s':>14}{'fp8 TFLOP/s':>13}{'W':>6}")
    for k, g in gpus.items():
        click.echo(
            f"  {k:<16}{g.usable_memory_bytes / 2**30:>11.1f}{g.hbm_bytes_per_s / 1e12:>10.2f}"
            f"{g.bf16_flop_per_s / 1e12:>14.1f}{g.fp8_flop_per_s / 1e12:>13.1f}{g.tdp_w:>6.0f}"
            + ("  *some values unverified" if g.uncertain else "")
        )
    click.echo("\nAzure VMs:")
    for k, v in vms.items():
        p = v.price
        flag = "ESTIMATE" if p.estimate else f"{p.region}, {p.date}"
        click.echo(
            f"  {k:<14}{v.azure_name:<28}{v.gpus_per_vm} x {v.gpu.key:<16}${p.usd_per_hour:>8.2f}/h ({flag})"
        )
        click.echo(f"  {'':<14}price source: {printable(p.source)}" + (f" [{p.status}]" if p.status else ""))
    click.echo("\nQuantization recipes:")
    for k, r in recipes.items():
        click.echo(f"  {k:<14}{r.description}")
    click.echo("\nOverride a price with --price-per-hour SKU=USD (plan, compare) or add VMs with --vm-file; every price "
               "by kind and region: moeprof prices list.")
