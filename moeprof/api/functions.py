"""The Python API: `plan`, `compare`, `evaluate`, `memory` and `load_model`, each taking the keyword
arguments its command takes as flags (moeprof.api.keywords) and running the same workflow
(moeprof.api.workflows)."""

from __future__ import annotations

from ..catalog.bundled import resolve
from ..catalog.models import ModelSpec
from ..catalog.models import load_model as _load_model
from ..cli import compare_cmd, evaluate_cmd, memory_cmd, plan_cmd
from ..fileio import check_output_target
from ..planner.document.traffic_file import read_traffic
from .keywords import bind, described
from .results import CompareResult, EvaluateResult, MemoryEstimate, PlanResult
from .workflows.compare import compare_json, compare_rows
from .workflows.evaluate import evaluate_run
from .workflows.memory import memory_run
from .workflows.plan import add_traffic, check_readable, plan_document
from .workflows.pricing import refuse_spot_pick

_PLAN_ONLY = ("report_path", "traffic_path", "min_units")


def _document(values: dict):
    return plan_document(**{k: v for k, v in values.items() if k not in _PLAN_ONLY})


def plan(model: str | None = None, **options) -> PlanResult:
    """The cheapest deployment meeting the targets, as `moeprof plan` (keywords: its flags)."""
    v = bind(plan_cmd.plan, {"model": model, **options})
    v["traffic_path"] = resolve("traffic", v["traffic_path"]) if v["traffic_path"] else None
    if v["report_path"]:
        check_output_target(v["report_path"], "report", inputs=(v["traffic_path"], v["vm_file"], *(v["profile_paths"] or ())))
    traffic = read_traffic(v["traffic_path"]) if v["traffic_path"] else None
    _, doc, wall_s = _document(v)
    if v["pricing"] == "spot" and doc.recommended is not None:
        refuse_spot_pick(doc)  # as `moeprof plan`: a plan needs all its VMs up; a Spot VM may be evicted at any time
    if traffic is not None:
        add_traffic(doc, traffic, v["min_units"], v["vm_file"], v["prices"], v["pricing"], v["region"], v["skus"])
    check_readable(doc)
    if v["report_path"]:
        from ..report import write_plan_report

        write_plan_report(doc, v["report_path"])
    return PlanResult(doc, wall_s)


def compare(model: str | None = None, **options) -> CompareResult:
    """The best configuration of each VM SKU at the same targets, as `moeprof compare`."""
    _, doc, _ = _document(bind(compare_cmd.compare, {"model": model, **options}))
    rows = compare_rows(doc)
    return CompareResult(doc, rows, compare_json(doc, rows))


def evaluate(model: str | None = None, **options) -> EvaluateResult:
    """One fixed deployment at a concurrency, a QPS or a sweep, as `moeprof evaluate`."""
    return EvaluateResult(evaluate_run(**bind(evaluate_cmd.evaluate, {"model": model, **options})))


def memory(model: str | None = None, **options) -> MemoryEstimate:
    """Per-GPU memory of one deployment, as `moeprof memory`."""
    return MemoryEstimate(memory_run(**bind(memory_cmd.memory, {"model": model, **options})).result)


def load_model(model: str) -> ModelSpec:
    """A model by short name, Hugging Face id or config.json path, as `--model` takes it."""
    return _load_model(model)


for _f, _cmd in ((plan, plan_cmd.plan), (compare, compare_cmd.compare), (evaluate, evaluate_cmd.evaluate),
                 (memory, memory_cmd.memory)):
    _f.__doc__ = f"{_f.__doc__}\n\n    Keywords (each as its flag; aliases after /):\n{described(_cmd)}\n"
