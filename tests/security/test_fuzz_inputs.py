"""Property: benchmark files (moeprof datasets, vLLM results, vLLM JSON lines, SGLang JSONL),
kernel-table profiles and traffic files, real ones with fields replaced by random JSON (or random
text), end every command with exit 0, 1 or 2, at most one line on stderr, no internal error, no
temp file, and no number on stdout longer than a plan can mean (no 300-digit TTFT)."""

import json
import re
import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from moeprof.cli import main

from .conftest import fuzz_settings, fuzz_sizes

FUZZ = fuzz_settings(30)
SCALARS = (st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.sampled_from([0, -1, 0.5, 10**9, 10**20, 1e308, 1e-300])
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12)
           | st.sampled_from(["", "\x1b]0;t\x07", "a\nb", "--trust-remote-code", "inf", "1_5", "h200-sxm-141gb", "vllm"]))
JSON = st.recursive(SCALARS, lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
                    max_leaves=12)


def _paths(doc, prefix=()):
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _paths(v, prefix + (i,))


def _mutate(doc, path, value):
    doc = json.loads(json.dumps(doc))
    if not path:
        return value
    parent = doc
    try:
        for k in path[:-1]:
            parent = parent[k]
        parent[path[-1]] = value
    except (KeyError, IndexError, TypeError):
        pass
    return doc


def mutated(base):
    """The document with one or two values replaced by random JSON (or random JSON outright)."""
    paths = list(_paths(base))
    return st.one_of(
        JSON,
        st.tuples(st.sampled_from(paths), JSON).map(lambda pv: _mutate(base, *pv)),
        st.tuples(st.sampled_from(paths), st.sampled_from(paths), JSON).map(
            lambda ppv: _mutate(_mutate(base, ppv[0], ppv[2]), ppv[1], ppv[2])),
    )


def _check(rc, err, folder: Path):
    assert rc in (0, 1, 2), (rc, err)
    said = [line for line in err.splitlines() if not line.startswith(("calibrate: ", "validate: "))]  # progress lines
    assert len(said) <= 1 and "Traceback" not in err and "internal error" not in err, err
    assert not [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "tests" / "data" / "bench"
DATASET = json.loads((ROOT / "moeprof" / "data" / "benchmarks" / "inferencex_2025-12.json").read_text())
DATASET = {**DATASET, "records": DATASET["records"][:2]}
VLLM = json.loads((BENCH / "vllm_scout_h200_c16.json").read_text())
SGLANG_LINES = [json.loads(x) for x in (BENCH / "sglang_dsr1_mi300x.jsonl").read_text().splitlines()[:2]]
LONG_NUMBER = re.compile(r"\d{31,}")


def _run(*args):
    from click.testing import CliRunner

    with CliRunner().isolation() as (out, err, _):
        rc = main([str(a) for a in args])
    return rc, out.getvalue().decode(errors="replace"), err.getvalue().decode(errors="replace")


def _ok(args, folder):
    rc, out, err = _run(*args)
    _check(rc, err, folder)
    assert rc in (0, 1, 2), (rc, err)
    assert not LONG_NUMBER.search(out), out[:500]


@fuzz_sizes(30, fast=1)  # each valid example is a calibration (about 3 s): one in the inner loop
def test_fuzz_dataset_files(examples):
    @fuzz_settings(examples)
    @given(mutated(DATASET))
    def check(doc):
        with tempfile.TemporaryDirectory() as d:
            f = Path(d) / "data.json"
            f.write_text(json.dumps(doc))
            _ok(["validate", "--bench", f], Path(d))
            _ok(["calibrate", "--bench", f, "--gpu", "h100-sxm-80gb", "--out", Path(d) / "out.json"], Path(d))

    check()


@fuzz_sizes(30, fast=1)  # each example is a calibration: one in the inner loop
def test_fuzz_vllm_results_and_appended_lines(examples):
    @fuzz_settings(examples)
    @given(mutated(VLLM), st.integers(1, 3))
    def check(doc, lines):
        with tempfile.TemporaryDirectory() as d:
            f = Path(d) / "result.json"
            f.write_text(json.dumps(doc) if lines == 1 else "\n".join([json.dumps(VLLM)] + [json.dumps(doc)] * (lines - 1)))
            _ok(["validate", "--bench", f, "--gpu", "h200", "--tp", "4"], Path(d))
            _ok(["calibrate", "--bench", f, "--gpu", "h200", "--tp", "4", "--out", Path(d) / "out.json"], Path(d))

    check()


@FUZZ
@given(mutated(SGLANG_LINES))
def test_fuzz_sglang_jsonl(lines):
    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / "bench.jsonl"
        rows = lines if isinstance(lines, list) else [lines]
        f.write_text("\n".join(json.dumps(x) for x in rows))
        _ok(["validate", "--bench", f, "--gpu", "mi300x", "--tp", "8", "--model", "deepseek-r1"], Path(d))


def _kernel_profile():
    from moeprof.profile import shipped_profiles

    d = shipped_profiles()["h100-sxm-80gb.published"].to_json()
    d["rows"] = d["rows"][:4]
    d["kernel_tables"] = {
        "gemm_bf16": {"op": "gemm", "key": {"dtype": "bf16"}, "axes": {"m": [1, 64, 4096], "n": [1024, 8192], "k": [1024, 8192]},
                      "ms": [0.01, 0.05, 0.05, 0.3, 0.02, 0.08, 0.08, 0.5, 0.5, 3.0, 3.0, 20.0], "extensive": ["m", "n", "k"]},
        "allreduce_bf16": {"op": "allreduce", "key": {"dtype": "bf16"}, "axes": {"message_bytes": [1024, 1048576], "gpus": [2, 8]},
                           "ms": [0.01, 0.02, 0.05, 0.1], "extensive": ["message_bytes"], "linear": ["gpus"],
                           "meta": {"source_table": "test"}},
    }
    return d


@FUZZ
@given(mutated(_kernel_profile()))
def test_fuzz_kernel_table_profiles(doc):
    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / "p.json"
        f.write_text(json.dumps(doc))
        _ok(["validate", "--profile", f], Path(d))
        _ok(["estimate", "--model", "scout", "--gpu", "h100", "--profile", f], Path(d))
        _ok(["evaluate", "--model", "scout", "--gpu", "h100", "--gpus", "4", "--tp", "4", "--concurrency", "4",
             "--input-tokens", "512", "--output-tokens", "64", "--profile", f], Path(d))


CELL = st.one_of(st.sampled_from(["1", "0", "1.5", "1e3", "1_5", "nan", "inf", "-1", "+1", "0x10", "١", " 2 ", "", "1e999",
                                  "hour", "qps", "#x", "1,2"]), st.text(max_size=6))


@FUZZ
@given(st.lists(st.tuples(CELL, CELL), max_size=30), st.booleans())
def test_fuzz_traffic_csv(rows, header):
    from moeprof.errors import MoeprofError
    from moeprof.planner.document.traffic_file import read_traffic

    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / "t.csv"
        f.write_text(("hour,qps\n" if header else "") + "\n".join(f"{a},{b}" for a, b in rows))
        try:
            t = read_traffic(f)
        except MoeprofError as e:
            assert "\n" not in str(e)
            return
        assert all(0 <= q <= 1e6 for q in t.qps_per_hour) and t.hours % 24 == 0
        # a number was read only from plain decimal text
        for _, b in rows:
            assert "_" not in b.strip() or not b.strip().replace("_", "").isdigit()


@FUZZ
@given(mutated({"qps_per_hour": [1.0] * 24, "source": "test"}) | JSON)
def test_fuzz_traffic_json(doc):
    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / "t.json"
        f.write_text(json.dumps(doc))
        _ok(["plan", "--model", "scout", "--sku", "nd-h200-v5", "--max-vms", "1", "--quant", "fp8", "--kv-dtype", "fp8",
             "--traffic", f, "--json"], Path(d))
