"""Probe inputs and result checks.

Inputs are random and never zero (zeros let hardware and kernels take shortcuts, and an
all-zero result would pass a careless check). Every probe compares its result with a float64
reference on a slice before it times anything."""

from __future__ import annotations

import torch


class ProbeCheckError(Exception):
    """A probe's result disagrees with its reference computation: the case is not timed."""


def generator(device: torch.device, seed: int) -> torch.Generator:
    g = torch.Generator(device=device)
    g.manual_seed(seed)
    return g


def rand_nonzero(shape, dtype, device, gen: torch.Generator, std: float = 1.0) -> torch.Tensor:
    """Normal(0, std) values with |x| >= std/16, in the requested dtype: never zero."""
    x = torch.randn(shape, device=device, generator=gen, dtype=torch.float32)
    x = torch.where(x.abs() < 1 / 16, torch.copysign(torch.full_like(x, 1 / 16), x), x)
    return (x * std).to(dtype)


def to_fp8(x: torch.Tensor, fp8_dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-tensor scaled fp8 (the recipe of fp8 serving checkpoints): returns (q, scale) with
    x ~= q.float() * scale; scale is a float32 scalar tensor on x's device."""
    amax = x.abs().max().float().clamp(min=1e-12)
    scale = amax / torch.finfo(fp8_dtype).max
    q = (x.float() / scale).to(fp8_dtype)
    return q, scale.reshape(())


def check_close(out: torch.Tensor, ref: torch.Tensor, scale: torch.Tensor | float, rtol: float, what: str) -> float:
    """Max |out - ref| / scale must be <= rtol, where `scale` bounds the magnitude a rounding
    error can have (e.g. |x| @ |w| for a GEMM). Returns the error; raises ProbeCheckError."""
    out64 = out.detach().to(torch.float64)
    ref64 = ref.detach().to(torch.float64)
    if out64.shape != ref64.shape:
        raise ProbeCheckError(f"{what}: shape {tuple(out64.shape)} != reference {tuple(ref64.shape)}")
    if not torch.isfinite(out64).all():
        raise ProbeCheckError(f"{what}: result has inf/nan")
    if isinstance(scale, torch.Tensor):
        denom = scale.detach().to(torch.float64).clamp(min=1e-30)
    else:
        denom = float(scale)
    err = float(((out64 - ref64).abs() / denom).max())
    if not err <= rtol:
        raise ProbeCheckError(f"{what}: max relative error {err:.3g} > {rtol:g} against the float64 reference")
    return err


def is_oom(e: BaseException) -> bool:
    oom_type = getattr(torch, "OutOfMemoryError", None)
    if oom_type is not None and isinstance(e, oom_type):
        return True
    return isinstance(e, RuntimeError) and "out of memory" in str(e).lower()
