"""Reading a saved plan (`moeprof plan --json > PLAN.json`) or profile back: one-line errors
naming the file and field, and the plan's schema version checked by PlanDocument.from_json."""

from __future__ import annotations

from pathlib import Path

from ..inputs import read_json_file
from ..planner.document.plan import PlanDocument, is_plan_json


def read_json(path):
    return read_json_file(Path(path), "JSON file")


def load_plan(path) -> PlanDocument:
    return PlanDocument.from_json(read_json(path), path)


def is_profile(doc) -> bool:
    return isinstance(doc, dict) and doc.get("schema") == "moeprof.profile"


def is_plan(doc) -> bool:
    return is_plan_json(doc)
