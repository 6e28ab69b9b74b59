"""Ceilings: device copy bandwidth vs size, square bf16 / fp8 GEMM rate, per-kernel overhead.

copy: dst.copy_(src); bytes moved = read + write = 2 x buffer bytes.
GEMM: [n, n] x [n, n], FLOPs = 2 n^3; fp8 with per-tensor scales through torch._scaled_mm.
kernel overhead: a graph of 64 tiny kernels on a GPU (what a decode step pays per kernel
inside a CUDA graph); on a CPU the eager dispatch cost of a tiny op."""

from __future__ import annotations

import torch

from .context import ProbeContext
from .gemm import gemm_case

MiB = 1024**2


def copy_sizes(ctx: ProbeContext) -> list[int]:
    """Buffer sizes in bytes (each copy moves twice this)."""
    if ctx.dev.is_gpu:
        sizes = [1, 4, 16, 64, 256, 1024] if not ctx.settings.quick else [1, 16, 256, 1024]
    else:
        sizes = [1, 4, 16, 64] if not ctx.settings.quick else [1, 16]
    free = ctx.dev.memory_free_bytes()
    out = [s * MiB for s in sizes]
    if free:
        out = [b for b in out if 2 * b < 0.5 * free] or out[:1]
    return out


def peak_size(ctx: ProbeContext) -> int:
    if ctx.dev.is_gpu:
        return 8192 if ctx.shapes.scale >= 1 else max(1024, int(8192 * ctx.shapes.scale) // 256 * 256)
    return 512 if ctx.settings.quick else 1024


def copy_case(ctx: ProbeContext, nbytes: int) -> dict:
    dev = ctx.dev.device
    n = nbytes // 2
    g = torch.Generator(device=dev)
    g.manual_seed(ctx.next_seed())
    src = torch.randn(n, device=dev, generator=g, dtype=torch.float32).add_(4.0).to(torch.bfloat16)  # never zero
    dst = torch.empty_like(src)
    dst.copy_(src)
    if not torch.equal(dst, src):
        from .tensors import ProbeCheckError

        raise ProbeCheckError("copy: destination differs from source")
    t = ctx.time(lambda: dst.copy_(src))
    moved = 2 * n * 2
    return {**t.to_row(), "bytes": moved, "bytes_per_s": moved / (t.median_ms / 1e3)}


def kernel_overhead_case(ctx: ProbeContext) -> dict:
    d = ctx.dev
    x = torch.ones(16, device=d.device)
    kernels = 64
    if d.is_gpu and d.graphs:
        from .timing import capture_graph

        def many():
            for _ in range(kernels):
                x.add_(1e-3)

        replay, graph = capture_graph(many, d)
        t = ctx.time(replay)
        del graph
        how = "graph"
    else:

        def many():
            for _ in range(kernels):
                x.add_(1e-3)

        t = ctx.time(many)
        how = "eager"
    return {**t.to_row(), "kernels": kernels, "launch": how, "seconds_per_kernel": t.median_ms / 1e3 / kernels}


CPU_FP8_SIZE = 96  # emulated fp8 on a CPU: a path check (~0.01 s), not a rate


def run(ctx: ProbeContext) -> None:
    for nbytes in copy_sizes(ctx):
        ctx.case("copy", {"buffer_bytes": nbytes}, lambda: copy_case(ctx, nbytes), label=f"{nbytes // MiB} MiB")
    peak = peak_size(ctx)
    dtypes = ["bf16"] + (["fp8"] if ctx.dev.fp8_dtype is not None else [])
    for dt in dtypes:
        # A CPU has no fp8 units: torch emulates the product element by element (seconds at
        # 512^3), so its fp8 ceiling is taken at a size that checks the path, not the rate.
        n = min(peak, CPU_FP8_SIZE) if dt == "fp8" and not ctx.dev.is_gpu else peak
        ctx.case(
            "gemm_peak",
            {"dtype": dt, "m_tokens": n, "k": n, "n": n},
            lambda: gemm_case(ctx, n, n, n, dt),
            label=f"{dt} {n}^3",
        )
    if ctx.dev.fp8_dtype is None:
        ctx.rows.append({"probe": "gemm_peak", "dtype": "fp8", "error": "unsupported", "detail": "; ".join(ctx.dev.notes)[:300]})
    ctx.case("kernel_overhead", {}, lambda: kernel_overhead_case(ctx), summary=lambda r: f"{r['seconds_per_kernel'] * 1e6:.3g} us/kernel ({r['launch']})")
