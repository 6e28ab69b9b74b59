"""The plan JSON of the three Llama 4 models at the defaults, against stored golden files.

The golden files were first written by the single-module planner of moeprof 0.1 and matched
the package planner to 1e-9 in every field except the wording of memory rejections (one
wording from moeprof.memory now); they were then rewritten with that wording. A deliberate
change to the model regenerates them with `python scripts/update_golden.py` and says why in
its commit. Fields new in schema version 2 (schema, per_sku, charts, rejected[].kind) are
additions the comparison allows."""

import gzip
import json
import math
from pathlib import Path

import pytest

from moeprof.catalog.models import load_model
from moeprof.planner import Targets, plan

GOLDEN = Path(__file__).resolve().parent.parent / "golden"


def load_golden(name: str) -> dict:
    with gzip.open(GOLDEN / f"plan_{name}.json.gz", "rt", encoding="utf-8") as f:
        return json.load(f)


def differences(old, new, where: str = "", out: list | None = None, limit: int = 20) -> list[str]:
    out = [] if out is None else out
    if len(out) >= limit:
        return out
    if isinstance(old, dict):
        if not isinstance(new, dict):
            out.append(f"{where}: expected an object, got {type(new).__name__}")
            return out
        for k, v in old.items():
            if k not in new:
                out.append(f"{where}.{k}: missing")
            else:
                differences(v, new[k], f"{where}.{k}", out, limit)
    elif isinstance(old, list):
        if not isinstance(new, list) or len(old) != len(new):
            out.append(f"{where}: list of {len(old)} became {len(new) if isinstance(new, list) else type(new).__name__}")
            return out
        for i, (a, b) in enumerate(zip(old, new)):
            differences(a, b, f"{where}[{i}]", out, limit)
    elif isinstance(old, float) or isinstance(new, float):
        if not (isinstance(new, (int, float)) and isinstance(old, (int, float))
                and math.isclose(old, new, rel_tol=1e-9, abs_tol=1e-12)):
            out.append(f"{where}: {old!r} became {new!r}")
    elif old != new:
        out.append(f"{where}: {old!r} became {new!r}")
    return out


@pytest.mark.slow
@pytest.mark.parametrize("name", ["scout", "maverick", "behemoth"])
def test_plan_json_matches_golden(name):
    doc = plan(load_model(name), Targets.defaults()).to_json()
    diffs = differences(load_golden(name), doc)
    assert not diffs, "\n".join(diffs)
