"""The decisions of a plan, small enough to review in a diff: what was picked (exact), its key
figures (compared at rel 1e-3), the runner-up layouts, each SKU's best, how many layouts were
rejected and why, and when nothing is feasible the closest misses and the least relaxations.

tests/golden/decisions_<model>.json holds them for the built-in models at the default targets
(tests/planner/test_golden.py); `python scripts/update_golden.py` rewrites them after a deliberate
change to the model, whose commit says what moved and why."""

from __future__ import annotations

import json
import math
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
MODELS = ("scout", "maverick", "behemoth", "deepseek-r1")
REL = 1e-3  # key figures: a change below 0.1 % is not a decision
LAYOUT = ("sku", "vms", "gpus", "tp", "ep", "pp", "replicas", "quant", "kv_dtype", "max_batch")
FIGURES = ("ttft_ms", "tpot_ms", "qps_capacity", "qps_capacity_low", "qps_capacity_high", "usd_per_hour", "usd_per_month",
           "usd_per_million_tokens", "joules_per_token", "max_context_tokens", "running_batch", "headroom")


def _key(row: dict) -> str:
    return (f"{row['sku']} x{row['vms']} tp{row['tp']} ep{row['ep']} pp{row['pp']} r{row['replicas']} {row['quant']} "
            f"kv {row['kv_dtype']} b{row['max_batch']}")


def _round(x):
    """Floats to 6 significant digits: the file reads well and REL is far above the rounding."""
    return float(f"{x:.6g}") if isinstance(x, float) and math.isfinite(x) else x


def decisions(doc: dict) -> dict:
    """The decisions of a plan document (PlanDocument.to_json())."""
    rec = doc["recommended"]
    return {
        "model": doc["inputs"]["model"],
        "targets": {k: doc["inputs"][k] for k in ("context_tokens", "qps", "input_tokens", "output_tokens", "ttft_ms",
                                                   "tpot_ms", "percentile", "headroom")},
        "configs_evaluated": doc["configs_evaluated"],
        "feasible_configs": len(doc["feasible"]),
        "pick": None if rec is None else {k: rec[k] for k in LAYOUT},
        "pick_figures": None if rec is None else {k: _round(rec[k]) for k in FIGURES},
        "alternatives": [_key(a) for a in doc["alternatives"]],
        "per_sku": {s["sku"]: (_key(s["row"]) if s["row"] is not None else f"none: {s['reason']}") for s in doc["per_sku"]},
        "rejected_counts": dict(sorted(doc["rejected_counts"].items())),
        "closest": [{"configuration": _key(c), "misses": c.get("misses", [])} for c in doc["closest"]],
        "relaxations": [{k: _round(v) for k, v in r.items() if not isinstance(v, (dict, list))} for r in doc["relaxations"]],
    }


def path(model: str) -> Path:
    return GOLDEN / f"decisions_{model}.json"


def write(model: str, d: dict) -> Path:
    p = path(model)
    p.write_text(json.dumps(d, indent=1) + "\n", encoding="utf-8")
    return p


def differences(old, new, where: str = "", rel: float = REL, out: list | None = None, limit: int = 20) -> list[str]:
    """Where `new` differs from `old`: floats beyond `rel`, anything else unequal."""
    out = [] if out is None else out
    if len(out) >= limit:
        return out
    if isinstance(old, dict):
        if not isinstance(new, dict):
            out.append(f"{where}: expected an object, got {type(new).__name__}")
            return out
        for k in old.keys() | new.keys():
            if k not in new or k not in old:
                out.append(f"{where}.{k}: {'missing' if k not in new else 'new'}")
            else:
                differences(old[k], new[k], f"{where}.{k}", rel, out, limit)
    elif isinstance(old, list):
        if not isinstance(new, list) or len(old) != len(new):
            out.append(f"{where}: {old!r} became {new!r}")
            return out
        for i, (a, b) in enumerate(zip(old, new)):
            differences(a, b, f"{where}[{i}]", rel, out, limit)
    elif isinstance(old, float) or isinstance(new, float):
        if not (isinstance(new, (int, float)) and isinstance(old, (int, float)) and math.isclose(old, new, rel_tol=rel, abs_tol=1e-12)):
            out.append(f"{where}: {old!r} became {new!r}")
    elif old != new:
        out.append(f"{where}: {old!r} became {new!r}")
    return out
