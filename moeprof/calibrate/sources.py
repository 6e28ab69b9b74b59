"""Benchmark files as records: moeprof dataset files (moeprof/data/benchmarks format), `vllm bench
serve --save-result` JSON and SGLang `bench_serving` JSONL (calibrate.bench_files, which cites the
field names), read through moeprof.inputs (regular UTF-8 files of at most 64 MiB, bounded JSON).

Engine files record neither the GPU nor the layout: `layout` supplies them (gpu, tp, ep, dp, pp,
num_gpus, model, kv_cache_dtype, ...), and `engine`, `input_tokens`, `output_tokens` override the
file's (a `vllm bench serve` client run against an SGLang server; nominal lengths instead of the
means). For dataset files `gpu` selects the records of that GPU.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ..errors import MoeprofError
from ..inputs import read_text_file
from .bench_files import detect_format, load_bench_file

SPLITS = ("fit", "validation", "all")


def load(paths, layout: dict | None = None, engine: str | None = None, input_tokens: int | None = None,
         output_tokens: int | None = None, split: str = "all") -> list:
    """The records of every file (split "all": fit and validation, never "none")."""
    if split not in SPLITS:
        raise MoeprofError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    lay = {k: v for k, v in (layout or {}).items() if v is not None}
    out, seen = [], {}
    for path in paths:
        p = Path(path)
        fmt = detect_format(read_text_file(p, "benchmark file"), p)
        if fmt == "moeprof":
            recs = load_bench_file(p)
            if lay.get("gpu"):
                recs = [r for r in recs if r.gpu == lay["gpu"]]
        else:
            gpu, tp = lay.get("gpu"), lay.get("tp")
            rest = {k: v for k, v in lay.items() if k not in ("gpu", "tp")}
            recs = load_bench_file(p, gpu=gpu, tp=tp, **rest)
            over = {k: v for k, v in (("engine", engine), ("input_tokens", input_tokens), ("output_tokens", output_tokens)) if v}
            if over:
                recs = [replace(r, notes=f"{r.notes}; set on the command line: {', '.join(sorted(over))}", **over) for r in recs]
        for r in recs:
            if r.id in seen:
                raise MoeprofError(f"{p}: record id {r.id} is also in {seen[r.id]} (pass each file once)")
            seen[r.id] = str(p)
        out += [r for r in recs if r.split != "none" and (split == "all" or r.split == split)]
    return out
