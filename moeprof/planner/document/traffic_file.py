"""A traffic file: requests per second, hour by hour, over a whole number of days (a day is 24
rows, a week 168), read through moeprof.inputs with one-line errors naming the file and the row.

    CSV   a header `hour,qps`, then one row per hour, hours 0, 1, ... in order; lines starting
          with `#` are comments (their text is the profile's source), blank lines are skipped
    JSON  {"qps_per_hour": [q0, q1, ...], "source": "..."}

Every QPS is a finite number >= 0 and at most MAX_QPS; at most MAX_HOURS hours.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass

from ...errors import ConfigError
from ...inputs import has_control, parse_json_text, read_text_file, require_object, short, type_name

HOURS_PER_DAY = 24
MAX_HOURS = 365 * HOURS_PER_DAY  # a year of hours: a day or a week is the usual profile
MAX_QPS = 1e6  # the CLI's bound on --qps
MAX_FILE_BYTES = 4 * 2**20  # a year of `hour,qps` rows is well under 1 MiB
MAX_SOURCE_CHARS = 2000
HEADER = ("hour", "qps")


@dataclass(frozen=True)
class TrafficProfile:
    qps_per_hour: tuple[float, ...]
    source: str  # where the numbers come from (the file's comments or "source"), "" when unsaid
    path: str  # the file it was read from

    @property
    def hours(self) -> int:
        return len(self.qps_per_hour)


def read_traffic(path) -> TrafficProfile:
    label = os.fspath(path)
    text = read_text_file(path, "traffic file", MAX_FILE_BYTES)
    if text.lstrip().startswith("{"):
        qps, source = _from_json(text, label)
    else:
        qps, source = _from_csv(text, label)
    _check_period(len(qps), label)
    return TrafficProfile(tuple(qps), source, label)


def _qps(v, label, where: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise ConfigError(label, where, f"expected a finite number of requests per second, got {short(v)}")
    if v < 0 or v > MAX_QPS:
        raise ConfigError(label, where, f"{v:g} req/s is out of range: must be >= 0 and <= {MAX_QPS:g}")
    return float(v)


def _check_period(n: int, label) -> None:
    if n == 0:
        raise ConfigError(label, "qps_per_hour", "no hours: expected 24 rows (a day) or 168 (a week)")
    if n > MAX_HOURS:
        raise ConfigError(label, "qps_per_hour", f"{n:,} hours, more than the {MAX_HOURS:,} (a year) a traffic file can hold")
    if n % HOURS_PER_DAY:
        raise ConfigError(label, "qps_per_hour", f"{n:,} hours is not a whole number of days (24 for a day, 168 for a week)")


def _clean_source(s: str, label) -> str:
    s = " ".join(s.split())
    if has_control(s):
        raise ConfigError(label, "source", "has control or line-break characters")
    if len(s) > MAX_SOURCE_CHARS:
        raise ConfigError(label, "source", f"{len(s):,} characters, at most {MAX_SOURCE_CHARS:,}")
    return s


def _from_json(text: str, label) -> tuple[list[float], str]:
    d = require_object(parse_json_text(text, label), label, "<root>")
    rows = d.get("qps_per_hour")
    if not isinstance(rows, list):
        raise ConfigError(label, "qps_per_hour", f"expected a list of requests per second, one per hour, got {type_name(rows)}")
    _check_period(len(rows), label)
    src = d.get("source", "")
    if not isinstance(src, str):
        raise ConfigError(label, "source", f"expected a string, got {type_name(src)}")
    return [_qps(v, label, f"qps_per_hour[{i}]") for i, v in enumerate(rows)], _clean_source(src, label)


def _from_csv(text: str, label) -> tuple[list[float], str]:
    comments: list[str] = []
    header_seen = False
    out: list[float] = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            comments.append(line.lstrip("#").strip())
            continue
        cells = [c.strip() for c in line.split(",")]
        if not header_seen:
            if tuple(c.lower() for c in cells) != HEADER:
                raise ConfigError(label, f"line {n}", f"expected the header 'hour,qps' (CSV) or a JSON object, got {short(line)}")
            header_seen = True
            continue
        if len(out) >= MAX_HOURS:
            raise ConfigError(label, f"line {n}", f"more than {MAX_HOURS:,} hours (a year), the most a traffic file can hold")
        if len(cells) != 2:
            raise ConfigError(label, f"line {n}", f"expected 2 cells 'hour,qps', got {len(cells)}: {short(line)}")
        hour = _number(cells[0], label, n, "hour")
        if hour != len(out):
            raise ConfigError(label, f"line {n}", f"hour {cells[0]} out of order: expected hour {len(out)} (hours run 0, 1, 2, ...)")
        out.append(_qps(_number(cells[1], label, n, "qps"), label, f"line {n}"))
    if not header_seen:
        raise ConfigError(label, "<csv>", "no header 'hour,qps' and no rows")
    return out, _clean_source(" ".join(comments), label)


_INTEGER = re.compile(r"\d+", re.ASCII)
_DECIMAL = re.compile(r"-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", re.ASCII)


def _number(cell: str, label, n: int, what: str):
    """A plain decimal number as a spreadsheet writes it: digits, a point, an exponent; never
    Python's extras (1_5, nan, inf, +5, Unicode digits)."""
    if len(cell) > 40:
        raise ConfigError(label, f"line {n}", f"{what}: a number of {len(cell):,} characters")
    if what == "hour":
        if not _INTEGER.fullmatch(cell):
            raise ConfigError(label, f"line {n}", f"{what}: {short(cell)} is not an integer")
        return int(cell)
    if not _DECIMAL.fullmatch(cell):
        raise ConfigError(label, f"line {n}", f"{what}: {short(cell)} is not a number")
    return float(cell)
