"""KernelTable: measured kernel latencies on a grid, interpolated in the grid's dimensions.

A table is one kernel at fixed categorical settings (`key`: dtype, head dim, KV dtype, ...) over
named numeric axes (`axes`: e.g. m, n, k for a GEMM), each a strictly increasing list of
positive grid values, and the measured milliseconds of every grid cell (row-major, null where
the source has no measurement).

Interpolation. The table is interpolated multilinearly in log(ms) over each axis's coordinate:
log(axis) for sizes that span decades (tokens, batch, sequence length, bytes: a power law
between neighbouring grid points) and the axis itself for the `linear` axes, small counts such
as heads or GPUs, where a kernel's time is close to affine in the count. Exact at every grid
point, monotonic between two points along an axis (the value stays between the two
neighbours' values). Unmeasured cells are
filled when the table is built by 1-D interpolation along the axes in order (then nearest at
the ends), and `measured` marks the cells the source holds.

Outside the grid. Below an axis's smallest value the lookup takes the smallest value (nearest:
a smaller kernel is not assumed faster than the smallest one measured). Above the largest value
an axis marked `extensive` scales the edge latency linearly (time proportional to the size: the
throughput at the edge is kept), otherwise nearest. Either way the lookup says it extrapolated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import MoeprofError

_TOL = 1e-9
MAX_MS = 1e6  # a kernel of 1,000 s: a latency above this is a unit error or a forged file
MAX_AXIS = 2.0**60  # grid values: sizes in tokens, elements or bytes


def _fill_line(y: np.ndarray, lx: np.ndarray) -> np.ndarray:
    """Fill NaNs of one 1-D line of log(ms) by interpolation in log(x), nearest at the ends."""
    ok = ~np.isnan(y)
    if ok.all() or not ok.any():
        return y
    out = y.copy()
    out[~ok] = np.interp(lx[~ok], lx[ok], y[ok])
    return out


def fill_holes(log_ms: np.ndarray, log_grid: list[np.ndarray]) -> np.ndarray:
    """Fill NaN cells along each axis in turn (lines with no value wait for a later axis)."""
    out = log_ms.copy()
    for _ in range(2):
        for ax, lx in enumerate(log_grid):
            if not np.isnan(out).any():
                return out
            out = np.apply_along_axis(_fill_line, ax, out, lx)
    if np.isnan(out).any():
        raise MoeprofError("kernel table has no measured cell")
    return out


@dataclass(frozen=True, eq=False)
class KernelTable:
    """op: what the kernel computes (see kernel_tables.ops.OPS); key: its fixed settings;
    axes: axis names; grid: each axis's values; ms: dense latencies (filled);
    measured: which cells the source measured; extensive: per axis, whether latency grows
    linearly past the last grid value; linear: per axis, interpolated in the axis itself rather
    than its log; meta: provenance (source table, engine version, rows)."""

    op: str
    key: dict
    axes: tuple[str, ...]
    grid: tuple[np.ndarray, ...]
    ms: np.ndarray
    measured: np.ndarray
    extensive: tuple[bool, ...]
    linear: tuple[bool, ...]
    meta: dict = field(default_factory=dict)

    @staticmethod
    def build(op: str, key: dict, axes, grid, ms, extensive, linear=None, meta=None) -> KernelTable:
        """ms: an array of the grid's shape with NaN where unmeasured."""
        g = tuple(np.asarray(v, dtype=float) for v in grid)
        for name, v in zip(axes, g):
            if v.ndim != 1 or not len(v) or not np.all(np.isfinite(v)) or np.any(v <= 0):
                raise MoeprofError(f"kernel table {op}: axis {name} must be positive finite numbers")
            if np.any(np.diff(v) <= 0):
                raise MoeprofError(f"kernel table {op}: axis {name} must be strictly increasing")
        a = np.asarray(ms, dtype=float).reshape(tuple(len(v) for v in g))
        if np.any(a[~np.isnan(a)] <= 0) or np.any(np.isinf(a)):
            raise MoeprofError(f"kernel table {op}: latencies must be positive finite numbers")
        ext = tuple(bool(e) for e in extensive)
        lin = tuple(bool(e) for e in (linear or [False] * len(g)))
        if not (len(axes) == len(g) == len(ext) == len(lin)):
            raise MoeprofError(f"kernel table {op}: axes, grid, extensive and linear differ in length")
        measured = ~np.isnan(a)
        filled = np.exp(fill_holes(np.log(a), [v if li else np.log(v) for v, li in zip(g, lin)]))
        return KernelTable(op, dict(key), tuple(axes), g, filled, measured, ext, lin, dict(meta or {}))

    @property
    def shape(self) -> tuple[int, ...]:
        return self.ms.shape

    def lookup(self, **coords) -> tuple[np.ndarray, np.ndarray]:
        """(ms, extrapolated) at the coordinates (one array per axis, broadcast together)."""
        missing = [a for a in self.axes if a not in coords]
        if missing:
            raise MoeprofError(f"kernel table {self.op}: lookup needs {', '.join(missing)}")
        xs = np.broadcast_arrays(*(np.asarray(coords[a], dtype=float) for a in self.axes))
        shape = xs[0].shape
        log_ms = np.log(self.ms)
        idx, wts = [], []
        scale = np.ones(shape)
        outside = np.zeros(shape, dtype=bool)
        for x, g, ext, li in zip(xs, self.grid, self.extensive, self.linear):
            x = np.maximum(x, 1e-300)
            lo, hi = x < g[0] * (1 - _TOL), x > g[-1] * (1 + _TOL)
            outside |= lo | hi
            if ext:
                scale = np.where(hi, scale * x / g[-1], scale)
            xc = np.clip(x, g[0], g[-1])
            if len(g) == 1:
                idx.append((np.zeros(shape, dtype=int), np.zeros(shape, dtype=int)))
                wts.append(np.zeros(shape))
                continue
            lg, lx = (g, xc) if li else (np.log(g), np.log(xc))
            j = np.clip(np.searchsorted(lg, lx, side="right") - 1, 0, len(g) - 2)
            t = np.clip((lx - lg[j]) / (lg[j + 1] - lg[j]), 0.0, 1.0)
            idx.append((j, j + 1))
            wts.append(t)
        acc = np.zeros(shape)
        for corner in range(1 << len(self.axes)):
            w = np.ones(shape)
            cell = []
            for d in range(len(self.axes)):
                bit = (corner >> d) & 1
                w = w * (wts[d] if bit else 1.0 - wts[d])
                cell.append(idx[d][bit])
            acc = acc + w * log_ms[tuple(cell)]
        return np.exp(acc) * scale, outside

    def covers(self, **coords) -> bool:
        """Whether every coordinate lies inside the grid."""
        return not bool(np.any(self.lookup(**coords)[1]))

    # ---- JSON --------------------------------------------------------------------------
    def to_json(self, digits: int = 4) -> dict:
        flat = []
        for v, m in zip(self.ms.ravel(), self.measured.ravel()):
            flat.append(float(f"{v:.{digits}g}") if m else None)
        return {
            "op": self.op,
            "key": dict(self.key),
            "axes": {a: [_num_out(v) for v in g] for a, g in zip(self.axes, self.grid)},
            "extensive": [a for a, e in zip(self.axes, self.extensive) if e],
            "linear": [a for a, e in zip(self.axes, self.linear) if e],
            "ms": flat,
            **({"meta": dict(self.meta)} if self.meta else {}),
        }


def _num_out(v: float):
    return int(v) if float(v).is_integer() else float(v)


def table_from_json(d: dict, where: str = "kernel table") -> KernelTable:
    """Parse one table of a profile's `kernel_tables`; errors name the table."""
    if not isinstance(d, dict):
        raise MoeprofError(f"{where}: expected an object")
    op, key, axes, ms = d.get("op"), d.get("key", {}), d.get("axes"), d.get("ms")
    if not isinstance(op, str) or not op:
        raise MoeprofError(f"{where}.op: missing or not a string")
    if not isinstance(key, dict):
        raise MoeprofError(f"{where}.key: expected an object")
    if not isinstance(axes, dict) or not axes:
        raise MoeprofError(f"{where}.axes: expected a non-empty object of axis -> grid values")
    for a, g in axes.items():
        if not isinstance(g, list) or not g or not all(_finite(v) for v in g):
            raise MoeprofError(f"{where}.axes.{a}: expected a non-empty list of numbers")
        if any(v > MAX_AXIS for v in g):
            raise MoeprofError(f"{where}.axes.{a}: grid values must be at most {MAX_AXIS:g}")
    size = math.prod(len(g) for g in axes.values())
    if not isinstance(ms, list) or len(ms) != size:
        raise MoeprofError(f"{where}.ms: expected a list of {size} latencies (null where unmeasured)")
    for i, v in enumerate(ms):
        if v is not None and (not _finite(v) or not 0 < v <= MAX_MS):
            raise MoeprofError(f"{where}.ms[{i}]: latencies must be positive numbers of at most {MAX_MS:g} ms (or null), got {str(v)[:40]}")
    ext, lin = d.get("extensive", []), d.get("linear", [])
    for name, v in (("extensive", ext), ("linear", lin)):
        if not isinstance(v, list) or not all(isinstance(x, str) and x in axes for x in v):
            raise MoeprofError(f"{where}.{name}: expected a list of axis names")
    if d.get("meta") is not None and not isinstance(d["meta"], dict):
        raise MoeprofError(f"{where}.meta: expected an object")
    arr = np.array([np.nan if v is None else float(v) for v in ms], dtype=float)
    try:
        return KernelTable.build(op, key, list(axes), list(axes.values()), arr, [a in ext for a in axes],
                                 [a in lin for a in axes], d.get("meta") or {})
    except MoeprofError as e:
        raise MoeprofError(f"{where}: {e}") from None


def _finite(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
