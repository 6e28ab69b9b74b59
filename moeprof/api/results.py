"""What the Python API returns: typed values with the command's `--json` (`to_dict()`) and its rows
as a pandas DataFrame (`to_pandas()`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..fileio import json_safe
from ..memory import MemoryResult
from ..planner import PlanDocument, PlanRow
from .workflows.evaluate import EvaluateRun


def _json(obj) -> Any:
    """Exactly the JSON the command prints (non-finite numbers as null, tuples as lists)."""
    return json.loads(json.dumps(json_safe(obj), allow_nan=False))


def _frame(rows: list[dict], exclude: tuple[str, ...] = ("sources",)):
    import pandas as pd

    return pd.DataFrame([{k: v for k, v in r.items() if k not in exclude} for r in rows])


def plan_rows(doc: PlanDocument) -> list[dict]:
    """The rows `plan --csv` writes: the recommendation first (`recommended` true), then the other
    feasible configurations, or the closest ones when none meets the targets."""
    rec = doc.recommended
    rest = [r for r in (doc.feasible or doc.closest) if not (rec and r.key() == rec.key())]
    return ([{**rec.to_json(), "recommended": True}] if rec else []) + [{**r.to_json(), "recommended": False} for r in rest]


@dataclass
class PlanResult:
    """A plan: `document` (the PlanDocument every consumer reads), `recommended` (None when nothing
    meets the targets), `alternatives`, `warnings`; `search_s`: seconds the search took."""

    document: PlanDocument
    search_s: float

    @property
    def recommended(self) -> PlanRow | None:
        return self.document.recommended

    @property
    def alternatives(self) -> list[PlanRow]:
        return list(self.document.alternatives)

    @property
    def warnings(self) -> list[str]:
        return list(self.document.warnings)

    def to_dict(self) -> dict:
        """What `moeprof plan --json` prints."""
        return _json(self.document.to_json())

    def to_pandas(self):
        """One row per configuration, as `plan --csv` (recommended first)."""
        return _frame(plan_rows(self.document))


@dataclass
class CompareResult:
    """The procurement table: `rows`, one per SKU (its best configuration, or why it has none)."""

    document: PlanDocument
    rows: list[dict]
    json_doc: dict

    def to_dict(self) -> dict:
        """What `moeprof compare --json` prints."""
        return _json(self.json_doc)

    def to_pandas(self):
        """One row per SKU, as `compare --csv`."""
        return _frame(self.rows)


@dataclass
class EvaluateResult:
    """One deployment under the engine's scheduler: `rows` (one per load value, bands under
    'bands'), `head` (deployment, engine, calibration, error band)."""

    run: EvaluateRun

    @property
    def rows(self) -> list[dict]:
        return self.run.rows

    @property
    def head(self) -> dict:
        return self.run.head

    def to_dict(self) -> dict:
        """What `moeprof evaluate --json` prints (rows under 'sweep' for a sweep)."""
        return _json(self.run.to_json())

    def to_pandas(self):
        """One row per load value, bands as _low / _high columns, as `evaluate --csv`."""
        return _frame(self.run.flat_rows(), exclude=("ttft_parts_ms",))


@dataclass
class MemoryEstimate:
    """Per-GPU memory of one deployment (`result`: the memory model's MemoryResult); `fits`, `reason`."""

    result: MemoryResult

    @property
    def fits(self) -> bool:
        return self.result.fits

    @property
    def reason(self) -> str:
        return self.result.reason

    def to_dict(self) -> dict:
        """What `moeprof memory --json` prints."""
        return _json(self.result.to_json())

    def to_pandas(self):
        """One row: the scalar figures (weights by component as weights_<component>_bytes)."""
        d = self.to_dict()
        flat = {k: v for k, v in d.items() if not isinstance(v, (dict, list))}
        for k, v in (d.get("weights_bytes_by_component") or {}).items():
            flat[f"weights_{k}_bytes"] = v
        return _frame([flat])
