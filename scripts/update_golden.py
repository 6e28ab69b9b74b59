"""Rewrite the golden plan files (tests/golden/plan_<model>.json.gz) from the current code.

Run after a deliberate change to the model, and say in the commit what changed and why:
    python scripts/update_golden.py
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from moeprof.catalog.models import load_model
from moeprof.planner import Targets, plan

GOLDEN = Path(__file__).resolve().parent.parent / "tests" / "golden"

for name in ("scout", "maverick", "behemoth"):
    doc = plan(load_model(name), Targets.defaults()).to_json()
    path = GOLDEN / f"plan_{name}.json.gz"
    with gzip.GzipFile(path, "wb", mtime=0) as f:
        f.write(json.dumps(doc, indent=1, sort_keys=False).encode("utf-8"))
    print(f"{path.name}: {path.stat().st_size / 1e3:.0f} kB")
