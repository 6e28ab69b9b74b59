"""The Python API (moeprof.plan, compare, evaluate, memory, load_model): keywords named as the flags,
the same JSON as the command's --json, rows as a DataFrame; `import moeprof` stays light."""

import json
import subprocess
import sys

import pytest

import moeprof
from moeprof.errors import FlagError


def test_import_moeprof_loads_no_numpy_pandas_or_click():
    code = "import sys, moeprof; print(sorted(m for m in ('numpy', 'pandas', 'click', 'torch') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_plan_is_the_commands_json_and_its_csv_rows(cli_once):
    p = moeprof.plan(model="maverick", sku="nd-h200-v5", qps=10)
    d = json.loads(cli_once("plan", "--model", "maverick", "--sku", "nd-h200-v5", "--qps", "10", "--json", check_rc=0).stdout)
    got = p.to_dict()
    assert got["recommended"] == d["recommended"] and got["inputs"] == d["inputs"]
    df = p.to_pandas()
    assert bool(df["recommended"].iloc[0]) and not df["recommended"].iloc[1:].any()
    assert df["usd_per_month"].iloc[0] == pytest.approx(p.recommended.usd_per_month)
    assert len(df) == 1 + len([r for r in p.document.feasible if r.key() != p.recommended.key()])


def test_keywords_are_the_flags_with_their_bounds_and_aliases():
    with pytest.raises(FlagError, match="--qps"):
        moeprof.plan(model="maverick", qps=-1)
    with pytest.raises(TypeError, match="did you mean qps"):
        moeprof.plan(model="maverick", qpss=1)
    with pytest.raises(FlagError, match="--model"):
        moeprof.plan()
    a = moeprof.evaluate(model="scout", sku="nd-h100-v5", tp=8, max_concurrency=8, isl=1024, osl=128)
    b = moeprof.evaluate(model="scout", sku="nd-h100-v5", tp=8, concurrency=8, input_tokens=1024, output_tokens=128)
    assert a.to_dict() == b.to_dict() and a.to_dict()["max_concurrency"] == 8


@pytest.mark.slow  # a full compare of its own
def test_compare_rows_and_json(cli_once):
    c = moeprof.compare(model="maverick", sku=["nd-h200-v5", "nd-h100-v5"])
    d = json.loads(cli_once("compare", "--model", "maverick", "--sku", "nd-h200-v5,nd-h100-v5", "--json", check_rc=0).stdout)
    assert c.to_dict()["rows"] == d["rows"]
    assert list(c.to_pandas()["sku"]) == [r["sku"] for r in d["rows"]]


def test_evaluate_sweep_as_a_frame(cli):
    e = moeprof.evaluate(model="scout", sku="nd-h100-v5", tp=8, sweep="max_concurrency=1,8", isl=1024, osl=128)
    df = e.to_pandas()
    assert list(df["max_concurrency"]) == [1, 8] and "output_throughput_per_gpu_low" in df
    d = json.loads(cli("evaluate", "--model", "scout", "--sku", "nd-h100-v5", "--tp", "8", "--sweep", "concurrency=1,8",
                       "--isl", "1024", "--osl", "128", "--json", check_rc=0).stdout)
    assert e.to_dict() == d


def test_memory_and_load_model(cli):
    m = moeprof.memory(model="maverick", sku="nd-h200-v5")
    assert m.fits and m.to_dict() == json.loads(cli("memory", "--model", "maverick", "--sku", "nd-h200-v5", "--json").stdout)
    assert m.to_pandas().shape[0] == 1
    assert moeprof.load_model("scout").name == "scout"
    import moeprof.memory as memory_module  # the memory model module stays reachable

    assert memory_module.Parallelism(tp=8, ep=1, pp=1).tp == 8


def test_plan_refuses_a_spot_pick_as_the_command_does():
    from moeprof.errors import MoeprofError

    with pytest.raises(MoeprofError, match="no Spot pick"):
        moeprof.plan(model="scout", pricing="spot", sku="nd-mi300x-v5", ttft_ms=2000)
