"""Which of moeprof's JSON outputs a file is: plan, compare, evaluate (one load or a sweep),
validate (a profile's probe rows or benchmark records) or profile. `moeprof report` draws each."""

from __future__ import annotations

from ..planner.document.plan import is_plan_json

KINDS = ("plan", "compare", "evaluate", "validate", "profile")
LOAD_KEYS = ("max_concurrency", "concurrency", "qps")  # `concurrency`: evaluate's name before vLLM's


def _evaluate_row(r) -> bool:
    return isinstance(r, dict) and "output_throughput_per_gpu" in r and any(k in r for k in LOAD_KEYS)


def kind_of(doc) -> str | None:
    """The kind of a JSON document moeprof wrote, or None."""
    if not isinstance(doc, dict):
        return None
    if doc.get("schema") == "moeprof.profile":
        return "profile"
    if is_plan_json(doc):
        return "plan"
    if isinstance(doc.get("rows"), list) and "inputs" in doc and "serverless_price" in doc:
        return "compare"
    if "gpu" in doc and "error_band" in doc and (_evaluate_row(doc) or (
            isinstance(doc.get("sweep"), list) and doc["sweep"] and all(_evaluate_row(r) for r in doc["sweep"]))):
        return "evaluate"
    rows = doc.get("rows")
    if isinstance(rows, list) and "summary" in doc and all(isinstance(r, dict) for r in rows):
        if all("figures" in r or ("predicted" in r and "measured" in r) for r in rows):
            return "validate"
    return None


def evaluate_rows(doc: dict) -> list[dict]:
    """The rows of an evaluate document (a sweep's list, or the one row at its top level)."""
    return list(doc["sweep"]) if isinstance(doc.get("sweep"), list) else [doc]


def load_of(row: dict) -> tuple[str, float]:
    """(vLLM's name of the load, its value): max_concurrency (also read as concurrency) or qps."""
    for k in LOAD_KEYS:
        if isinstance(row.get(k), (int, float)):
            return ("qps" if k == "qps" else "max_concurrency"), float(row[k])
    return "max_concurrency", float("nan")
