"""GEMM efficiency vs token count M at the model's real weight shapes.

One case: activations x [M, K] times a weight W [N, K] (nn.Linear layout), out = x @ W^T
[M, N] in bf16; fp8: x and W quantised per tensor, torch._scaled_mm with a column-major W^T,
bf16 out. FLOPs = 2 M K N; minimum bytes = (M K + N K) x in-bytes + M N x 2.
On a GPU, when W is smaller than 4 x L2, several copies of W are cycled so each call reads
its weight from HBM, as a model's layers do."""

from __future__ import annotations

import itertools
import math

import torch

from .context import ProbeContext
from .tensors import check_close, generator, rand_nonzero, to_fp8

CHECK_ROWS = 4
CHECK_COLS = 256


def m_values(ctx: ProbeContext) -> list[int]:
    if ctx.dev.is_gpu:
        if ctx.settings.quick:
            return [1, 8, 64, 512, 4096]
        return [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192]
    if ctx.settings.quick:
        return [1, 8, 64, 256]
    return [1, 4, 16, 64, 256, 1024]


def gemm_case(ctx: ProbeContext, m: int, k: int, n: int, dtype: str) -> dict:
    d = ctx.dev
    dev = d.device
    g = generator(dev, ctx.next_seed())
    x = rand_nonzero((m, k), torch.bfloat16, dev, g)
    w = rand_nonzero((n, k), torch.bfloat16, dev, g, std=1 / math.sqrt(k))
    in_bytes = 2 if dtype == "bf16" else 1
    w_bytes = n * k * in_bytes
    copies = 1
    if d.is_gpu and d.l2_cache_bytes and w_bytes < 4 * d.l2_cache_bytes:
        copies = min(16, math.ceil(4 * d.l2_cache_bytes / w_bytes))

    if dtype == "bf16":
        ws = itertools.cycle([w] + [w.clone() for _ in range(copies - 1)])

        def call():
            return x @ next(ws).t()

        x_ref, w_ref = x, w
        out = x @ w.t()
    elif dtype == "fp8":
        fp8 = d.fp8_dtype
        if fp8 is None:
            raise RuntimeError("fp8 GEMM unsupported on this device")
        xq, sx = to_fp8(x, fp8)
        wq, sw = to_fp8(w, fp8)
        wts = itertools.cycle([wq] + [wq.clone() for _ in range(copies - 1)])

        def call():
            return torch._scaled_mm(xq, next(wts).t(), scale_a=sx, scale_b=sw, out_dtype=torch.bfloat16)

        x_ref = xq.float() * sx
        w_ref = wq.float() * sw
        out = call()
    else:
        raise ValueError(f"unknown GEMM dtype {dtype!r}")

    # check a slice against float64 (of the same, possibly quantised, inputs)
    r, c = min(m, CHECK_ROWS), min(n, CHECK_COLS)
    xr, wr = x_ref[:r].double(), w_ref[:c].double()
    ref = xr @ wr.t()
    bound = xr.abs() @ wr.abs().t()
    check_close(out[:r, :c], ref, bound, rtol=2e-2, what=f"GEMM {dtype} [{m}x{k}]x[{k}x{n}]")
    del out, ref, bound, xr, wr

    t = ctx.time(call)
    flop = 2.0 * m * k * n
    nbytes = (m * k + n * k) * in_bytes + m * n * 2
    s = t.median_ms / 1e3
    return {**t.to_row(), "flop": flop, "flop_per_s": flop / s, "bytes": nbytes, "bytes_per_s": nbytes / s, "weight_copies": copies}


def run(ctx: ProbeContext) -> None:
    dtypes = ["bf16"] + (["fp8"] if ctx.dev.fp8_dtype is not None else [])
    for dt in dtypes:
        ms, shapes = m_values(ctx), dict(ctx.shapes.gemm)
        if dt == "fp8" and not ctx.dev.is_gpu:
            # A CPU emulates fp8 element by element (seconds per case): one case checks the path;
            # no rate curve is taken from it.
            name = min(shapes, key=lambda s: shapes[s][0] * shapes[s][1])
            ms, shapes = ms[:1], {name: shapes[name]}
        for name, (k, n) in shapes.items():
            for m in ms:
                ctx.case(
                    "gemm",
                    {"shape": name, "dtype": dt, "m_tokens": m, "k": k, "n": n},
                    lambda: gemm_case(ctx, m, k, n, dt),
                    label=f"{dt} {name} m={m}",
                )
