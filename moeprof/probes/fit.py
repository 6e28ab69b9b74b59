"""Probe rows -> the profile's curves and scalars. No torch here.

Curves aggregate the rows measured at the same x: y = total work / total time (so a GEMM curve
at M is the rate of the model's GEMM shapes run back to back at M tokens). Rows with an error
are ignored. Collective curves use the largest world size measured."""

from __future__ import annotations

import statistics
from collections import defaultdict

from ..profile import Curve


def _ok(rows, probe):
    return [r for r in rows if r.get("probe") == probe and "error" not in r and (r.get("ms") or 0) > 0]


def _aggregate(points, source: str) -> Curve | None:
    """points: (x, work, seconds) -> Curve of x vs sum(work) / sum(seconds)."""
    acc: dict[float, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for x, work, sec in points:
        if x and x > 0 and work and work > 0 and sec and sec > 0:
            acc[float(x)][0] += work
            acc[float(x)][1] += sec
    if not acc:
        return None
    xs = sorted(acc)
    return Curve(tuple(xs), tuple(acc[x][0] / acc[x][1] for x in xs), source)


def fit_curves(rows: list[dict]) -> dict[str, Curve]:
    curves: dict[str, Curve | None] = {}
    for dt in ("bf16", "fp8"):
        g = [r for r in _ok(rows, "gemm") if r.get("dtype") == dt]
        shapes = sorted({r.get("shape", "?") for r in g})
        curves[f"gemm_{dt}"] = _aggregate(
            [(r["m_tokens"], r["flop"], r["ms"] / 1e3) for r in g],
            f"moeprof probe: {dt} GEMM, total FLOP / total time over shapes {', '.join(shapes)} at each M ({len(g)} rows)",
        )
    c = _ok(rows, "copy")
    curves["memory_copy"] = _aggregate(
        [(r["bytes"], r["bytes"], r["ms"] / 1e3) for r in c], f"moeprof probe: device copy, bytes read + written ({len(c)} rows)"
    )
    a = _ok(rows, "attention_decode")
    curves["attention_decode"] = _aggregate(
        [(r["kv_bytes"], r["kv_bytes"], r["ms"] / 1e3) for r in a], f"moeprof probe: GQA decode (SDPA), KV bytes read per step ({len(a)} rows)"
    )
    p = [r for r in _ok(rows, "attention_prefill") if r.get("batch", 1) == 1]
    curves["attention_prefill"] = _aggregate(
        [(r["seq_tokens"], r["flop"], r["ms"] / 1e3) for r in p], f"moeprof probe: causal prefill (SDPA), FLOP = 2 Hq L^2 D ({len(p)} rows)"
    )
    m = _ok(rows, "moe_layer")
    impls = [r.get("impl") for r in m]
    main_impl = "grouped" if "grouped" in impls else (impls[0] if impls else None)
    m = [r for r in m if r.get("impl") == main_impl]
    curves["moe_layer"] = _aggregate(
        [(r["t_tokens"], r["flop"], r["ms"] / 1e3) for r in m],
        f"moeprof probe: MoE layer forward ({main_impl}), FLOP = 2 T (E H + k 3 H I + 3 H Is) ({len(m)} rows)",
    )
    for op in ("allreduce", "alltoall"):
        rs = _ok(rows, op)
        if rs:
            w = max(r["world_size"] for r in rs)
            rs = [r for r in rs if r["world_size"] == w]
            backend = rs[0].get("backend", "")
            curves[op] = _aggregate(
                [(r["message_bytes"], r["bus_bytes_per_s"] * r["ms"] / 1e3, r["ms"] / 1e3) for r in rs],
                f"moeprof probe: {op} bus bandwidth, {w} ranks, {backend} ({len(rs)} rows)",
            )
    return {k: v for k, v in curves.items() if v is not None}


def fit_scalars(rows: list[dict]) -> dict[str, float]:
    out: dict[str, float] = {}
    k = [r["seconds_per_kernel"] for r in _ok(rows, "kernel_overhead") if r.get("seconds_per_kernel")]
    if k:
        out["kernel_overhead_s"] = statistics.median(k)
    energy = {r.get("burst"): r for r in rows if r.get("probe") == "energy" and "error" not in r}
    idle = energy.get("idle", {}).get("idle_power_w")
    if idle:
        out["idle_power_w"] = idle
    jf = energy.get("compute", {}).get("j_per_flop")
    if jf:
        out["joules_per_flop"] = jf
    jb = energy.get("memory", {}).get("j_per_byte")
    if jb:
        out["joules_per_byte"] = jb
    coll = _ok(rows, "allreduce") + _ok(rows, "alltoall")
    if coll:
        # No collective is faster than its fixed latency: the fastest call bounds it (the
        # smallest message alone can carry a first-call setup cost).
        out["collective_latency_s"] = min(r["ms"] for r in coll) / 1e3
    return out
