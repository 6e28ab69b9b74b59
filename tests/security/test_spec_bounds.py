"""Model, GPU, VM and search sizes are bounded by what hardware and models can be; an
impossible spec stops at load with one line naming the field and the reason."""

import json

import pytest


def write_json(path, obj):
    path.write_text(json.dumps(obj))
    return path


def _bad(r, *words):
    assert r.rc == 1 and r.one_line and "internal error" not in r.err, r
    for w in words:
        assert w in r.err, r


@pytest.mark.parametrize("over, words", [
    ({"num_experts_per_tok": 16}, ["num_experts_per_tok", "top-k 16 of 8 experts"]),
    ({"num_key_value_heads": 3}, ["num_key_value_heads", "do not divide"]),
    ({"num_key_value_heads": 64}, ["num_key_value_heads", "at most one KV head"]),
    ({"num_attention_heads": 1024, "num_key_value_heads": 8, "hidden_size": 512, "head_dim": 128}, ["num_attention_heads", "hidden size"]),
    ({"hidden_size": 10**20}, ["hidden_size", "65,536"]),
    ({"num_hidden_layers": 10**9}, ["num_hidden_layers", "1,024"]),
    ({"num_local_experts": 10**6}, ["num_local_experts", "4,096"]),
])
def test_impossible_model_configs(run, tmp_path, mixtral_cfg, over, words):
    p = write_json(tmp_path / "c.json", {**mixtral_cfg, **over})
    _bad(run("models", "show", p), *words)


def test_hidden_size_10_to_the_30_is_refused_at_parse(run, tmp_path, mixtral_cfg):
    p = tmp_path / "c.json"
    p.write_text(json.dumps(mixtral_cfg).replace('"hidden_size": 4096', '"hidden_size": 1' + "0" * 30))
    _bad(run("models", "show", p), "digits")


def test_layers_1e9_in_a_llama4_config_never_loops(run, tmp_path):
    from moeprof.catalog.models import builtin_model_files

    cfg = json.loads(builtin_model_files()["scout"].read_text())
    cfg["text_config"]["num_hidden_layers"] = 10**9
    cfg["text_config"].pop("no_rope_layers", None)
    p = write_json(tmp_path / "c.json", cfg)
    _bad(run("models", "show", p), "text_config.num_hidden_layers", "1,024")


def _vm_file(tmp_path, **over):
    e = {
        "azure_name": "Standard_My_VM", "gpu": "h100-sxm-80gb", "gpus_per_vm": 8, "vcpus": 96,
        "ram_bytes": 1.9e12, "scale_out_bytes_per_s_per_gpu": 5e10, "price": {"usd_per_hour": 50.0, "estimate": True},
    }
    e.update(over)
    return write_json(tmp_path / "vms.json", {"vms": {"MyVM": e}})


def test_gpus_per_vm_1e9(run, tmp_path):
    _bad(run("hardware", "--vm-file", _vm_file(tmp_path, gpus_per_vm=10**9)), "gpus_per_vm", "8 GPUs")


def test_gpu_of_1e_minus_300_flops(run, tmp_path):
    from importlib import resources

    gpus = json.loads((resources.files("moeprof") / "data" / "gpus.json").read_text())
    g = dict(gpus["h100-sxm-80gb"])
    g["bf16_flop_per_s"] = {"value": 1e-300, "source": "typo"}
    p = write_json(tmp_path / "vms.json", {"gpus": {"tiny-gpu": g}, "vms": {"tiny-vm": {
        "azure_name": "Standard_Tiny", "gpu": "tiny-gpu", "gpus_per_vm": 8, "vcpus": 96, "ram_bytes": 1.9e12,
        "scale_out_bytes_per_s_per_gpu": 5e10, "price": {"usd_per_hour": 50.0, "estimate": True}}}})
    r = run("plan", "--model", "scout", "--vm-file", p, "--sku", "tiny-vm", "--max-vms", "1")
    _bad(r, "bf16_flop_per_s", "TFLOP/s")


def test_max_vms_4096_is_refused(run):
    _bad(run("plan", "--model", "scout", "--max-vms", "4096"), "--max-vms", "64")


@pytest.mark.slow  # a full plan of its own
def test_price_per_hour_applies_to_a_vm_file_sku_whatever_its_case(run, tmp_path):
    p = _vm_file(tmp_path)
    r = run("plan", "--model", "scout", "--vm-file", p, "--price-per-hour", "MyVM=5", "--sku", "MyVM", "--max-vms", "1", "--json")
    assert r.rc in (0, 1) and "unknown VM SKU" not in r.err, r
    doc = json.loads(r.out)
    assert "user-supplied" in doc["sources"]["myvm"]["price"], doc["sources"]["myvm"]


@pytest.mark.slow  # a full plan of its own
def test_report_accepts_a_plan_moeprof_wrote_at_the_highest_price(run, tmp_path):
    r = run("plan", "--model", "scout", "--sku", "nd-h200-v5", "--max-vms", "1", "--price-per-hour", "nd-h200-v5=1e6", "--json")
    assert r.rc in (0, 1) and r.out, r
    plan = tmp_path / "plan.json"
    plan.write_text(r.out)
    rr = run("report", plan, "-o", tmp_path / "r.html")
    assert rr.rc == 0, rr


def test_price_above_the_bound_is_refused_at_load(run):
    _bad(run("plan", "--model", "scout", "--price-per-hour", "nd-h200-v5=1e308"), "--price-per-hour")
