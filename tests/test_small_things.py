"""The small things a user trips on: memory's exit code, its one FITS word, flags named as flags,
money in CSV without float noise, --isl / --osl, vLLM's max_concurrency."""

import csv
import io
import json

import pytest

from moeprof.report.tables import rows_to_csv


def test_memory_exits_1_when_it_does_not_fit_and_says_fits_once(cli):
    bad = cli("memory", "--model", "maverick", "--sku", "nd-h100-v5", "--quant", "bf16")
    assert bad.returncode == 1 and "DOES NOT FIT: " in bad.stdout
    assert cli("memory", "--model", "maverick", "--sku", "nd-h100-v5", "--quant", "bf16", "--json").returncode == 1
    ok = cli("memory", "--model", "scout", "--sku", "nd-h100-v5", check_rc=0).stdout
    last = ok.strip().splitlines()[-1]
    assert last.startswith("FITS: ") and "fits:" not in last.lower()[len("FITS: "):]


def test_errors_name_flags():
    from moeprof.calibrate import bench_files

    text = open(bench_files.__file__).read()
    assert "pass tp" not in text and "give --tp" in text and "pass model" not in text and "pass gpu" not in text


def test_wide_tp_error_names_the_flags(cli):
    p = cli("memory", "--model", "deepseek-r1", "--sku", "nd-h100-v5", "--vms", "2", "--tp", "16")
    assert p.returncode == 1 and "--tp" in p.stderr and "--pp" in p.stderr


def test_money_in_csv_has_no_float_noise():
    text = rows_to_csv([{"usd_per_month": 71773.59999999999, "x": 0.1 + 0.2, "n": 3}])
    row = next(csv.DictReader(io.StringIO(text)))
    assert row["usd_per_month"] == "71773.6" and row["x"] == "0.3" and row["n"] == "3"


@pytest.mark.slow  # three evaluations and a full plan
def test_isl_osl_and_max_concurrency(cli, cli_once):
    a = json.loads(cli("evaluate", "--model", "scout", "--sku", "nd-h100-v5", "--tp", "8", "--max-concurrency", "4",
                       "--isl", "512", "--osl", "64", "--json", check_rc=0).stdout)
    b = json.loads(cli("evaluate", "--model", "scout", "--sku", "nd-h100-v5", "--tp", "8", "--concurrency", "4",
                       "--input-tokens", "512", "--output-tokens", "64", "--json", check_rc=0).stdout)
    assert a == b and a["max_concurrency"] == 4 and "concurrency" not in a
    s = json.loads(cli("evaluate", "--model", "scout", "--sku", "nd-h100-v5", "--tp", "8", "--sweep", "max_concurrency=1,2",
                       "--isl", "512", "--osl", "64", "--json", check_rc=0).stdout)
    assert [r["max_concurrency"] for r in s["sweep"]] == [1, 2]
    p = json.loads(cli_once("plan", "--model", "maverick", "--isl", "1024", "--osl", "256", "--json").stdout)
    assert (p["inputs"]["input_tokens"], p["inputs"]["output_tokens"]) == (1024, 256)
