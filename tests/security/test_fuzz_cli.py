"""Property: whatever JSON file or flag value a command gets, it ends with exit 0, 1, 2 or
130, at most one line on stderr, no traceback or internal error, and no half-written file.

Documents are real ones (model configs, a VM file, a profile, a plan) with one field replaced
by a random JSON value, or random JSON outright; each command runs in process."""

import json
import os
import tempfile
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from moeprof.cli import main

from .conftest import fuzz_settings, fuzz_sizes

DATA = Path(__file__).parent.parent / "data"
# MOEPROF_FUZZ_EXAMPLES=500 explores further (random seeds); the default keeps the inner loop fast.
EXAMPLES = int(os.environ.get("MOEPROF_FUZZ_EXAMPLES", "0")) or None
FUZZ = settings(max_examples=EXAMPLES or 50, deadline=None, derandomize=EXAMPLES is None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

SCALARS = (st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.sampled_from([0, -1, 10**9, 10**18])
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12)
           | st.sampled_from(["", "\u0085x: 1", "a\nb", "=1+2", "-2+3", "nd-h200-v5", "h100-sxm-80gb", "bf16"]))
JSON = st.recursive(SCALARS, lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
                    max_leaves=12)


def _paths(doc, prefix=()):
    """Every (path) to a value in a JSON document."""
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
    except (KeyError, IndexError, TypeError):  # the first mutation removed this path
        pass
    return doc


def mutated(base):
    paths = list(_paths(base))
    return st.one_of(
        JSON,
        st.tuples(st.sampled_from(paths), JSON).map(lambda pv: _mutate(base, *pv)),
        st.tuples(st.sampled_from(paths), st.sampled_from(paths), JSON).map(
            lambda ppv: _mutate(_mutate(base, ppv[0], ppv[2]), ppv[1], ppv[2])),
    )


def _run(*args):
    from click.testing import CliRunner

    with CliRunner().isolation() as (out, err, _):
        rc = main([str(a) for a in args])
    return rc, err.getvalue().decode(errors="replace")


def _check(rc, err, folder: Path | None = None):
    assert rc in (0, 1, 2, 130), (rc, err)
    assert err.count("\n") <= 1 and "Traceback" not in err and "internal error" not in err, err
    if folder is not None:
        assert not [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


def _write(folder: Path, name: str, doc) -> Path:
    p = folder / name
    p.write_text(json.dumps(doc))
    return p


def _builtin(name):
    return json.loads((resources.files("moeprof") / "data" / "models" / f"{name}.json").read_text())


CONFIGS = [json.loads((DATA / "mixtral-8x7b.json").read_text()), json.loads((DATA / "deepseek-v3.json").read_text()),
           json.loads((DATA / "qwen3-30b-a3b.json").read_text()), _builtin("scout")]


@fuzz_sizes(50, fast=8)
def test_fuzz_model_configs(examples):
    @fuzz_settings(examples)
    @given(st.sampled_from(range(len(CONFIGS))).flatmap(lambda i: mutated(CONFIGS[i])))
    def check(doc):
        with tempfile.TemporaryDirectory() as d:
            f = _write(Path(d), "config.json", doc)
            for args in (("models", "show", f), ("memory", "--model", f, "--sku", "nd-h200-v5"),
                         ("estimate", "--model", f, "--gpu", "h200")):
                _check(*_run(*args))

    check()


VM_FILE = {
    "gpus": {"my-gpu": json.loads((resources.files("moeprof") / "data" / "gpus.json").read_text())["h100-sxm-80gb"]},
    "vms": {"MyVM": {"azure_name": "Standard_My", "gpu": "my-gpu", "gpus_per_vm": 8, "vcpus": 96, "ram_bytes": 1.9e12,
                     "scale_out_bytes_per_s_per_gpu": 5e10, "price": {"usd_per_hour": 50.0, "estimate": True},
                     "allreduce_bus_bytes_per_s": {"x": [1024, 1048576], "y": [1e9, 1e11], "source": "test"}}},
}


@FUZZ
@given(mutated(VM_FILE))
def test_fuzz_vm_files(doc):
    with tempfile.TemporaryDirectory() as d:
        f = _write(Path(d), "vms.json", doc)
        _check(*_run("hardware", "--vm-file", f))
        _check(*_run("memory", "--model", "scout", "--sku", "myvm", "--vm-file", f))


def _profile():
    from moeprof.profile import shipped_profiles

    d = shipped_profiles()["h100-sxm-80gb.published"].to_json()
    d["rows"] = d["rows"][:6]
    return d


@FUZZ
@given(mutated(_profile()))
def test_fuzz_profiles(doc):
    with tempfile.TemporaryDirectory() as d:
        f = _write(Path(d), "p.json", doc)
        _check(*_run("validate", "--profile", f))
        _check(*_run("estimate", "--model", "scout", "--gpu", "h100", "--profile", f))


@pytest.fixture(scope="module")
def plan_doc(small_plan):
    """The session's scout plan on one H200 VM (moeprof plan --json), its lists cut to three rows."""
    doc = json.loads(json.dumps(small_plan))
    doc["feasible"], doc["rejected"] = doc["feasible"][:3], doc["rejected"][:3]
    return doc


@settings(max_examples=EXAMPLES or 30, deadline=None, derandomize=EXAMPLES is None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzz_plans_for_export(plan_doc, data):
    doc = data.draw(mutated(plan_doc))
    fmt = data.draw(st.sampled_from(["vllm", "sglang", "azureml"]))
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        f = _write(folder, "plan.json", doc)
        out = folder / "out.sh"
        rc, err = _run("export", f, "--format", fmt, "-o", out)
        _check(rc, err, folder)
        assert (rc == 0) == out.exists(), (rc, err)


FLAG_VALUES = st.one_of(st.text(max_size=10), st.integers(-(10**30), 10**30).map(str),
                        st.sampled_from(["0", "-1", "1e308", "nan", "inf", "4096", "10**9", ",,,", "\n", "1_000", "0x10"]))


@FUZZ
@given(st.sampled_from([
    ("memory", "--model", "scout", "--sku", "nd-h200-v5", "--vms"), ("memory", "--model", "scout", "--sku", "nd-h200-v5", "--tp"),
    ("memory", "--model", "scout", "--sku", "nd-h200-v5", "--context"), ("memory", "--model", "scout", "--sku"),
    ("memory", "--sku", "nd-h200-v5", "--model"), ("estimate", "--model", "scout", "--gpu", "h200", "--batch"),
    ("estimate", "--model", "scout", "--gpu", "h200", "--context"), ("estimate", "--model", "scout", "--gpu"),
    ("estimate", "--model", "scout", "--gpu", "h200", "--routing-skew"), ("plan", "--model", "scout", "--max-vms"),
    ("plan", "--model", "scout", "--price-per-hour"), ("plan", "--model", "scout", "--percentile"),
    ("plan", "--model", "scout", "--kv-dtype"), ("probe", "--only"), ("probe", "--scale"),
    ("telemetry", "--count"), ("validate", "--profile"), ("export", "--format", "vllm"),
]), FLAG_VALUES)
def test_fuzz_flag_values(prefix, value):
    args = [*prefix, value]
    if prefix[0] == "plan":  # keep the search small when the value is valid
        args += ["--sku", "nd-h200-v5", "--quant", "fp8", "--kv-dtype", "fp8"] if "--kv-dtype" not in prefix else ["--sku", "nd-h200-v5", "--quant", "fp8"]
    if prefix[0] == "probe":
        args += ["--model", "no-such-model"]  # validated first: nothing is probed
    if prefix[0] == "telemetry":
        args += ["--json"]
    assume(not (prefix[0] == "plan" and value.strip() in ("1", "2", "3")))
    _check(*_run(*args))
