"""The shipped dataset of published serving benchmark results (moeprof/data/benchmarks/*.json,
one file per source) and the readers of engine benchmark files.

    load_records(split="fit")                          -> the shipped fit records
    load_bench_file("res.json", gpu="h200-sxm-141gb", tp=8)  -> records of a vLLM / SGLang result

Schema and split rule: moeprof/data/benchmarks/README.md."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from ..errors import ConfigError
from .bench_files import load_bench_file, parse_sglang_bench, parse_vllm_bench
from .bench_record import SPLITS, BenchRecord, records_from_doc, split_of

__all__ = [
    "BenchRecord",
    "load_records",
    "load_dataset_file",
    "shipped_paths",
    "split_of",
    "parse_vllm_bench",
    "parse_sglang_bench",
    "load_bench_file",
]


def shipped_paths() -> list[Path]:
    """The shipped per-source files, sorted by name."""
    folder = resources.files("moeprof") / "data" / "benchmarks"
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(".json"))


def load_dataset_file(path) -> list[BenchRecord]:
    """The records of one dataset file `{_about, source, shared_notes, records}`; a record's
    notes are its shared_notes[notes_ref] followed by its own notes."""
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(p, "<file>", f"cannot read ({e.strerror or e})") from None
    except json.JSONDecodeError as e:
        raise ConfigError(p, "<json>", f"not valid JSON ({e.msg} at line {e.lineno})") from None
    return records_from_doc(doc, p)


def load_records(paths=None, split: str | None = None) -> list[BenchRecord]:
    """Records of the given dataset files (None: the shipped ones), optionally of one split.
    Record ids must be unique across the files."""
    if split is not None and split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)} or None, got {split!r}")
    files = shipped_paths() if paths is None else [Path(p) for p in paths]
    out: list[BenchRecord] = []
    seen: dict[str, str] = {}
    for p in files:
        for r in load_dataset_file(p):
            if r.id in seen:
                raise ConfigError(p, f"id {r.id}", f"duplicate of a record in {seen[r.id]}")
            seen[r.id] = str(p)
            out.append(r)
    return out if split is None else [r for r in out if r.split == split]
