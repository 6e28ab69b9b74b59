"""`moeprof report` (HTML report of a saved plan or a GPU profile) and `moeprof export`
(deployment commands / YAML for a saved plan's recommendation)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from ..errors import ConfigError
from .common import emit_json


class _Choice(click.Choice):
    """A choice whose missing-option message stays on one line."""

    def get_missing_message(self, param, ctx) -> str:
        return f"choose one of {', '.join(map(str, self.choices))}"


def _default_output(src: str, suffix: str) -> str:
    return str(Path(src).with_suffix(suffix).name)


@click.command()
@click.argument("file", metavar="RESULT.json", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False), default=None,
              help="HTML file to write [default: FILE's name with .html, in the current folder].")
@click.option("--validation", "validation_path", type=click.Path(dir_okay=False), default=None,
              help="`moeprof validate --json` output: adds the predicted vs measured chart to a plan report.")
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
def report(file, out, validation_path, as_json):
    """Write a self-contained offline HTML report of any JSON moeprof writes: a plan (`plan --json`),
    a comparison (`compare --json`: bars with their error bands), an evaluation or its sweep
    (`evaluate --json`: total and output tokens/s per GPU vs tokens/s per user), a validation
    (`validate --json`: predicted vs measured) or a GPU profile (`probe`). Plotly embedded once,
    no network access."""
    from ..fileio import check_output_target
    from ..planner.document.plan import PlanDocument
    from ..report import write_plan_report, write_profile_report, write_result_report
    from ..report.plan_doc import read_json
    from ..report.result_kinds import kind_of

    out = out or _default_output(file, ".html")
    if out != "-":
        check_output_target(out, "report", inputs=(file, validation_path))
    doc = read_json(file)
    kind = kind_of(doc)
    if validation_path and kind != "plan":
        raise click.BadParameter("applies to plan reports only", param_hint="--validation")
    if kind == "profile":
        write_profile_report(doc, out, path_label=file)
    elif kind == "plan":
        plan_doc = PlanDocument.from_json(doc, file)
        validation = read_json(validation_path) if validation_path else None
        write_plan_report(plan_doc, out, validation)
    elif kind is not None:
        write_result_report(doc, kind, out, path_label=file)
    else:
        raise ConfigError(file, "<root>", "not a JSON moeprof writes (plan, compare, evaluate, validate --json, or a "
                                          "profile with schema 'moeprof.profile')")
    if out == "-":
        return
    size = os.path.getsize(out)
    if as_json:
        emit_json({"kind": kind, "output": out, "bytes": size})
    else:
        click.echo(f"{kind} report written to {out} ({size / 1e6:.1f} MB, opens offline)")


@click.command()
@click.argument("plan_file", metavar="PLAN.json", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=_Choice(["vllm", "sglang", "azureml"]), required=True,
              help="vllm: `vllm serve` commands; sglang: SGLang launch commands; azureml: Azure ML managed online deployment YAML.")
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False), default=None, help="File to write [default: stdout].")
@click.option("--json", "as_json", is_flag=True, help="Print {format, engine, output or text} as JSON.")
def export(plan_file, fmt, out, as_json):
    """Deployment of a saved plan's recommended configuration for vLLM, SGLang or Azure ML;
    each states the engine version it targets."""
    from ..export import SGLANG_VERSION, vllm_version
    from ..export import export as make_export
    from ..fileio import check_output_target, write_atomic
    from ..report.plan_doc import load_plan

    if out:
        check_output_target(out, "export", inputs=(plan_file,))
    doc = load_plan(plan_file)
    text = make_export(doc.to_json(), fmt)
    engine = f"SGLang {SGLANG_VERSION}" if fmt == "sglang" else f"vLLM {vllm_version()}"
    if out == "-":
        out = None
    elif out:
        write_atomic(out, text, what="export", mode=0o644 if fmt == "azureml" else 0o755)
    if as_json:
        emit_json({"format": fmt, "engine": engine, **({"output": out} if out else {"text": text})})
    elif out:
        click.echo(f"{fmt} export ({engine}) written to {out}", err=True)
    else:
        click.echo(text, nl=False)
