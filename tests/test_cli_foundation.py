"""The CLI as a user runs it: exit codes, one-line errors, JSON keys."""

import json
import subprocess
import sys

import pytest

MEMORY_KEYS = {
    "model", "sku", "gpus", "tp", "ep", "pp", "quant", "kv_dtype", "weights_bytes_per_gpu",
    "kv_bytes_per_token_per_gpu", "overhead_bytes_per_gpu", "kv_capacity_tokens", "max_context_tokens",
    "model_max_context_tokens", "fits", "reason",
}


def one_line_error(p, rc):
    assert p.returncode == rc, (p.returncode, p.stdout, p.stderr)
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, p.stderr
    assert "Traceback" not in p.stderr
    return lines[0]


def test_memory_json_keys(cli):
    p = cli("memory", "--model", "scout", "--sku", "nd-h100-v5", "--json", check_rc=0)
    d = json.loads(p.stdout)
    assert MEMORY_KEYS <= set(d)
    assert d["tp"] == 8 and d["gpus"] == 8 and d["fits"] is True


def test_memory_text(cli):
    p = cli("memory", "--model", "maverick", "--sku", "nd-h100-v5", "--quant", "bf16", check_rc=1)
    assert "DOES NOT FIT" in p.stdout and "GiB" in p.stdout


def test_models_and_hardware(cli):
    d = json.loads(cli("models", "--json", check_rc=0).stdout)
    assert {r["name"] for r in d} >= {"scout", "maverick", "maverick-fp8", "behemoth"}
    s = json.loads(cli("models", "show", "scout", "--json", check_rc=0).stdout)
    assert s["num_experts"] == 16 and s["layer_kinds"]
    h = json.loads(cli("hardware", "--json", check_rc=0).stdout)
    assert h["vms"]["nd-h100-v5"]["price"]["usd_per_hour"] == 98.32
    h200 = h["vms"]["nd-h200-v5"]["price"]
    assert (h200["usd_per_hour"], h200["region"], h200["estimate"]) == (84.80, "eastus2", False)
    assert all(h["gpus"][g]["sources"]["hbm_bytes_per_s"] for g in h["gpus"])


@pytest.mark.parametrize(
    "args,rc,needle",
    [
        (["memory", "--model", "mavrick", "--sku", "nd-h100-v5"], 1, "did you mean maverick"),
        (["memory", "--model", "scout", "--sku", "nd-a100"], 1, "unknown VM SKU"),
        (["memory", "--model", "scout", "--sku", "nd-h100-v5", "--vms", "0"], 1, "--vms"),
        (["memory", "--model", "scout", "--sku", "nd-h100-v5", "--vms", "-3"], 1, "--vms"),
        (["memory", "--model", "scout", "--sku", "nd-h100-v5", "--vms", "100000"], 1, "out of range"),
        (["memory", "--model", "scout", "--sku", "nd-h100-v5", "--tp", "3"], 1, "heads"),
        (["memory", "--model", "scout", "--sku", "nd-h100-v5", "--quant", "fp4"], 1, "quantization recipe"),
        (["memory", "--model", "scout", "--sku", "nd-h100-v5", "--gpu-memory-utilization", "1.5"], 1, "out of range"),
        (["memory", "--model", "scout"], 2, "--sku"),
        (["memory", "--bogus"], 2, "--bogus"),
        (["frobnicate"], 2, "frobnicate"),
    ],
)
def test_errors_are_one_line(cli, args, rc, needle):
    line = one_line_error(cli(*args), rc)
    assert needle in line


def test_malformed_config_error_names_field(cli, tmp_path):
    p = tmp_path / "config.json"
    p.write_text('{"model_type": "mixtral", "hidden_size": 4096}')
    line = one_line_error(cli("models", "show", str(p)), 1)
    assert "num_hidden_layers" in line and str(p) in line


def test_help(cli):
    for cmd in (["-h"], ["memory", "-h"], ["models", "-h"], ["hardware", "-h"], ["plan", "-h"]):
        p = cli(*cmd, check_rc=0)
        assert "Usage" in p.stdout


@pytest.mark.slow
def test_planning_path_never_imports_torch():
    code = (
        "import sys; from moeprof.cli import main; "
        "rc = main(['plan', '--model', 'maverick', '--json']); "
        "print('torch' in sys.modules, rc)"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert p.stdout.strip().splitlines()[-1] in ("False 0", "False 1"), p.stdout[-500:] + p.stderr[-500:]
