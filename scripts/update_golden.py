"""Rewrite the golden files from the current code: the decision files of each built-in model
(tests/golden/decisions_<model>.json, small, reviewed in the diff) and the one whole-plan snapshot
(tests/golden/plan_maverick.json.gz).

Run after a deliberate change to the model, and say in the commit what changed and why:
    python scripts/update_golden.py
"""

from __future__ import annotations

import gzip
import importlib.util
import json
from pathlib import Path

from moeprof.catalog.models import load_model
from moeprof.planner import Targets, plan

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("golden", ROOT / "tests" / "planner" / "golden.py")
golden = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(golden)

for name in golden.MODELS:
    doc = json.loads(json.dumps(plan(load_model(name), Targets.defaults(name)).to_json()))  # the model's defaults
    p = golden.write(name, golden.decisions(doc))
    print(f"{p.name}: {p.stat().st_size / 1e3:.1f} kB")
    if name == "maverick":
        snap = golden.GOLDEN / "plan_maverick.json.gz"
        with gzip.GzipFile(snap, "wb", mtime=0) as f:
            f.write(json.dumps(doc, indent=1, sort_keys=False).encode("utf-8"))
        print(f"{snap.name}: {snap.stat().st_size / 1e3:.0f} kB")
