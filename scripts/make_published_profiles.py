#!/usr/bin/env python3
"""Regenerate the shipped GPU profiles (profiles/*.published.json) from published measurements.

    python scripts/make_published_profiles.py          # writes profiles/<gpu>.published.json

Every number below is a published measurement with its source (see ../shared REFERENCE notes:
Azure/AI-benchmarking-guide on the ND v5 VMs, a public MI300X fork of it, one PyTorch H100
measurement). Where a curve needs a shape the publications do not give (GEMM rate vs token
count M), it is derived with the formula named in that curve's "source"; where a number is
missing for a GPU it is derived from another and says so. Nothing here is measured by moeprof.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from moeprof import __version__  # noqa: E402
from moeprof.catalog.hardware.vms import load_gpus, load_vms  # noqa: E402
from moeprof.profile import Curve, Profile, save_profile  # noqa: E402

TABLE_DATE = "2026-11-27"  # when this table was compiled from the sources below
AZ = "Azure/AI-benchmarking-guide"
AZ_MI = "Azure/AI-benchmarking-guide (public MI300X fork)"

# gpu key -> published numbers: value, source. None = not published for this GPU.
PUBLISHED = {
    "h100-sxm-80gb": {
        "vm": "nd-h100-v5",
        "bf16_gemm_8192": (798e12, "one H100 80GB HBM3, PyTorch 2.11, bf16 GEMM 8192^3 on random data"),
        "fp8_gemm_8192": (1290.1e12, f"{AZ}, ND H100 v5, fp8 GEMM 8192^3"),
        "copy": (2.90e12, f"{AZ}, ND H100 v5, HBM copy (triad 2.97 TB/s; a PyTorch device-to-device copy gives ~3.0 TB/s counting read + write)"),
        "flash_attention_fwd": (327.9e12, f"{AZ}, ND H100 v5, FlashAttention-2 forward, head dim 128"),
    },
    "h200-sxm-141gb": {
        "vm": "nd-h200-v5",
        "bf16_gemm_8192": None,
        "fp8_gemm_8192": (1300.6e12, f"{AZ}, ND H200 v5, fp8 GEMM 8192^3"),
        "copy": (4.01e12, f"{AZ}, ND H200 v5, HBM copy (triad 4.15 TB/s)"),
        "flash_attention_fwd": (329.3e12, f"{AZ}, ND H200 v5, FlashAttention-2 forward, head dim 128"),
    },
    "mi300x-192gb": {
        "vm": "nd-mi300x-v5",
        "bf16_gemm_8192": None,
        "fp8_gemm_8192": (1159.2e12, f"{AZ_MI}, ND MI300X v5, fp8 GEMM 8192^3"),
        "copy": (4.11e12, f"{AZ_MI}, ND MI300X v5, HBM copy (triad 4.09 TB/s)"),
        "flash_attention_fwd": (328.6e12, f"{AZ_MI}, ND MI300X v5, FlashAttention-2 forward, head dim 64 (not 128)"),
    },
}

M_POINTS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192]
REF_K = REF_N = 8192
TILE_M = 128


def gemm_rate_vs_m(rate_8192: float, copy_bw: float, in_bytes: int) -> list[float]:
    """Achieved FLOP/s of [M, 8192] x [8192, 8192]: t = max(2MKN / (R q(M)), bytes / BW), with
    q(M) = M / (128 ceil(M / 128)) the fraction of 128-row tiles doing useful work and
    bytes = (MK + KN) in_bytes + MN x 2 streamed at the published copy bandwidth."""
    out = []
    for m in M_POINTS:
        q = m / (TILE_M * -(-m // TILE_M))
        flop = 2.0 * m * REF_K * REF_N
        nbytes = (m * REF_K + REF_K * REF_N) * in_bytes + m * REF_N * 2
        t = max(flop / (rate_8192 * q), nbytes / copy_bw)
        out.append(flop / t)
    return out


def gemm_curve(rate, rate_source, copy_bw, in_bytes, dtype) -> Curve:
    ys = gemm_rate_vs_m(rate, copy_bw, in_bytes)
    src = (
        f"published {dtype} GEMM 8192^3 = {rate / 1e12:.1f} TFLOP/s ({rate_source}) is the rate at M = 8192; "
        f"the M dependence is derived, not measured: t(M) = max(2 M K N / (R x q(M)), bytes / copy BW) for K = N = 8192, "
        f"q(M) = M / (128 ceil(M/128)) (128-row tile quantisation), bytes = (M K + K N) x {in_bytes} + M N x 2 at the published copy bandwidth"
    )
    return Curve(tuple(float(m) for m in M_POINTS), tuple(ys), src)


def build(key: str, entry: dict) -> Profile:
    gpu = load_gpus()[key]
    vm = load_vms()[entry["vm"]]
    copy_bw, copy_src = entry["copy"]
    fp8, fp8_src = entry["fp8_gemm_8192"]
    if entry["bf16_gemm_8192"]:
        bf16, bf16_src = entry["bf16_gemm_8192"]
        bf16_measured = True
    elif key == "h200-sxm-141gb":
        bf16, h100_src = PUBLISHED["h100-sxm-80gb"]["bf16_gemm_8192"]
        bf16_src = f"not published for H200: the H100 measurement ({h100_src}) applied, since H200 has the same GH100 compute (989.4 TFLOP/s bf16 datasheet)"
        bf16_measured = False
    else:
        bf16 = fp8 * gpu.bf16_flop_per_s / gpu.fp8_flop_per_s
        ratio = f"{gpu.bf16_flop_per_s / 1e12:.1f}/{gpu.fp8_flop_per_s / 1e12:.1f}"
        bf16_src = f"not published for this GPU: derived as the published fp8 rate x datasheet bf16/fp8 ({ratio})"
        bf16_measured = False
    fa, fa_src = entry["flash_attention_fwd"]
    ar = vm.allreduce_curve
    curves = {
        "gemm_bf16": gemm_curve(bf16, bf16_src, copy_bw, 2, "bf16"),
        "gemm_fp8": gemm_curve(fp8, fp8_src, copy_bw, 1, "fp8"),
        "memory_copy": Curve((1.0,), (copy_bw,), (
            f"published device copy bandwidth, bytes read + written ({copy_src}); "
            "a single point applied at every size (no size dependence published)"
        )),
        "attention_prefill": Curve((8192.0,), (fa,), (
            f"published {fa_src} = {fa / 1e12:.1f} TFLOP/s; "
            "a single point applied at every length (x nominal; no length dependence published)"
        )),
        "attention_decode": Curve((1.0,), (copy_bw,), (
            "derived, not measured: decode attention streams the KV cache once, so its rate is taken as the published copy bandwidth; "
            "no decode-attention measurement published"
        )),
        "allreduce": Curve(tuple(float(x) for x in ar["x"]), tuple(float(y) for y in ar["y"]), f"published: {ar['source']} (bus bandwidth, 8 GPUs in one VM)"),
    }
    rows = []
    if bf16_measured:
        rows.append(_gemm_row("bf16", bf16, bf16_src))
    rows.append(_gemm_row("fp8", fp8, fp8_src))
    for x, y in zip(ar["x"], ar["y"]):
        rows.append({
            "probe": "allreduce",
            "message_bytes": int(x),
            "world_size": vm.gpus_per_vm,
            "nodes": 1,
            "backend": "rccl" if gpu.vendor == "amd" else "nccl",
            "ms": x * 2 * (vm.gpus_per_vm - 1) / vm.gpus_per_vm / y * 1e3,
            "bus_bytes_per_s": float(y),
            "source": ar["source"],
        })
    sources = sorted({s for s in (bf16_src, fp8_src, copy_src, fa_src, ar["source"])})
    return Profile(
        gpu=key,
        source="published",
        note="published, not measured by moeprof",
        provenance={
            "device_name": gpu.name,
            "driver": None,
            "torch": None,
            "cuda": None,
            "rocm": None,
            "host": None,
            "date": TABLE_DATE,
            "moeprof_version": __version__,
            "probe_settings": None,
            "vm": vm.azure_name,
            "generated_by": "scripts/make_published_profiles.py",
            "sources": sources,
        },
        curves=curves,
        scalars={},
        rows=rows,
    )


def _gemm_row(dtype: str, rate: float, source: str) -> dict:
    flop = 2.0 * 8192**3
    return {
        "probe": "gemm_peak",
        "dtype": dtype,
        "m_tokens": 8192,
        "k": 8192,
        "n": 8192,
        "flop": flop,
        "ms": flop / rate * 1e3,
        "flop_per_s": rate,
        "source": source,
    }


def main(argv=None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out-dir", default=str(ROOT / "profiles"), help="folder to write into [default: profiles/]")
    out_dir = Path(ap.parse_args(argv).out_dir)
    for key, entry in PUBLISHED.items():
        path = save_profile(build(key, entry), out_dir / f"{key}.published.json")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
