import csv
import io
import json

from moeprof.report.tables import fmt, rows_to_csv, unit_column


def _read(text):
    return list(csv.DictReader(io.StringIO(text)))


def test_columns_carry_units_and_values_round_trip():
    rows = [
        {"sku": "nd-h200-v5", "tp": 8, "ttft_ms": 312.5, "usd_per_hour": 98.32, "qps_capacity": 12.25, "utilization": 0.5},
        {"sku": "nd-h100-v5", "tp": 4, "ttft_ms": None, "usd_per_hour": float("inf"), "max_batch": 256},
    ]
    text = rows_to_csv(rows)
    header = text.splitlines()[0].split(",")
    assert header == ["sku", "tp", "ttft_ms", "usd_per_hour", "qps_capacity_req_per_s", "utilization_fraction", "max_batch_seqs"]
    back = _read(text)
    assert float(back[0]["ttft_ms"]) == 312.5
    assert float(back[0]["qps_capacity_req_per_s"]) == 12.25
    assert back[1]["ttft_ms"] == "" and back[1]["usd_per_hour"] == ""  # None and inf are empty cells
    assert back[1]["max_batch_seqs"] == "256" and back[0]["max_batch_seqs"] == ""


def test_nested_values_are_json_sources_dropped_and_formulas_defused():
    rows = [{"sku": "=HYPERLINK(\"x\")", "misses": ["TTFT 500 ms > 450 ms"], "price_estimate": True, "sources": {"a": 1}}]
    back = _read(rows_to_csv(rows))[0]
    assert "sources" not in back
    assert json.loads(back["misses"]) == ["TTFT 500 ms > 450 ms"]
    assert back["price_estimate"] == "true"
    assert back["sku"].startswith("'=")


def test_unit_column_and_fmt():
    assert unit_column("ttft_ms") == "ttft_ms"
    assert unit_column("qps") == "qps_req_per_s"
    assert fmt("usd_per_month", 71774.0) == "71,774"
    assert fmt("utilization", 0.55) == "55%"
    assert fmt("ttft_ms", None) == "–"


def test_plan_rows_all_get_unit_names(plan_doc):
    text = rows_to_csv([plan_doc["recommended"], *plan_doc["alternatives"]])
    header = text.splitlines()[0].split(",")
    unitless = {"sku", "gpu", "tp", "ep", "pp", "quant", "kv_dtype", "price_estimate", "calibration", "notes", "checkpoint"}
    for col in header:
        assert col in unitless or "_" in col, col
    assert len(_read(text)) == 1 + len(plan_doc["alternatives"])


def test_numpy_scalars_are_plain_numbers_in_csv():
    import numpy as np

    text = rows_to_csv([{"a": np.float64(0.1), "b": np.int64(3), "c": np.bool_(True), "d": np.float32(0.5)}])
    assert text == "a,b,c,d\n0.1,3,true,0.5\n"


def test_plan_and_compare_csv_write_no_numpy_reprs(cli_once):
    cli = cli_once
    for cmd in ("plan", "compare"):
        out = cli(cmd, "--model", "maverick", "--sku", "nd-mi300x-v5", "--ttft-ms", "2000", "--csv", check_rc=0).stdout
        assert "np." not in out and "float64" not in out and len(out.splitlines()) > 1
