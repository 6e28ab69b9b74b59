"""`moeprof profile import --from aiconfigurator`: a profile from NVIDIA aiconfigurator's
measured kernel tables (optional extra `[aic]`; planning never needs it)."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import MoeprofError
from .common import emit_json

SYSTEMS = {"h100_sxm": "h100-sxm-80gb", "h200_sxm": "h200-sxm-141gb"}
BENCH_CONFIGS = Path(__file__).resolve().parent.parent / "data" / "benchmarks" / "configs"


def model_shapes() -> tuple[set, set]:
    """(MoE shapes (hidden, inter, experts, topk), attention head dims) of the built-in models and
    the benchmark configs: the subset of the tables worth shipping."""
    from ..catalog.models import load_model, model_names

    names = list(model_names()) + sorted(str(p) for p in BENCH_CONFIGS.glob("*.json"))
    moe, heads = set(), set()
    for name in names:
        m = load_model(name)
        if m.num_experts:
            moe.add((m.hidden_size, m.expert_intermediate_size, m.num_experts, m.top_k))
        if not m.is_mla:
            heads.add(m.head_dim)
    return moe, heads


def build_profile(system, engine, version, gpu_key, base_ref, date):
    from ..catalog.hardware.vms import get_gpu
    from ..kernel_tables.aic_import import import_tables
    from ..profile import Profile, default_profile_for, resolve_profile

    if gpu_key is None and system not in SYSTEMS:
        raise MoeprofError(f"no moeprof GPU known for system {system!r} (known: {', '.join(SYSTEMS)}); pass --gpu")
    gpu = get_gpu(gpu_key or SYSTEMS[system])
    moe, heads = model_shapes()
    tables, prov = import_tables(system, engine, version, head_dims=heads, moe_shapes=moe, date=date)
    base = resolve_profile(base_ref) if base_ref else default_profile_for(gpu.key)
    if base is not None and base.gpu != gpu.key:
        raise MoeprofError(f"base profile is for GPU '{base.gpu}', not '{gpu.key}'")
    prov["base_profile"] = Path(base.path).name if base is not None else None
    prov["sources"] = [prov["notice"]] + (list(base.provenance.get("sources", [])) if base is not None else [])
    note = (f"Kernel tables of {engine} {prov['tables'].get('gemm_bf16', {}).get('engine_version', '')} on "
            f"{prov['device_name'] or system} from NVIDIA aiconfigurator {prov['package_version']} "
            f"({len(tables)} tables); other ops from "
            f"{prov['base_profile'] or 'the datasheet'}. {prov['notice']}")
    return Profile(
        gpu=gpu.key,
        source="published",
        provenance=prov,
        curves=dict(base.curves) if base is not None else {},
        scalars=dict(base.scalars) if base is not None else {},
        note=note,
        kernel_tables_json={name: t.to_json() for name, t in tables.items()},
    )


@click.group()
def profile():
    """GPU profiles: import one from measured kernel tables."""


@profile.command("import")
@click.option("--from", "origin", type=click.Choice(("aiconfigurator",)), required=True, help="Where the tables come from.")
@click.option("--system", required=True, help="aiconfigurator system (h100_sxm, h200_sxm, ...).")
@click.option("--engine", type=click.Choice(("vllm", "sglang", "trtllm")), required=True, help="Engine whose kernels were measured.")
@click.option("--version", default=None, help="Engine version [default: the newest per table].")
@click.option("--gpu", "gpu_key", default=None, help="moeprof GPU the profile is for [default: from --system].")
@click.option("--base", "base_ref", default=None, help="Profile whose curves cover the ops the tables lack [default: the GPU's shipped default].")
@click.option("--date", default=None, help="Import date recorded in the provenance [default: today].")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Profile to write.")
@click.option("--json", "as_json", is_flag=True, help="Print the provenance as JSON.")
def import_(origin, system, engine, version, gpu_key, base_ref, date, out, as_json):
    """Turn aiconfigurator's measured kernel tables (GEMM, attention, MoE, all-reduce) into a
    moeprof profile, with their provenance and license notice (needs `pip install 'moeprof[aic]'`)."""
    from ..fileio import refuse_input
    from ..profile import save_profile

    if out != "-":
        refuse_input(out, "profile", inputs=(base_ref,))
    prof = build_profile(system, engine, version, gpu_key, base_ref, date)
    path = save_profile(prof, out)
    tabs = prof.provenance["tables"]
    if as_json:
        emit_json({"out": str(path), "provenance": prof.provenance})
        return
    click.echo(f"wrote {path}: {len(tabs)} kernel tables for {prof.gpu} "
               f"({prof.provenance['package']} {prof.provenance['package_version']}, {engine})")
    for name, t in tabs.items():
        click.echo(f"  {name:<40} {t['measured_cells']:>6} measured / {t['cells']:>6} cells  "
                   f"{t['engine_version']:<10} {t['kernel_source']}")
    click.echo(f"license: {prof.provenance['license']}; {prof.provenance['notice']}")
