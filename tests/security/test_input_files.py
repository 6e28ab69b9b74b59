"""Every file moeprof reads goes through one validation layer: regular files only, bounded
size, strict UTF-8, bounded JSON depth and integer digits, types and bounds per field. Each bad
file is one line on stderr and exit 1, never a traceback or an internal error."""

import json
import os
import threading

import pytest


def write_json(path, obj):
    path.write_text(json.dumps(obj))
    return path


def _bad(r, *words):
    assert r.rc == 1 and r.one_line, r
    assert "internal error" not in r.err, r
    for w in words:
        assert w in r.err, r


# ---- model config.json --------------------------------------------------------------------
def test_moeprof_block_as_a_list(run, tmp_path, mixtral_cfg):
    p = write_json(tmp_path / "c.json", {**mixtral_cfg, "_moeprof": ["maverick"]})
    _bad(run("models", "show", p), "_moeprof", "expected a JSON object")


def test_a_5000_digit_integer(run, tmp_path, mixtral_cfg):
    text = json.dumps(mixtral_cfg).replace('"hidden_size": 4096', '"hidden_size": ' + "9" * 5000)
    p = tmp_path / "c.json"
    p.write_text(text)
    _bad(run("models", "show", p), "5,000 digits")


def test_200000_deep_nesting(run, tmp_path):
    p = tmp_path / "c.json"
    p.write_text('{"a":' + "[" * 200_000 + "]" * 200_000 + "}")
    _bad(run("models", "show", p), "nested more than")


def test_non_utf8_bytes(run, tmp_path, mixtral_cfg):
    p = tmp_path / "c.json"
    p.write_bytes(json.dumps({**mixtral_cfg, "_moeprof": {"name": "x"}}).encode().replace(b'"x"', b'"\xff\xfe"'))
    _bad(run("models", "show", p), "not UTF-8")


def test_a_5000_character_name(run, tmp_path, mixtral_cfg):
    p = write_json(tmp_path / "c.json", {**mixtral_cfg, "_moeprof": {"name": "m" * 5000}})
    _bad(run("models", "show", p), "5,000 characters")


def test_dev_zero_as_model_is_refused_without_reading(run):
    _bad(run("models", "show", "/dev/zero"), "not a regular file")


def test_a_fifo_as_model_never_blocks(run, tmp_path):
    fifo = tmp_path / "config.json"
    os.mkfifo(fifo)
    box = {}
    t = threading.Thread(target=lambda: box.setdefault("r", run("models", "show", fifo)), daemon=True)
    t.start()
    t.join(20)
    if t.is_alive():  # unblock the reader so the test process can end
        with open(fifo, "w") as f:
            f.write("{}")
        t.join(5)
        pytest.fail("reading a FIFO blocked")
    _bad(box["r"], "not a regular file")


def test_a_plan_whose_inputs_model_is_dev_zero(run, tmp_path, small_plan):
    p = write_json(tmp_path / "plan.json", {**small_plan, "inputs": {**small_plan["inputs"], "model": "/dev/zero"}})
    r = run("export", p, "--format", "vllm")
    assert r.rc in (0, 1) and r.one_line and "internal error" not in r.err, r


# ---- VM files -----------------------------------------------------------------------------
def _vm(**over):
    e = {
        "azure_name": "Standard_My_VM", "gpu": "h100-sxm-80gb", "gpus_per_vm": 8, "vcpus": 96,
        "ram_bytes": 1.9e12, "scale_out_bytes_per_s_per_gpu": 5e10,
        "price": {"usd_per_hour": 50.0, "estimate": True},
    }
    e.update(over)
    return {"vms": {"MyVM": e}}


@pytest.mark.parametrize("curve, words", [
    ("fast", ["allreduce_bus_bytes_per_s", "expected a JSON object"]),
    ({"x": [1024, 2048], "y": [1e9, 0]}, ["allreduce_bus_bytes_per_s.y[1]", "out of range"]),
    ({"x": [1024, 2048], "y": [1e9, -5]}, ["allreduce_bus_bytes_per_s.y[1]"]),
])
def test_vm_file_allreduce_curve(run, tmp_path, curve, words):
    p = write_json(tmp_path / "vms.json", _vm(allreduce_bus_bytes_per_s=curve))
    _bad(run("hardware", "--vm-file", p), *words)


def test_vm_file_price_1e308(run, tmp_path):
    p = write_json(tmp_path / "vms.json", _vm(price={"usd_per_hour": 1e308, "estimate": True}))
    _bad(run("hardware", "--vm-file", p), "usd_per_hour", "million dollars")


def test_vm_file_5000_digit_price(run, tmp_path):
    p = tmp_path / "vms.json"
    p.write_text(json.dumps(_vm()).replace("50.0", "5" * 5000))
    _bad(run("hardware", "--vm-file", p), "digits")


def test_vm_file_non_utf8(run, tmp_path):
    p = tmp_path / "vms.json"
    p.write_bytes(json.dumps(_vm()).encode().replace(b"Standard_My_VM", b"Standard_\xff"))
    _bad(run("hardware", "--vm-file", p), "not UTF-8")


# ---- profiles -----------------------------------------------------------------------------
def _profile_with_row(row):
    from moeprof.profile import shipped_profiles

    d = shipped_profiles()["h100-sxm-80gb.published"].to_json()
    d["rows"] = [row]
    return d


def test_profile_row_ms_as_text(run, tmp_path):
    p = write_json(tmp_path / "p.json", _profile_with_row({"probe": "gemm", "dtype": "bf16", "m_tokens": 64, "k": 4096, "n": 4096, "ms": "fast"}))
    _bad(run("validate", "--profile", p), "rows[0].ms")


def test_profile_row_k_10_to_the_400(run, tmp_path):
    p = tmp_path / "p.json"
    p.write_text(
        json.dumps(_profile_with_row({"probe": "gemm", "dtype": "bf16", "m_tokens": 64, "k": 1, "n": 4096, "ms": 1.0})).replace(
            '"k": 1,', '"k": 1' + "0" * 400 + ","
        )
    )
    _bad(run("validate", "--profile", p), "digits")


# ---- plans fed to report / export ---------------------------------------------------------
def _plan_file(tmp_path, small_plan, edit):
    doc = json.loads(json.dumps(small_plan))
    edit(doc)
    return write_json(tmp_path / "plan.json", doc)


def test_report_plan_max_batch_10_to_the_400(run, tmp_path, small_plan):
    p = tmp_path / "plan.json"
    doc = json.loads(json.dumps(small_plan))
    doc["recommended"]["max_batch"] = 7777
    p.write_text(json.dumps(doc).replace('"max_batch": 7777', '"max_batch": 1' + "0" * 400))
    _bad(run("report", p, "-o", tmp_path / "r.html"), "digits")


def test_report_plan_configs_evaluated_as_text(run, tmp_path, small_plan):
    p = _plan_file(tmp_path, small_plan, lambda d: d.update(configs_evaluated="many"))
    _bad(run("report", p, "-o", tmp_path / "r.html"), "configs_evaluated")


def test_report_plan_price_source_as_a_number(run, tmp_path, small_plan):
    def edit(d):
        d["sources"]["nd-h200-v5"]["price"] = 98.32

    p = _plan_file(tmp_path, small_plan, edit)
    _bad(run("report", p, "-o", tmp_path / "r.html"), "sources.nd-h200-v5.price")


def test_export_plan_replicas_1e9(run, tmp_path, small_plan):
    p = _plan_file(tmp_path, small_plan, lambda d: d["recommended"].update(replicas=10**9))
    _bad(run("export", p, "--format", "vllm"), "recommended.replicas")


def test_export_plan_tp_1e18_on_8_gpus(run, tmp_path, small_plan):
    p = _plan_file(tmp_path, small_plan, lambda d: d["recommended"].update(tp=10**18))
    _bad(run("export", p, "--format", "vllm"), "recommended.tp", "at most the plan's")


def test_export_plan_max_batch_beyond_bound(run, tmp_path, small_plan):
    p = _plan_file(tmp_path, small_plan, lambda d: d["recommended"].update(max_batch=10**12))
    _bad(run("export", p, "--format", "sglang"), "recommended.max_batch")
