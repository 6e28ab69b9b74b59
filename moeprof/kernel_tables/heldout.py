"""Held-out check of a kernel table's interpolation. Exact grid points would score a meaningless
0 %, so grid values are dropped and the dropped, measured cells predicted from the rest:

    one axis   every other value of ONE axis dropped (the first and last kept), the others
               intact, for each axis in turn: a cell is predicted from neighbours twice as far
               apart along that axis; the errors of all axes are pooled
    all axes   every other value of EVERY axis dropped at once: a cell is predicted from a grid
               twice as coarse in all dimensions (the harder case)

Both measure how well the table interpolates between its own grid points at twice the spacing
it ships with; the noise between repeated measurements of one kernel bounds them from below."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .table import KernelTable

MODES = ("one_axis", "all_axes")


@dataclass
class HeldOut:
    name: str
    op: str
    mode: str
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


def _errors_keeping(table: KernelTable, keep: list[np.ndarray]) -> np.ndarray:
    """Signed % errors of the measured cells outside the kept sub-grid, predicted from it."""
    sub_ms = table.ms[np.ix_(*keep)].copy()
    sub_ms[~table.measured[np.ix_(*keep)]] = np.nan
    if np.isnan(sub_ms).all():
        return np.array([])
    sub = KernelTable.build(table.op, table.key, table.axes, [g[k] for g, k in zip(table.grid, keep)], sub_ms,
                            table.extensive, table.linear)
    dropped = np.ones(table.shape, dtype=bool)
    dropped[np.ix_(*keep)] = False
    idx = np.nonzero(dropped & table.measured)
    if not idx[0].size:
        return np.array([])
    pred, _ = sub.lookup(**{a: g[i] for a, g, i in zip(table.axes, table.grid, idx)})
    meas = table.ms[idx]
    return (pred - meas) / meas * 100.0


def held_out_errors(table: KernelTable, mode: str = "all_axes") -> np.ndarray:
    """Signed percentage errors of the held-out measured cells (see the module doc for `mode`)."""
    every = [np.arange(len(g)) for g in table.grid]
    if mode == "all_axes":
        return _errors_keeping(table, [kept_indices(len(g)) for g in table.grid])
    out = []
    for ax, g in enumerate(table.grid):
        if len(kept_indices(len(g))) < len(g):
            keep = list(every)
            keep[ax] = kept_indices(len(g))
            out.append(_errors_keeping(table, keep))
    return np.concatenate(out) if out else np.array([])


def _stats(err: np.ndarray) -> dict:
    return {"cells": int(err.size), "median_abs_pct": float(np.median(err)), "p90_abs_pct": float(np.percentile(err, 90)),
            "worst_abs_pct": float(err.max())}


def score_tables(tables: dict[str, KernelTable], mode: str = "one_axis") -> tuple[list[HeldOut], dict[str, dict], dict]:
    """(per table, per op with the cells of its tables pooled, all cells pooled)."""
    per, by_op = [], {}
    for name, t in tables.items():
        err = np.abs(held_out_errors(t, mode))
        if not err.size:
            continue
        per.append(HeldOut(name, t.op, mode, **_stats(err)))
        by_op.setdefault(t.op, []).append(err)
    ops = {op: dict(_stats(np.concatenate(errs)), tables=len(errs)) for op, errs in by_op.items()}
    pooled = _stats(np.concatenate([e for errs in by_op.values() for e in errs])) if by_op else {}
    return per, ops, pooled
