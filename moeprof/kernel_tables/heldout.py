"""Held-out check of a kernel table's interpolation: drop every other grid value along each axis
(the first and last kept), rebuild the table from the rest, and predict each measured cell that
was dropped from it. Exact grid points would score a meaningless 0 %, so only dropped cells
count; the error says how well the table interpolates between its own grid points at the
spacing it ships with, twice as coarse."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .table import KernelTable


@dataclass
class HeldOut:
    name: str
    op: str
    cells: int  # measured cells predicted
    median_abs_pct: float
    p90_abs_pct: float
    worst_abs_pct: float

    def to_json(self) -> dict:
        return dict(self.__dict__)


def kept_indices(n: int) -> np.ndarray:
    """Every other index of an axis of n values, the last one always kept."""
    if n < 3:
        return np.arange(n)
    return np.unique(np.concatenate([np.arange(0, n, 2), [n - 1]]))


def held_out_errors(table: KernelTable) -> np.ndarray:
    """Signed percentage errors of the dropped, measured cells predicted from the kept grid."""
    keep = [kept_indices(len(g)) for g in table.grid]
    sub_ms = table.ms[np.ix_(*keep)].copy()
    sub_ms[~table.measured[np.ix_(*keep)]] = np.nan
    if np.isnan(sub_ms).all():
        return np.array([])
    sub = KernelTable.build(table.op, table.key, table.axes, [g[k] for g, k in zip(table.grid, keep)], sub_ms,
                            table.extensive, table.linear)
    dropped = np.ones(table.shape, dtype=bool)
    dropped[np.ix_(*keep)] = False
    target = dropped & table.measured
    if not target.any():
        return np.array([])
    idx = np.nonzero(target)
    coords = {a: g[i] for a, g, i in zip(table.axes, table.grid, idx)}
    pred, _ = sub.lookup(**coords)
    meas = table.ms[idx]
    return (pred - meas) / meas * 100.0


def score_table(name: str, table: KernelTable) -> HeldOut | None:
    err = np.abs(held_out_errors(table))
    if not err.size:
        return None
    return HeldOut(name, table.op, int(err.size), float(np.median(err)), float(np.percentile(err, 90)), float(err.max()))


def score_by_op(scores: list[HeldOut]) -> dict[str, dict]:
    """Per op: cells, and the median of the per-cell |error| over all its tables (cell-weighted
    via the tables' medians is not used: the cells are pooled)."""
    out: dict[str, dict] = {}
    for s in scores:
        o = out.setdefault(s.op, {"tables": 0, "cells": 0, "worst_abs_pct": 0.0, "_medians": []})
        o["tables"] += 1
        o["cells"] += s.cells
        o["worst_abs_pct"] = max(o["worst_abs_pct"], s.worst_abs_pct)
        o["_medians"].append((s.median_abs_pct, s.cells))
    for o in out.values():
        ms = o.pop("_medians")
        o["median_abs_pct"] = _weighted_median(ms)
    return out


def _weighted_median(pairs) -> float:
    pairs = sorted(pairs)
    total = sum(c for _, c in pairs)
    acc = 0
    for v, c in pairs:
        acc += c
        if acc * 2 >= total:
            return v
    return float("nan")
