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
MAX_FILES = 1000  # benchmark files in one run
MAX_RECORDS = 2000  # records in one run (validate predicts each; ~10 ms a record)


def run_key(r) -> tuple:
    """What makes two records the same run: the deployment, the load, the lengths and every
    measured figure (not the id, file or notes). A run passed twice, or a result file copied, is
    one run: counted once in a fit and its band."""
    return (r.model, r.gpu, r.num_gpus, r.tp, r.ep, r.dp, r.pp, r.engine, r.engine_version, r.kv_cache_dtype,
            r.checkpoint_quant, r.spec_decode, tuple(sorted(r.load.items())), r.input_tokens, r.output_tokens,
            tuple(sorted(r.metrics.items())))


def load(paths, layout: dict | None = None, engine: str | None = None, input_tokens: int | None = None,
         output_tokens: int | None = None, split: str = "all") -> list:
    """The records of every file (split "all": fit and validation, never "none")."""
    if split not in SPLITS:
        raise MoeprofError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    lay = {k: v for k, v in (layout or {}).items() if v is not None}
    paths = list(paths)
    if len(paths) > MAX_FILES:
        raise MoeprofError(f"{len(paths):,} benchmark files, at most {MAX_FILES:,} in one run: pass fewer --bench files")
    out, seen, files, runs = [], {}, {}, set()
    for path in paths:
        p = Path(path)
        fmt = detect_format(read_text_file(p, "benchmark file"), p)
        same = _same_file(p, files)
        if same is not None:
            raise MoeprofError(f"{p}: the same file as {same} (pass each file once)")
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
        kept = []
        for r in recs:
            if r.id in seen:  # another file (a result.json of another folder): tell them apart by folder
                if fmt == "moeprof":
                    raise MoeprofError(f"{p}: record id {r.id} is also in {seen[r.id]} (a dataset id names one record)")
                r = replace(r, id=f"{p.resolve().parent.name}/{r.id}")
                if r.id in seen:
                    r = replace(r, id=f"{p.resolve()}:{r.id.rsplit('/', 1)[-1]}")
            seen[r.id] = str(p)
            key = run_key(r)
            if key in runs:  # the same run again: counted once
                continue
            runs.add(key)
            kept.append(r)
        out += [r for r in kept if r.split != "none" and (split == "all" or r.split == split)]
        if len(out) > MAX_RECORDS:
            raise MoeprofError(f"more than {MAX_RECORDS:,} benchmark records in one run (at {p}): pass fewer --bench files, "
                               "--split, or --gpu for dataset files")
    return out


def _same_file(p: Path, files: dict) -> str | None:
    """The file already read that p is (same device and inode), recording p."""
    import os

    st = os.stat(p)
    key = (st.st_dev, st.st_ino)
    if key in files:
        return files[key]
    files[key] = str(p)
    return None
