"""Shipped data by name: `moeprof data` lists benchmark sets, traffic profiles and GPU profiles, and
`--bench`, `--traffic`, `--profile` take those names; a file path still works."""

import json
from pathlib import Path

import pytest

from moeprof.catalog.bundled import bundled, names, resolve
from moeprof.errors import UnknownNameError


def test_every_shipped_file_has_a_name_a_source_and_a_path():
    rows = bundled()
    assert {b.kind for b in rows} == {"benchmarks", "traffic", "profile"}
    assert {"inferencex-2025-12", "vllm-pr16674"} <= set(names("benchmarks"))
    assert names("traffic") == ["diurnal-week"]
    assert "h100-sxm-80gb.aic-vllm" in names("profile")
    for b in rows:
        assert Path(b.path).is_file() and b.source, b


def test_a_name_resolves_a_file_wins_an_unknown_name_says_which(tmp_path):
    assert Path(resolve("traffic", "diurnal-week")).name == "diurnal_week.csv"
    assert Path(resolve("benchmarks", "inferencex-2025-12")).name == "inferencex_2025-12.json"
    own = tmp_path / "diurnal-week"
    own.write_text("hour,qps\n0,1\n")
    assert resolve("traffic", str(own)) == str(own)
    with pytest.raises(UnknownNameError, match="did you mean diurnal-week"):
        resolve("traffic", "diurnal-wek")


def test_data_command(cli):
    d = json.loads(cli("data", "--json", check_rc=0).stdout)
    flags = {(r["name"], r["flag"]) for r in d}
    assert ("diurnal-week", "--traffic") in flags and ("inferencex-2025-12", "--bench") in flags
    text = cli("data", "--kind", "traffic", "--no-paths", check_rc=0).stdout
    assert text.splitlines()[0] == "traffic (--traffic NAME)" and "diurnal-week" in text


def test_flags_take_the_names(cli):
    d = json.loads(cli("plan", "--model", "scout", "--sku", "nd-h200-v5", "--max-vms", "1", "--traffic", "diurnal-week",
                       "--json", check_rc=0).stdout)
    assert d["traffic"]["hours"] == 168
    from moeprof.cli.calibrate_cmd import load_bench

    recs = load_bench(("inferencex-2025-12",), (), "all", None, "h100", None, None, None, None, None, None, None, None)
    assert recs and {r.gpu for r in recs} == {"h100-sxm-80gb"}
    e = json.loads(cli("evaluate", "--model", "scout", "--sku", "nd-h100-v5", "--tp", "8", "--concurrency", "4", "--isl", "512",
                       "--osl", "64", "--profile", "h100-sxm-80gb.aic-vllm", "--json", check_rc=0).stdout)
    assert "aiconfigurator" in e["calibration"] or "aic" in e["calibration"]
