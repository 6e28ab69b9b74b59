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


def _stats(err: np.ndarray) -> dict:
    return {"cells": int(err.size), "median_abs_pct": float(np.median(err)), "p90_abs_pct": float(np.percentile(err, 90)),
            "worst_abs_pct": float(err.max())}


def score_table(name: str, table: KernelTable) -> HeldOut | None:
    err = np.abs(held_out_errors(table))
    if not err.size:
        return None
    return HeldOut(name, table.op, **_stats(err))


def score_tables(tables: dict[str, KernelTable]) -> tuple[list[HeldOut], dict[str, dict], dict]:
    """(per table, per op with the cells of its tables pooled, all cells pooled)."""
    per, by_op = [], {}
    for name, t in tables.items():
        err = np.abs(held_out_errors(t))
        if not err.size:
            continue
        per.append(HeldOut(name, t.op, **_stats(err)))
        by_op.setdefault(t.op, []).append(err)
    ops = {op: dict(_stats(np.concatenate(errs)), tables=len(errs)) for op, errs in by_op.items()}
    pooled = _stats(np.concatenate([e for errs in by_op.values() for e in errs])) if by_op else {}
    return per, ops, pooled
