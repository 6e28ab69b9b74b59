"""Data shipped with moeprof, by name: benchmark sets (moeprof/data/benchmarks), traffic profiles
(moeprof/data/traffic) and GPU profiles (profiles/, installed as moeprof.shipped_profiles).

    bundled()                          [Bundled(name, kind, source, path), ...] sorted by kind, name
    resolve("traffic", "diurnal-week")  the installed path of diurnal_week.csv

A benchmark set or traffic profile is named by its file name without the extension, underscores as
dashes (inferencex_2025-12.json -> inferencex-2025-12); a profile by its file stem
(h100-sxm-80gb.aic-vllm). An existing file always wins over a name."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from ..errors import UnknownNameError, one_line

KINDS = ("benchmarks", "traffic", "profile")
_FOLDERS = {"benchmarks": ("moeprof", "data/benchmarks", ".json"), "traffic": ("moeprof", "data/traffic", ".csv"),
            "profile": ("moeprof.shipped_profiles", "", ".json")}
MAX_SOURCE_CHARS = 160


@dataclass(frozen=True)
class Bundled:
    name: str
    kind: str  # benchmarks | traffic | profile
    source: str  # what the file says it is: a benchmark set's title, a traffic profile's first comment, a profile's note
    path: str  # the installed file


def _name(kind: str, stem: str) -> str:
    return stem if kind == "profile" else stem.replace("_", "-")


def _files(kind: str) -> list[Path]:
    package, sub, ext = _FOLDERS[kind]
    try:
        root = resources.files(package)
    except ModuleNotFoundError:
        return []
    folder = Path(str(root / sub)) if sub else Path(str(root))
    return sorted(p for p in folder.glob(f"*{ext}") if p.is_file()) if folder.is_dir() else []


def _source(kind: str, path: Path) -> str:
    try:
        if kind == "traffic":
            first = path.read_text(encoding="utf-8").splitlines()[0]
            text = first.lstrip("#").strip() if first.startswith("#") else ""
        else:
            doc = json.loads(path.read_text(encoding="utf-8"))
            src = doc.get("source")
            text = (src.get("title") or "") if isinstance(src, dict) else f"{src}: {doc.get('note', '')}"
    except (OSError, ValueError, IndexError, AttributeError):
        text = ""
    text = one_line(text)
    return text if len(text) <= MAX_SOURCE_CHARS else text[: MAX_SOURCE_CHARS - 3] + "..."


def _paths(kind: str) -> dict[str, Path]:
    return {_name(kind, p.name[: -len(_FOLDERS[kind][2])]): p for p in _files(kind)}


@cache
def bundled() -> tuple[Bundled, ...]:
    """Every shipped benchmark set, traffic profile and GPU profile, with its source and path."""
    return tuple(Bundled(name, kind, _source(kind, p), str(p)) for kind in KINDS for name, p in sorted(_paths(kind).items()))


def names(kind: str) -> list[str]:
    return sorted(_paths(kind))


def resolve(kind: str, ref) -> str:
    """`ref` as given when it is a file (or looks like a path), else the shipped file of that name."""
    text = os.fspath(ref)
    if Path(text).exists() or os.sep in text or "/" in text or Path(text).suffix in (".json", ".csv", ".jsonl"):
        return text
    paths = _paths(kind)
    if text in paths:
        return str(paths[text])
    if text.lower() in paths:
        return str(paths[text.lower()])
    label = {"benchmarks": "benchmark set", "traffic": "traffic profile", "profile": "profile"}[kind]
    raise UnknownNameError(f"{label} (a file, or a name from `moeprof data`)", text, paths)
