"""`moeprof data`: the data shipped with moeprof by name (catalog/bundled.py): benchmark sets
(`--bench NAME`), traffic profiles (`--traffic NAME`) and GPU profiles (`--profile NAME`)."""

from __future__ import annotations

from dataclasses import asdict

import click

from ..catalog.bundled import KINDS, bundled
from ..errors import printable
from .common import emit_json

FLAG = {"benchmarks": "--bench", "traffic": "--traffic", "profile": "--profile"}


@click.command()
@click.option("--kind", type=click.Choice(KINDS), default=None, help="Only this kind [default: all].")
@click.option("--paths/--no-paths", default=True, show_default=True, help="Show each file's installed path.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (name, kind, flag, source, path).")
def data(kind, paths, as_json):
    """Shipped benchmark sets, traffic profiles and GPU profiles: the name each flag takes
    (`--bench inferencex-2025-12`, `--traffic diurnal-week`, `--profile h100-sxm-80gb.aic-vllm`),
    what it is and where it is installed. A file path works wherever a name does."""
    rows = [b for b in bundled() if kind is None or b.kind == kind]
    if as_json:
        emit_json([{**asdict(b), "flag": FLAG[b.kind]} for b in rows])
        return
    width = max((len(b.name) for b in rows), default=4)
    for k in KINDS:
        mine = [b for b in rows if b.kind == k]
        if not mine:
            continue
        click.echo(f"{k} ({FLAG[k]} NAME)")
        for b in mine:
            click.echo(f"  {b.name:<{width}}  {printable(b.source)}")
            if paths:
                click.echo(f"  {'':<{width}}  {printable(b.path)}")
