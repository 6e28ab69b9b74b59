"""Self-contained offline HTML reports (plotly embedded once, no network) of a plan or a GPU
profile, and the tables behind `--csv`.

    write_plan_report(plan_doc, path)      # moeprof plan --report PATH, moeprof report PLAN.json
    write_profile_report(profile_doc, path)  # moeprof report PROFILE.json
    write_result_report(doc, kind, path)     # moeprof report EVALUATE/COMPARE/VALIDATE.json
"""

from __future__ import annotations

from ..planner.document.plan import PlanDocument
from .html import write_atomic


def plan_report_html(doc: PlanDocument, validation=None) -> str:
    from .plan_report import build_plan_page

    if not isinstance(doc, PlanDocument):
        doc = PlanDocument.from_json(doc)
    return build_plan_page(doc, validation).render()


def write_plan_report(doc: PlanDocument, path, validation=None) -> None:
    """Write the HTML report of a plan document to path, atomically."""
    write_atomic(path, plan_report_html(doc, validation))


def profile_report_html(doc: dict, path_label: str = "<profile>") -> str:
    from .probe_report import build_profile_page

    return build_profile_page(doc, path_label).render()


def write_profile_report(doc: dict, path, path_label: str = "<profile>") -> None:
    """Write the HTML report of a GPU profile (moeprof probe output) to path, atomically."""
    write_atomic(path, profile_report_html(doc, path_label))


def write_result_report(doc: dict, kind: str, path, path_label: str = "<file>") -> None:
    """Write the HTML report of an evaluate, compare or validate JSON document, atomically."""
    from .result_pages import build_compare_page, build_evaluate_page, build_validation_page

    page = {"evaluate": lambda: build_evaluate_page(doc), "compare": lambda: build_compare_page(doc),
            "validate": lambda: build_validation_page(doc, path_label)}[kind]()
    write_atomic(path, page.render())


__all__ = ["write_result_report", "write_plan_report", "write_profile_report", "plan_report_html", "profile_report_html"]
