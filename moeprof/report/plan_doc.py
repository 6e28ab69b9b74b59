"""Reading a saved plan (`moeprof plan --json > PLAN.json`) or profile back: one-line errors
naming the file and field, and the plan's schema version checked by PlanDocument.from_json."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import ConfigError, MoeprofError
from ..planner.document import PlanDocument, is_plan_json


def read_json(path) -> dict:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise MoeprofError(f"{p}: cannot read: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise ConfigError(p, "<json>", "not UTF-8 text") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(p, "<json>", f"not valid JSON ({e.msg} at line {e.lineno})") from None


def load_plan(path) -> PlanDocument:
    return PlanDocument.from_json(read_json(path), path)


def is_profile(doc) -> bool:
    return isinstance(doc, dict) and doc.get("schema") == "moeprof.profile"


def is_plan(doc) -> bool:
    return is_plan_json(doc)
