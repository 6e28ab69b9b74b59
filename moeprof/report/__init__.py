"""Self-contained offline HTML reports (plotly embedded once, no network) of a plan or a GPU
profile, and the tables behind `--csv`.

    write_plan_report(plan_doc, path)      # moeprof plan --report PATH, moeprof report PLAN.json
    write_profile_report(profile_doc, path)  # moeprof report PROFILE.json
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


__all__ = ["write_plan_report", "write_profile_report", "plan_report_html", "profile_report_html"]
