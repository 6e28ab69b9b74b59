"""The published checkpoint of each row (catalog.deployable), and the gate that keeps the search to
recipes a team can deploy without quantizing weights of its own.

    checkpoint_table(model, recipes, engine)     {recipe: RecipeCheckpoint or None} for the plan's engine
    add_checkpoints(rows, table, allow)          rows with `checkpoint` (HF id, '' for none); without
                                                 `allow`, a row that meets the targets with no published
                                                 checkpoint is rejected as kind 'checkpoint'
    requantize_saving(candidates, pick, ...)     what the cheapest of those rejected rows would save
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...catalog.deployable import RecipeCheckpoint, checkpoint_choice
from ...catalog.models.identity import model_ref
from ..document.plan import PlanRow, Requantize
from .verdicts import RejectKind


def checkpoint_table(model, recipes, engine) -> dict[str, RecipeCheckpoint | None]:
    """{recipe: the published checkpoint it loads from on the plan's engine, or None}."""
    ref = model_ref(model)
    return {q: checkpoint_choice(ref, q, engine.engine, engine.engine_version) for q in recipes}


def checkpoint_rank(c: RecipeCheckpoint | None) -> int:
    """0 the model maker's checkpoint as released, 1 the maker's bf16 checkpoint the engine quantizes at
    load (--quantization fp8: the maker's weights, FP8 the engine applies), 2 another publisher's build
    as published, 3 none (planner.search.rank)."""
    if c is None:
        return 3
    if c.online_quantization:
        return 1 if c.first_party else 2
    return 0 if c.first_party else 2


def add_checkpoints(rows: pd.DataFrame, table: dict[str, RecipeCheckpoint | None], model_name: str,
                    allow_requantize: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows with `checkpoint`, the rows that met the targets but were rejected for having no
    published checkpoint: the re-quantisation candidates; empty with `allow_requantize`)."""
    quant = rows.quant.astype(str).to_numpy()
    ids = {q: (c.hf_id if c is not None else "") for q, c in table.items()}
    kinds = {q: checkpoint_rank(c) for q, c in table.items()}
    ck = np.array([ids.get(q, "") for q in quant], dtype=object)
    rows["checkpoint"] = ck
    rows["checkpoint_kind"] = np.array([kinds.get(q, 2) for q in quant], dtype=np.int64)  # planner.search.rank
    if allow_requantize or not len(rows):
        return rows, rows.iloc[:0]
    none = np.array([table.get(q) is None for q in quant], dtype=bool)  # hf_id '' with an entry: a config file's weights
    drop = rows.feasible.to_numpy() & none
    candidates = rows[drop].copy()
    if drop.any():
        kind = rows.kind.to_numpy(dtype=object).copy()
        reason = rows.reason.to_numpy(dtype=object).copy()
        kind[drop] = RejectKind.CHECKPOINT.value
        reason[drop] = [f"checkpoint: meets the targets, but no published {q} checkpoint of {model_name} loads as this recipe; "
                        "re-quantising needs weights of your own (--allow-requantize)" for q in quant[drop]]
        rows["kind"] = kind
        rows["reason"] = reason
        rows["feasible"] = rows.feasible.to_numpy() & ~drop
    return rows, candidates


def requantize_saving(best: PlanRow | None, pick: PlanRow | None, layout_text: str) -> Requantize | None:
    """The cheapest re-quantisation candidate against the pick: a Requantize when it is cheaper, or
    as cheap and faster (lower TPOT), or when nothing else meets the targets; else None."""
    if best is None:
        return None
    tail = f"({layout_text}); no published checkpoint: needs weights of your own"
    if pick is None:
        return Requantize(best.quant, best.usd_per_month, 0.0,
                          f"re-quantising to {best.quant} would meet the targets for ${best.usd_per_month:,.0f}/month {tail}")
    saving = pick.usd_per_month - best.usd_per_month
    cents = round(saving * 100)
    faster = best.tpot_ms is not None and pick.tpot_ms is not None and best.tpot_ms < pick.tpot_ms
    if cents < 0 or (cents == 0 and not faster):
        return None
    if cents == 0:
        text = (f"re-quantising to {best.quant} would cost the same and give TPOT {best.tpot_ms:.1f} ms instead of "
                f"{pick.tpot_ms:.1f} ms {tail}")
    else:
        text = f"re-quantising to {best.quant} would save ${saving:,.0f}/month {tail}"
    return Requantize(best.quant, best.usd_per_month, max(saving, 0.0), text)
