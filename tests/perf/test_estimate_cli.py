"""`moeprof estimate` as a user runs it: JSON keys, text, one-line errors and exit codes."""

import json

import pytest

from moeprof.cli import main
from moeprof.perf import predict_row

OPS_MOE = {"qkv_proj", "attention", "o_proj", "moe", "norms", "collectives"}
OPS_DENSE = {"qkv_proj", "attention", "o_proj", "dense_mlp", "norms", "collectives"}


def run(capsys, *args):
    rc = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return rc, out, err


def one_line_error(capsys, *args, rc=1):
    code, out, err = run(capsys, *args)
    assert code == rc, (code, out, err)
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_estimate_json_keys_and_sums(capsys):
    rc, out, _ = run(capsys, "estimate", "--model", "maverick", "--gpu", "h100", "--quant", "bf16",
                     "--phase", "decode", "--batch", "64", "--context", "8192", "--profile", "datasheet", "--json")
    assert rc == 0
    d = json.loads(out)
    assert {"layers", "step_ms", "flops", "weight_bytes", "kv_bytes", "calibration", "head", "tokens_per_s"} <= set(d)
    kinds = {(layer["attention"], layer["ffn"]): layer for layer in d["layers"]}
    assert set(kinds) == {("global", "moe"), ("chunked", "moe"), ("chunked", "dense")}
    assert sum(layer["count"] for layer in d["layers"]) == 48
    assert set(kinds[("global", "moe")]["ops"]) == OPS_MOE
    assert set(kinds[("chunked", "dense")]["ops"]) == OPS_DENSE
    for layer in d["layers"]:
        assert layer["ms"] == pytest.approx(sum(layer["ops"].values()))
    total = sum(layer["count"] * layer["ms"] for layer in d["layers"]) + d["head"]["ms"]
    assert d["step_ms"] == pytest.approx(total)
    assert d["calibration"]["calibrated"] is False
    assert d["calibration"]["status"].startswith("uncalibrated")
    assert kinds[("global", "moe")]["moe_detail"]["experts_touched"] == pytest.approx(128 * (1 - (127 / 128) ** 64))


def test_estimate_text_and_prefill(capsys):
    rc, out, _ = run(capsys, "estimate", "--model", "scout", "--gpu", "h200", "--phase", "prefill", "--batch", "2",
                     "--context", "4096", "--quant", "int4-experts", "--kv-dtype", "fp8", "--profile", "datasheet")
    assert rc == 0
    assert "global-moe" in out and "chunked-moe" in out and "step" in out and "uncalibrated" in out


def test_estimate_with_a_profile_file(capsys, tmp_path):
    prof = {
        "schema": "moeprof.profile", "schema_version": 1, "gpu": "h100-sxm-80gb", "source": "measured",
        "provenance": {"date": "2026-11-27"},
        "curves": {"gemm_bf16": {"x": [1, 4096], "y": [3e12, 700e12]}, "memory_copy": {"x": [1e3, 1e9], "y": [1e11, 2.9e12]}},
        "scalars": {"kernel_overhead_s": 3e-6}, "rows": [],
    }
    p = tmp_path / "h100.json"
    p.write_text(json.dumps(prof))
    rc, out, _ = run(capsys, "estimate", "--model", "scout", "--gpu", "h100", "--profile", p, "--json")
    assert rc == 0
    cal = json.loads(out)["calibration"]
    assert cal["profile_source"] == "measured" and cal["calibrated"] is False  # attention curves missing
    assert "curve gemm_bf16" in cal["rates"]["gemm_bf16"] and "datasheet" in cal["rates"]["attention_prefill"]
    line = one_line_error(capsys, "estimate", "--model", "scout", "--gpu", "mi300x", "--profile", p)
    assert "h100-sxm-80gb" in line


@pytest.mark.parametrize(
    "args",
    [
        ("--batch", "0"),
        ("--context", "-5"),
        ("--routing-skew", "-1"),
        ("--routing-skew", "nan"),
        ("--gpu", "h900"),
        ("--model", "nope"),
        ("--quant", "int3"),
        ("--profile", "/no/such/profile.json"),
        ("--phase", "train"),
    ],
)
def test_estimate_bad_values_exit_1_with_one_line(capsys, args):
    base = {"--model": "scout", "--gpu": "h100"}
    argv = ["estimate"]
    for k, v in base.items():
        if k not in args:
            argv += [k, v]
    line = one_line_error(capsys, *argv, *args, rc=1)
    assert line.startswith("moeprof: ")


def test_estimate_usage_errors_exit_2(capsys):
    one_line_error(capsys, "estimate", "--gpu", "h100", rc=2)
    one_line_error(capsys, "estimate", "--model", "scout", "--gpu", "h100", "--bogus", rc=2)


def test_estimate_help(capsys):
    rc, out, _ = run(capsys, "estimate", "-h")
    assert rc == 0 and "--routing-skew" in out and "--profile" in out


def test_predict_row(h100):
    from moeprof.perf.efficiency import load_efficiencies

    eff = load_efficiencies(h100.key)
    hbm, kernel_s = h100.hbm_bytes_per_s * eff.memory_efficiency, eff.kernel_overhead_s  # the uncalibrated fallback
    gemm = {"probe": "gemm", "m_tokens": 1, "k": 5120, "n": 7168, "dtype": "bf16", "ms": 0.03}
    ms = predict_row(gemm, h100, None)
    assert ms == pytest.approx(((5120 * 7168 * 2 + (5120 + 7168) * 2) / hbm + kernel_s) * 1e3, rel=1e-9)
    assert predict_row({"probe": "copy", "bytes": 1e9, "ms": 1}, h100, None) == pytest.approx(1e9 / hbm * 1e3 + kernel_s * 1e3)
    dec = {"probe": "attention_decode", "batch": 8, "kv_len": 4096, "num_heads": 40, "num_kv_heads": 8, "head_dim": 128}
    assert predict_row(dec, h100, None) > 0
    pre = {"probe": "attention_prefill", "seq_tokens": 4096, "num_heads": 40, "head_dim": 128}
    assert predict_row(pre, h100, None) > 0
    moe = {"probe": "moe_layer", "t_tokens": 64, "hidden": 5120, "expert_intermediate": 8192, "shared_intermediate": 8192,
           "num_experts": 16, "top_k": 1, "dtype": "bf16", "impl": "grouped"}
    assert predict_row(moe, h100, None) > predict_row({**moe, "experts_touched": 2}, h100, None)
    # 2 touched experts: router + 2 experts + shared expert weights at HBM rate, 16 probe kernels;
    # the 64 tokens' activations (about 13 MB) add about 2 %
    two = ((5120 * 16 + 3 * 3 * 5120 * 8192) * 2) / hbm + 16 * kernel_s
    assert predict_row({**moe, "experts_touched": 2}, h100, None) == pytest.approx(two * 1e3, rel=0.03)
    ar = {"probe": "allreduce", "message_bytes": 1 << 20, "world_size": 8, "nodes": 1}
    # no profile curve: the VM's published curve, whose 1 MiB point is 43.7 GB/s busBW
    assert predict_row(ar, h100, None) == pytest.approx((1 << 20) * 1.75 / 43.7e9 * 1e3)
    assert predict_row({**ar, "error": "oom"}, h100, None) is None
    assert predict_row({"probe": "kv_cache"}, h100, None) is None
    assert predict_row({"probe": "gemm", "m_tokens": 1, "k": 5120}, h100, None) is None
    assert predict_row({"probe": "gemm", "m_tokens": 1, "k": 5120, "n": 8, "dtype": "int3"}, h100, None) is None
