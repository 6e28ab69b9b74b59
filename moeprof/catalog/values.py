"""The package's own data files (moeprof/data/*.json): read once, `{value, source}` entries
parsed in one place, errors naming the file and field."""

from __future__ import annotations

import json
import math
from functools import cache
from importlib import resources

from ..errors import ConfigError


def data_path(name: str) -> str:
    """The path a data file is reported under in errors and sources."""
    return f"moeprof/data/{name}"


@cache
def _read(name: str) -> str:
    return (resources.files("moeprof") / "data" / name).read_text(encoding="utf-8")


def read_data_json(name: str) -> dict:
    """A fresh parsed copy of moeprof/data/<name> (the text is read once per process)."""
    try:
        doc = json.loads(_read(name))
    except json.JSONDecodeError as e:
        raise ConfigError(data_path(name), "<json>", f"not valid JSON ({e.msg} at line {e.lineno})") from None
    if not isinstance(doc, dict):
        raise ConfigError(data_path(name), "<root>", "expected a JSON object")
    return doc


def sourced(entry, path: str, field: str, positive: bool = True) -> tuple[float, str, bool]:
    """(value, source, uncertain) of a `{"value": number, "source": text[, "uncertain": true]}`
    entry; the value must be a finite number (> 0 when `positive`)."""
    if not isinstance(entry, dict) or "value" not in entry:
        raise ConfigError(path, field, "missing or not {value, source}")
    v = entry["value"]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or (positive and v <= 0):
        raise ConfigError(path, f"{field}.value", f"expected a {'positive ' if positive else ''}finite number, got {v!r}")
    return v, str(entry.get("source", "")), bool(entry.get("uncertain"))
