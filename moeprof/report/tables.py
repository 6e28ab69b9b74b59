"""Tables for machine readers (CSV) and for the HTML report, with units in every column name.

Planner rows already name most units (ttft_ms, usd_per_hour, weights_bytes_per_gpu); the few
that do not get one here (qps_capacity -> qps_capacity_req_per_s), so a CSV column is never a
bare number of unknown unit.
"""

from __future__ import annotations

import csv
import io
import json
import math

# Row field -> CSV column name carrying its unit (fields not listed keep their name).
UNIT_COLUMNS = {
    "qps": "qps_req_per_s",
    "qps_capacity": "qps_capacity_req_per_s",
    "utilization": "utilization_fraction",
    "running_batch": "running_batch_seqs",
    "max_batch": "max_batch_seqs",
    "vms": "vm_count",
    "gpus": "gpu_count",
    "replicas": "replica_count",
    "percentile": "percentile_pct",
    "routing_skew": "routing_skew_zipf_exponent",
    "max_vms": "max_vm_count",
}

# Row field -> (HTML column label, number format) for the report's tables.
LABELS = {
    "sku": ("VM SKU", None),
    "gpu": ("GPU", None),
    "vms": ("VMs", "{:,.0f}"),
    "gpus": ("GPUs", "{:,.0f}"),
    "tp": ("TP", "{:.0f}"),
    "ep": ("EP", "{:.0f}"),
    "pp": ("PP", "{:.0f}"),
    "replicas": ("replicas", "{:,.0f}"),
    "quant": ("quantization", None),
    "kv_dtype": ("KV dtype", None),
    "max_batch": ("max batch (seqs)", "{:,.0f}"),
    "max_context_tokens": ("max context (tokens)", "{:,.0f}"),
    "ttft_ms": ("TTFT (ms)", "{:,.0f}"),
    "tpot_ms": ("TPOT (ms)", "{:,.1f}"),
    "tokens_per_s": ("tokens/s", "{:,.0f}"),
    "output_tokens_per_s": ("output tokens/s", "{:,.0f}"),
    "qps_capacity": ("capacity (req/s)", "{:,.2f}"),
    "running_batch": ("running batch (seqs)", "{:,.1f}"),
    "utilization": ("utilisation (%)", "{:.0%}"),
    "usd_per_hour": ("$/h", "{:,.2f}"),
    "usd_per_month": ("$/month", "{:,.0f}"),
    "usd_per_million_tokens": ("$/M tokens", "{:,.3f}"),
    "usd_per_million_input_tokens": ("$/M input tokens", "{:,.3f}"),
    "usd_per_million_output_tokens": ("$/M output tokens", "{:,.3f}"),
    "joules_per_token": ("J/output token", "{:,.2f}"),
}


def unit_column(name: str) -> str:
    return UNIT_COLUMNS.get(name, name)


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):  # numpy.float64 is a float whose repr is "np.float64(...)": repr the plain float
        return repr(float(v)) if math.isfinite(v) else ""
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
