"""Energy: board power at idle, J per FLOP on a compute-bound burst (back-to-back square bf16
GEMMs) and J per byte on a memory-bound burst (back-to-back large copies).

Each window is bracketed by device syncs and measured by the telemetry energy counter delta
(power sampled in a thread where no counter exists). Idle energy over the same seconds is
subtracted, so J/FLOP and J/byte are the energy the work adds. Without any energy reading
(most VMs' CPUs, VM guests without counters) the rows say so and no scalar is fitted."""

from __future__ import annotations

import time

import torch

from ..telemetry.energy import EnergyMeter
from .context import ProbeContext
from .tensors import generator, rand_nonzero


def window_s(ctx: ProbeContext) -> float:
    if ctx.settings.energy_window_s is not None:
        return ctx.settings.energy_window_s
    if ctx.dev.is_gpu:
        return 0.6 if ctx.settings.quick else 1.5
    return 0.2 if ctx.settings.quick else 0.5


def _meter(ctx: ProbeContext) -> EnergyMeter:
    return EnergyMeter(ctx.telemetry, ctx.telemetry_index, sync=ctx.dev.sync)


def _burst(ctx: ProbeContext, fn, seconds: float) -> tuple[int, object]:
    """Run fn back to back for about `seconds` inside an energy window: (calls, reading)."""
    t = ctx.time(fn, warmup=1, repeats=1, target_ms=1.0)
    calls = max(1, int(seconds * 1e3 / max(t.median_ms, 1e-3)))
    with _meter(ctx) as m:
        for _ in range(calls):
            fn()
    return calls, m.result


def _row(reading, idle_w: float | None, work: float, unit: str) -> dict:
    row = reading.to_dict()
    row["seconds"] = reading.seconds
    if reading.energy_j is not None:
        row[f"j_per_{unit}_total"] = reading.energy_j / work
        if idle_w is not None:
            above = reading.energy_j - idle_w * reading.seconds
            row["energy_above_idle_j"] = above
            row[f"j_per_{unit}"] = above / work if above > 0 else None
    return row


def run(ctx: ProbeContext) -> None:
    d = ctx.dev
    win = window_s(ctx)
    state: dict = {"idle_w": None}

    def idle():
        d.sync()
        with _meter(ctx) as m:
            time.sleep(win / 2)
        r = m.result.to_dict()
        state["idle_w"] = m.result.mean_power_w
        r["idle_power_w"] = m.result.mean_power_w
        return r

    def compute():
        n = 8192 if d.is_gpu and ctx.shapes.scale >= 1 else (4096 if d.is_gpu else 512)
        g = generator(d.device, ctx.next_seed())
        a = rand_nonzero((n, n), torch.bfloat16, d.device, g)
        b = rand_nonzero((n, n), torch.bfloat16, d.device, g, std=n**-0.5)
        c = torch.empty(n, n, dtype=torch.bfloat16, device=d.device)
        calls, reading = _burst(ctx, lambda: torch.matmul(a, b, out=c), win)
        flop = 2.0 * n**3 * calls
        return {
            "burst": "compute",
            "matrix_n": n,
            "calls": calls,
            "flop": flop,
            "flop_per_s": flop / reading.seconds,
            **_row(reading, state["idle_w"], flop, "flop"),
        }

    def memory():
        nbytes = (1 << 30) if d.is_gpu else (64 << 20)
        src = torch.full((nbytes // 2,), 1.5, dtype=torch.bfloat16, device=d.device)
        dst = torch.empty_like(src)
        calls, reading = _burst(ctx, lambda: dst.copy_(src), win)
        moved = 2.0 * nbytes * calls
        return {
            "burst": "memory",
            "buffer_bytes": nbytes,
            "calls": calls,
            "bytes": moved,
            "bytes_per_s": moved / reading.seconds,
            **_row(reading, state["idle_w"], moved, "byte"),
        }

    def summary(r):
        if r.get("energy_j") is None:
            return f"{r['seconds']:.2f} s, no energy reading ({'; '.join(r.get('notes') or [])})"
        parts = [f"{r['seconds']:.2f} s", f"{r['energy_j']:.4g} J", f"{r['mean_power_w']:.4g} W"]
        if r.get("j_per_flop"):
            parts.append(f"{r['j_per_flop'] * 1e12:.4g} pJ/FLOP")
        if r.get("j_per_byte"):
            parts.append(f"{r['j_per_byte'] * 1e12:.4g} pJ/byte")
        return ", ".join(parts)

    ctx.case("energy", {"burst": "idle"}, idle, label="idle", summary=summary)
    ctx.case("energy", {"burst": "compute"}, compute, label="compute burst (bf16 GEMM)", summary=summary)
    ctx.case("energy", {"burst": "memory"}, memory, label="memory burst (copy)", summary=summary)
