"""Tables for machine readers (CSV) and for the HTML report, with units in every column name.

Planner rows already name most units (ttft_ms, usd_per_hour, weights_bytes_per_gpu); the few
that do not get one from the row schema (qps_capacity -> qps_capacity_req_per_s), so a CSV
column is never a bare number of unknown unit.
"""

from __future__ import annotations

import csv
import io
import json
import math

from ..planner.document.rows import EXTRA_UNIT_COLUMNS, ROW_SCHEMA

# The plan row schema (planner.document.rows) says each field's CSV column and report label / format;
# a few input fields outside the rows add their unit-carrying column names.
UNIT_COLUMNS = {f.name: f.column for f in ROW_SCHEMA if f.csv_name} | EXTRA_UNIT_COLUMNS
LABELS = {f.name: (f.label, f.fmt) for f in ROW_SCHEMA}


def unit_column(name: str) -> str:
    return UNIT_COLUMNS.get(name, name)


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):  # numpy.float64 is a float whose repr is "np.float64(...)": the plain float
        return _number(float(v)) if math.isfinite(v) else ""
    if isinstance(v, (int,)):
        return str(v)
    if hasattr(v, "item") and callable(v.item):  # numpy scalar
        return _cell(v.item())
    if isinstance(v, (dict, list, tuple)):
        return json.dumps(v, separators=(",", ":"), default=str)
    s = str(v)
    # A text cell a spreadsheet would run as a formula is prefixed with a quote.
    s = "'" + s if s[:1] in ("=", "+", "-", "@", "\t", "\r") else s
    return s.replace("\r\n", "\n").replace("\r", "\n")  # the writer quotes \n, not a bare \r


CSV_DIGITS = 12  # significant digits: float arithmetic noise (71773.59999999999) goes, every stated digit stays


def _number(v: float) -> str:
    """A float as CSV text: at most CSV_DIGITS significant digits (71773.6, 0.3, 1.5e-07)."""
    return format(v, f".{CSV_DIGITS}g")


def rows_to_csv(rows: list[dict], exclude: tuple[str, ...] = ("sources",)) -> str:
    """CSV text of row dicts: columns in first-seen order, renamed to carry their unit
    (see UNIT_COLUMNS); None and non-finite numbers are empty cells; nested values are JSON."""
    cols: list[str] = []
    for r in rows:
        for k in r:
            if k not in cols and k not in exclude:
                cols.append(k)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([unit_column(c) for c in cols])
    for r in rows:
        w.writerow([_cell(r.get(c)) for c in cols])
    return buf.getvalue()


def fmt(field: str, value) -> str:
    """A row value formatted for a report table."""
    if value is None:
        return "–"
    if isinstance(value, float) and not math.isfinite(value):
        return "∞"
    spec = LABELS.get(field, (field, None))[1]
    if spec and isinstance(value, (int, float)) and not isinstance(value, bool):
        return spec.format(value)
    return str(value)


def label(field: str) -> str:
    return LABELS.get(field, (field, None))[0]
