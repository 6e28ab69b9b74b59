"""Import NVIDIA aiconfigurator's measured kernel database into kernel tables.

aiconfigurator-core (pip, Apache-2.0, Copyright NVIDIA CORPORATION & AFFILIATES) ships parquet
tables under aiconfigurator_core/systems/data/<system>/<op>/<engine>/<engine version>/. This is
the only module that reads them (pyarrow, through pandas); everything else reads the derived
moeprof profile. Latencies in the source are milliseconds.

What is taken (per engine; `version` picks an engine version, else the newest per op):
    gemm/gemm_perf                       bf16 (gemm_dtype bfloat16) and fp8 (per-tensor) GEMMs
    moe/moe_perf                         distribution 'balanced', dtypes bf16, fp8 (per-tensor),
                                         fp8_block (128 x 128 weight blocks, DeepSeek-V3/R1) and
                                         mxfp4 (aiconfigurator's w4a16_mxfp4: MXFP4 weights, bf16
                                         activations, as gpt-oss runs on Hopper), at the
                                         (hidden, inter, experts, topk) shapes asked for; not
                                         where the timed kernel is not the engine's default for
                                         the format (MOE_NOT_DEFAULT, recorded in the provenance)
    attention/generation_attention_perf  window 0, KV bf16 and fp8, at the head dims asked for;
                                         kv_len = isl + step (the tokens in the KV cache)
    attention/context_attention_perf     KV bf16, at the head dims asked for; window 0 (global)
                                         and each sliding window measured (its own table)
    comm/custom_allreduce_perf           the CUDA-graph backend; message_size counts bf16
                                         elements, so message_bytes = 2 x message_size
Where the source has several kernels for one setting, the one with the most rows is kept (its
name is recorded); duplicate cells take the median.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import numpy as np

from ..errors import MoeprofError
from .table import KernelTable

PACKAGE = "aiconfigurator-core"
LICENSE = "Apache-2.0"
ATTRIBUTION = ("Kernel latencies from NVIDIA aiconfigurator (aiconfigurator-core), Copyright NVIDIA CORPORATION & "
               "AFFILIATES, licensed under the Apache License 2.0; subset, regridded and rounded to 4 significant digits.")
DTYPES = {"bfloat16": "bf16", "fp8": "fp8"}
MOE_DTYPES = {**DTYPES, "fp8_block": "fp8_block", "w4a16_mxfp4": "mxfp4"}
# MoE tables left out because the kernel aiconfigurator timed is not the one the engine runs for
# that weight format on Hopper by default, so the table would time another kernel.
MOE_NOT_DEFAULT = {
    ("vllm", "fp8_block"): ("vLLM runs block-scaled fp8 MoE through DeepGEMM on Hopper (vllm/envs.py: VLLM_USE_DEEP_GEMM "
                            "defaults to 1 from v0.11.0, 0 in v0.10.1); the table times its Triton and FlashInfer CUTLASS kernels"),
    ("sglang", "mxfp4"): ("SGLang runs gpt-oss's MXFP4 experts through triton_kernels on Hopper (python/sglang/srt/server_args.py: "
                          "a GPT-OSS model with --moe-runner-backend auto and EP 1 selects triton_kernel); the table times "
                          "its fused_moe_triton kernel"),
}
ENGINES = ("vllm", "sglang", "trtllm")
MAX_KV_HEADS = 8  # per GPU: the models' KV heads (8 at most) split over TP
ALLREDUCE_BACKENDS = ("vllm_graph", "sglang_graph")


def _pandas():
    try:
        import pandas as pd
        import pyarrow  # noqa: F401
    except ImportError:
        raise MoeprofError("the import needs aiconfigurator-core and pyarrow: pip install 'moeprof[aic]'") from None
    return pd


def data_root() -> Path:
    """aiconfigurator-core's systems/data folder."""
    try:
        import aiconfigurator_core
    except ImportError:
        raise MoeprofError("the import needs aiconfigurator-core and pyarrow: pip install 'moeprof[aic]'") from None
    return Path(aiconfigurator_core.__file__).resolve().parent / "systems" / "data"


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(PACKAGE)
    except PackageNotFoundError:
        return "unknown"


def _vkey(v: str) -> tuple:
    parts = []
    for p in v.replace("rc", ".").replace("post", ".").split("."):
        parts.append(int(p) if p.isdigit() else -1)
    return tuple(parts)


def find_table(root: Path, op_dir: str, engine: str, filename: str, version: str | None) -> Path | None:
    """The table file for an engine: at `version` if it has it, else the newest version that does."""
    base = root / op_dir / engine
    if not base.is_dir():
        return None
    have = [d for d in base.iterdir() if (d / filename).is_file()]
    if version is not None:
        exact = [d for d in have if d.name == version]
        if exact:
            return exact[0] / filename
    return max(have, key=lambda d: _vkey(d.name)) / filename if have else None


def _grid(frame, axes, value="latency"):
    """Dense array over the unique values of `axes` (NaN where absent; duplicates: median)."""
    frame = frame.groupby(list(axes), as_index=False)[value].median()
    grid = [np.array(sorted(frame[a].unique()), dtype=float) for a in axes]
    arr = np.full(tuple(len(g) for g in grid), np.nan)
    pos = tuple(np.searchsorted(g, frame[a].to_numpy(dtype=float)) for g, a in zip(grid, axes))
    arr[pos] = frame[value].to_numpy(dtype=float)
    return grid, arr


def _top_kernel(frame) -> tuple:
    if "kernel_source" not in frame or frame.empty:
        return frame, ""
    src = frame["kernel_source"].value_counts().sort_index().idxmax()
    return frame[frame["kernel_source"] == src], str(src)


# Head counts are interpolated in the count itself (a kernel's time is near affine in them);
# the other axes (sizes, and GPU counts that are powers of two) in their log.
LINEAR_AXES = {"num_heads", "num_kv_heads"}


def _table(op, key, frame, axes, src_axes, extensive, meta) -> KernelTable | None:
    frame, kernel = _top_kernel(frame)
    if frame.empty:
        return None
    frame = frame.rename(columns=dict(zip(src_axes, axes)))
    grid, arr = _grid(frame, axes)
    meta = dict(meta, rows=int(len(frame)), kernel_source=kernel)
    return KernelTable.build(op, key, axes, grid, arr, [a in extensive for a in axes],
                             [a in LINEAR_AXES for a in axes], meta)


def import_tables(system: str, engine: str, version: str | None = None, head_dims=(64, 128),
                  moe_shapes=(), date: str | None = None, root: Path | None = None) -> tuple[dict[str, KernelTable], dict]:
    """(tables by name, provenance) for one system and engine. moe_shapes: (hidden, inter,
    experts, topk) tuples to keep; head_dims: attention head dims to keep; root: the data folder
    [default: the installed aiconfigurator-core's]."""
    pd = _pandas()
    root = Path(root) if root is not None else data_root()
    if engine not in ENGINES:
        raise MoeprofError(f"unknown engine {engine!r} (known: {', '.join(ENGINES)})")
    sysdir = root / system
    if not sysdir.is_dir():
        known = sorted(p.name for p in root.iterdir() if p.is_dir())
        raise MoeprofError(f"no system {system!r} in aiconfigurator's data (known: {', '.join(known)})")
    tables: dict[str, KernelTable] = {}
    sources = []

    def read(op_dir, filename):
        p = find_table(sysdir, op_dir, engine, filename, version)
        if p is None:
            return None, None
        rel = p.relative_to(root).as_posix()
        meta = {"source_table": rel, "engine": engine, "engine_version": p.parent.name}
        frame = pd.read_parquet(p)
        sources.append({"table": rel, "engine_version": p.parent.name, "source_rows": int(len(frame))})
        return frame, meta

    f, meta = read("gemm", "gemm_perf.parquet")
    if f is None:
        raise MoeprofError(f"no GEMM table for {system} / {engine}{' ' + version if version else ''}")
    for src, dt in DTYPES.items():
        t = _table("gemm", {"dtype": dt}, f[f.gemm_dtype == src], ("m", "n", "k"), ("m", "n", "k"), {"m", "n", "k"}, meta)
        if t is not None:
            tables[f"gemm_{dt}"] = t

    f, meta = read("moe", "moe_perf.parquet")
    if f is not None:
        f = f[f.distribution == "balanced"]
        for hidden, inter, experts, topk in sorted(set(moe_shapes)):
            sub = f[(f.hidden_size == hidden) & (f.inter_size == inter) & (f.num_experts == experts) & (f.topk == topk)]
            for src, dt in MOE_DTYPES.items():
                if (engine, dt) in MOE_NOT_DEFAULT:
                    continue
                key = {"dtype": dt, "hidden": hidden, "inter": inter, "experts": experts, "topk": topk}
                t = _table("moe", key, sub[sub.moe_dtype == src], ("tokens", "moe_tp", "moe_ep"),
                           ("num_tokens", "moe_tp_size", "moe_ep_size"), {"tokens"}, meta)
                if t is not None:
                    tables[f"moe_{dt}_h{hidden}_i{inter}_e{experts}_k{topk}"] = t

    att_axes = ("batch", "num_heads", "num_kv_heads")
    att_src = ("batch_size", "num_heads", "num_key_value_heads")
    f, meta = read("attention", "generation_attention_perf.parquet")
    if f is not None:
        f = f[(f.window_size == 0) & (f.num_key_value_heads <= MAX_KV_HEADS)].assign(kv_len=lambda x: x.isl + x.step)
        for hd in sorted(set(head_dims)):
            for src, dt in DTYPES.items():
                sub = f[(f.head_dim == hd) & (f.kv_cache_dtype == src)]
                t = _table("attention_generation", {"head_dim": hd, "kv_dtype": dt}, sub,
                           ("batch", "kv_len") + att_axes[1:], ("batch_size", "kv_len") + att_src[1:],
                           {"batch", "kv_len", "num_heads"}, meta)
                if t is not None:
                    tables[f"attention_generation_hd{hd}_kv{dt}"] = t

    f, meta = read("attention", "context_attention_perf.parquet")
    if f is not None:
        f = f[(f.num_key_value_heads <= MAX_KV_HEADS) & (f.kv_cache_dtype == "bfloat16")]
        for hd in sorted(set(head_dims)):
            for w in sorted(int(x) for x in f[f.head_dim == hd].window_size.unique()):
                key = {"head_dim": hd, "kv_dtype": "bf16"} | ({"window": w} if w else {})
                t = _table("attention_context", key, f[(f.head_dim == hd) & (f.window_size == w)],
                           ("batch", "seq_len") + att_axes[1:], ("batch_size", "isl") + att_src[1:],
                           {"batch", "seq_len", "num_heads"}, meta)
                if t is not None:
                    tables[f"attention_context_hd{hd}_kvbf16" + (f"_w{w}" if w else "")] = t

    f, meta = read("comm", "custom_allreduce_perf.parquet")
    if f is not None and "backend" in f:
        f = f[f.backend.isin(ALLREDUCE_BACKENDS)].assign(message_bytes=lambda x: 2 * x.message_size)
        t = _table("allreduce", {"dtype": "bf16"}, f, ("message_bytes", "gpus"), ("message_bytes", "num_gpus"),
                   {"message_bytes"}, meta)
        if t is not None:
            tables["allreduce_bf16"] = t

    device = ""
    for fr in (f,):
        if fr is not None and "device" in fr and len(fr):
            device = str(fr["device"].iloc[0])
    provenance = {
        "importer": "moeprof profile import --from aiconfigurator",
        "package": PACKAGE,
        "package_version": package_version(),
        "system": system,
        "engine": engine,
        "engine_version_requested": version,
        "device_name": device,
        "date": date or _dt.date.today().isoformat(),
        "license": LICENSE,
        "notice": ATTRIBUTION,
        "source_tables": sources,
        "moe_tables_left_out": {dt: why for (eng, dt), why in MOE_NOT_DEFAULT.items() if eng == engine},
        "tables": {name: {"op": t.op, "cells": int(t.ms.size), "measured_cells": int(t.measured.sum()),
                          **{k: t.meta[k] for k in ("source_table", "engine_version", "rows", "kernel_source")}}
                   for name, t in tables.items()},
    }
    return tables, provenance
