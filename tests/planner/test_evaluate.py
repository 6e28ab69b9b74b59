"""`moeprof evaluate`: one fixed deployment under the engine's scheduler, in process."""

import csv
import io
import json

import pytest

METRICS = {
    "request_throughput", "output_throughput", "total_token_throughput", "output_throughput_per_gpu",
    "total_token_throughput_per_gpu", "tokens_per_s_per_user", "mean_ttft_ms", "median_ttft_ms", "p99_ttft_ms",
    "mean_tpot_ms", "median_tpot_ms", "p99_tpot_ms", "mean_itl_ms", "median_itl_ms", "p99_itl_ms", "mean_e2el_ms",
    "median_e2el_ms", "p99_e2el_ms", "running_batch", "kv_use_fraction", "attention_ms", "moe_ms", "dense_ms",
    "collectives_ms", "host_ms", "step_time_scale",
}
SWEEP = "concurrency=1,4,16,64,256"


@pytest.mark.parametrize("model,sku,quant", [
    ("scout", "nd-h100-v5", "bf16"), ("maverick", "nd-h100-v5", "fp8-experts"), ("scout", "nd-h200-v5", "bf16"),
    ("maverick", "nd-h200-v5", "fp8-experts"), ("scout", "nd-mi300x-v5", "bf16"), ("maverick", "nd-mi300x-v5", "bf16"),
])
def test_llama4_sweeps_on_the_three_skus(cli, model, sku, quant):
    p = cli("evaluate", "--model", model, "--sku", sku, "--tp", "8", "--ep", "8", "--quant", quant, "--sweep", SWEEP,
            "--input-tokens", "1024", "--output-tokens", "1024", "--json", check_rc=0)
    d = json.loads(p.stdout)
    rows = d["sweep"]
    assert [r["max_concurrency"] for r in rows] == [1, 4, 16, 64, 256]
    assert all(METRICS <= set(r) and r["stable"] for r in rows)
    tput = [r["output_throughput_per_gpu"] for r in rows]
    user = [r["tokens_per_s_per_user"] for r in rows]
    assert all(b > a for a, b in zip(tput, tput[1:]))  # more in flight, more throughput per GPU
    assert all(b < a for a, b in zip(user, user[1:]))  # and fewer tokens/s for each user
    for r in rows:
        # the metrics agree with each other: Little's law and the definitions
        assert r["tokens_per_s_per_user"] == pytest.approx(1000 / r["median_tpot_ms"])
        assert r["output_throughput"] == pytest.approx(r["request_throughput"] * 1024)
        assert r["output_throughput_per_gpu"] == pytest.approx(r["output_throughput"] / 8)
        in_flight = r["request_throughput"] * r["mean_e2el_ms"] / 1e3
        assert in_flight == pytest.approx(r["max_concurrency"], rel=0.02)
        assert r["running_batch"] <= r["max_concurrency"] + 1e-6


def test_gpu_without_a_vm_and_open_loop(cli):
    d = json.loads(cli("evaluate", "--model", "maverick", "--gpu", "mi325x", "--gpus", "8", "--tp", "8", "--qps", "2",
                       "--input-tokens", "2048", "--output-tokens", "256", "--json", check_rc=0).stdout)
    assert d["gpu"] == "mi325x-256gb" and d["sku"] is None and d["qps"] == 2
    assert d["request_throughput"] == pytest.approx(2.0)
    assert d["p99_ttft_ms"] >= d["median_ttft_ms"] > 0


def test_replicas_share_the_load(cli):
    one = json.loads(cli("evaluate", "--model", "scout", "--sku", "nd-h200-v5", "--tp", "4", "--concurrency", "8",
                         "--input-tokens", "1024", "--output-tokens", "512", "--json", check_rc=0).stdout)
    two = json.loads(cli("evaluate", "--model", "scout", "--sku", "nd-h200-v5", "--tp", "4", "--concurrency", "16",
                         "--input-tokens", "1024", "--output-tokens", "512", "--json", check_rc=0).stdout)
    assert one["replicas"] == two["replicas"] == 2
    assert two["request_throughput"] > one["request_throughput"]


def test_csv_and_text(cli):
    p = cli("evaluate", "--model", "scout", "--sku", "nd-h100-v5", "--tp", "8", "--sweep", "concurrency=1,8",
            "--input-tokens", "1024", "--output-tokens", "128", "--csv", check_rc=0)
    rows = list(csv.DictReader(io.StringIO(p.stdout)))
    assert len(rows) == 2 and "output_throughput_per_gpu" in rows[0]
    t = cli("evaluate", "--model", "scout", "--sku", "nd-h100-v5", "--tp", "8", "--concurrency", "8",
            "--input-tokens", "1024", "--output-tokens", "128", check_rc=0).stdout
    assert "tok/s/user" in t and "decode step at batch" in t and "host" in t


@pytest.mark.parametrize("args,needle,rc", [
    (["--sku", "nd-h100-v5", "--gpu", "h100"], "--sku", 2),
    (["--sku", "nd-h100-v5"], "exactly one of", 2),
    (["--sku", "nd-h100-v5", "--concurrency", "4", "--qps", "1"], "exactly one of", 2),
    (["--sku", "nd-h100-v5", "--sweep", "batch=1,2"], "--sweep", 1),
    (["--sku", "nd-zz-v9", "--concurrency", "4"], "unknown VM SKU", 1),
    (["--gpu", "h100", "--gpus", "12", "--concurrency", "4"], "multiple of 8", 1),
])
def test_errors_are_one_line(cli, args, needle, rc):
    p = cli("evaluate", "--model", "scout", "--tp", "8", "--input-tokens", "100", "--output-tokens", "10", *args)
    lines = [x for x in p.stderr.splitlines() if x.strip()]
    assert p.returncode == rc and len(lines) == 1 and needle in lines[0], p.stderr


def test_step_breakdown_shows_the_scale_and_the_engines_host_time(cli):
    args = ["evaluate", "--model", "deepseek-r1", "--gpu", "mi300x-192gb", "--gpus", "8", "--tp", "8", "--concurrency", "8",
            "--input-tokens", "1024", "--output-tokens", "256", "--json"]
    rows = {e: json.loads(cli(*args, "--engine", e, check_rc=0).stdout) for e in ("vllm", "sglang")}
    for _e, r in rows.items():
        parts = sum(r[k] for k in ("attention_ms", "moe_ms", "dense_ms", "collectives_ms", "head_ms"))
        # the decode step is the kernels x the GPU's step scale + the engine's host time (padding only adds)
        assert r["decode_step_ms"] >= parts * r["step_time_scale"] + r["host_ms"] - 1e-6
    assert rows["sglang"]["host_ms"] == 0.0 < rows["vllm"]["host_ms"]  # SGLang's overlap scheduler


def test_wide_ep_is_evaluated_as_its_attention_groups(cli):
    """ep=16 over two 8-GPU VMs: one replica of two attention groups, each scheduling half the
    clients; per-GPU figures over all 16 GPUs; Little's law over the whole deployment."""
    args = ("evaluate", "--model", "maverick", "--sku", "nd-h200-v5", "--tp", "8", "--quant", "fp8",
            "--concurrency", "64", "--input-tokens", "2048", "--output-tokens", "512", "--json")
    wide = json.loads(cli(*args, "--vms", "2", "--ep", "16", check_rc=0).stdout)
    two = json.loads(cli(*args, "--vms", "2", "--ep", "8", check_rc=0).stdout)
    assert wide["replicas"] == 1 and wide["attention_groups_per_replica"] == 2
    assert two["replicas"] == 2 and two["attention_groups_per_replica"] == 1
    assert wide["running_batch"] <= 32.0 + 1e-9  # half of the 64 clients per group
    assert wide["output_throughput_per_gpu"] == pytest.approx(wide["output_throughput"] / 16)
    in_flight = wide["request_throughput"] * wide["mean_e2el_ms"] / 1e3
    assert in_flight == pytest.approx(64, rel=0.02)
    # the same schedulers, different step costs: half the experts per GPU, an all-to-all over InfiniBand
    assert wide["moe_ms"] < two["moe_ms"] and wide["collectives_ms"] > two["collectives_ms"]


def test_ep_neither_tp_nor_a_multiple_is_refused(cli):
    p = cli("evaluate", "--model", "maverick", "--sku", "nd-h200-v5", "--vms", "2", "--tp", "8", "--ep", "12",
            "--concurrency", "4", "--input-tokens", "128", "--output-tokens", "128", check_rc=1)
    assert "multiple of it" in p.stderr and "Traceback" not in p.stderr


def test_a_finite_run_adds_the_starting_burst_to_ttft(cli):
    """--num-prompts: the C prompts the clients start with queue for prefill, the run's TTFT tail;
    throughput and TPOT are the steady state's either way; --qps takes no --num-prompts."""
    args = ("evaluate", "--model", "scout", "--sku", "nd-h200-v5", "--tp", "8", "--concurrency", "64",
            "--input-tokens", "4096", "--output-tokens", "512", "--json")
    endless = json.loads(cli(*args, check_rc=0).stdout)
    run = json.loads(cli(*args, "--num-prompts", "640", check_rc=0).stdout)
    assert run["request_throughput"] == pytest.approx(endless["request_throughput"])
    assert run["median_tpot_ms"] == pytest.approx(endless["median_tpot_ms"])
    assert run["p99_ttft_ms"] > 3 * endless["p99_ttft_ms"]
    assert run["mean_ttft_ms"] > endless["mean_ttft_ms"]
    # the start-up term is labelled apart: the steady state is the endless run's, the burst adds the rest
    assert run["steady_state_mean_ttft_ms"] == pytest.approx(endless["mean_ttft_ms"])
    assert run["steady_state_median_ttft_ms"] == pytest.approx(endless["median_ttft_ms"])
    assert run["startup_mean_ttft_ms"] == pytest.approx(run["mean_ttft_ms"] - endless["mean_ttft_ms"])
    assert "startup_mean_ttft_ms" not in endless
    p = cli("evaluate", "--model", "scout", "--sku", "nd-h200-v5", "--tp", "8", "--qps", "2", "--num-prompts", "10",
            "--input-tokens", "1024", "--output-tokens", "256")
    assert p.returncode != 0 and "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1


def test_one_gpu_without_a_vm(cli):
    """A single GPU runs no collective: its host takes the published all-reduce curve as it is
    (one rank used to divide 0 by 0)."""
    one = json.loads(cli("evaluate", "--model", "gpt-oss-120b", "--gpu", "h100-sxm-80gb", "--gpus", "1", "--tp", "1",
                         "--concurrency", "4", "--input-tokens", "1000", "--output-tokens", "100", "--json", check_rc=0).stdout)
    assert one["stable"] and one["collectives_ms"] == 0.0 and one["output_throughput_per_gpu"] > 0


def test_fixed_lengths_arrive_in_waves(cli):
    """--fixed-lengths: requests of one length end together and come back as a wave, which waits
    for the previous group's prefill step; Poisson arrivals take no --fixed-lengths."""
    args = ("evaluate", "--model", "scout", "--sku", "nd-h200-v5", "--tp", "8", "--concurrency", "64",
            "--input-tokens", "1024", "--output-tokens", "256", "--json")
    varied = json.loads(cli(*args, check_rc=0).stdout)
    waves = json.loads(cli(*args, "--fixed-lengths", check_rc=0).stdout)
    assert waves["fixed_lengths"] and not varied["fixed_lengths"]
    assert waves["median_ttft_ms"] > 1.5 * varied["median_ttft_ms"]
    assert waves["median_tpot_ms"] == pytest.approx(varied["median_tpot_ms"], rel=0.1)
    # the delayed output waits for the next group's prefill step: part of the wave's steps, not a separate term
    assert waves["ttft_parts_ms"]["output_delay_ms"] is None and varied["ttft_parts_ms"]["output_delay_ms"] > 0
    parts = waves["ttft_parts_ms"]
    assert parts["engine_ms"] + parts["frontend_ms"] + parts["cpu_input_ms"] == pytest.approx(waves["median_ttft_ms"])
    p = cli("evaluate", "--model", "scout", "--sku", "nd-h200-v5", "--tp", "8", "--qps", "2", "--fixed-lengths",
            "--input-tokens", "1024", "--output-tokens", "256")
    assert p.returncode == 2 and "Traceback" not in p.stderr and "--fixed-lengths" in p.stderr


def test_columns_stay_apart_and_a_single_wave_says_so(cli):
    """A band wider than its column no longer runs into the next one; a run of exactly C prompts is
    one wave: no steady state is claimed for its TTFT."""
    p = cli("evaluate", "--model", "scout", "--sku", "nd-h200-v5", "--tp", "8", "--sweep", "max_concurrency=1,4096",
            "--num-prompts", "4096", "--input-tokens", "1", "--output-tokens", "1", check_rc=0)
    table = p.stdout.splitlines()[1:4]
    assert [line.split()[0] for line in table] == ["max_concurrency", "1", "4096"]  # the load apart from the req/s band
    assert all(line.split()[2].startswith("(") for line in table[1:])  # and each value apart from its band
    assert "a single wave: all 4,096 prompts arrive at once" in p.stdout
    one = json.loads(cli("evaluate", "--model", "scout", "--sku", "nd-h200-v5", "--tp", "8", "--concurrency", "64",
                         "--num-prompts", "64", "--input-tokens", "100", "--output-tokens", "10", "--json", check_rc=0).stdout)
    assert "startup_mean_ttft_ms" not in one


def test_marlin_mxfp4_moe_prefills_at_its_measured_rate(cli):
    """--mxfp4-moe-kernel marlin (VLLM_MXFP4_USE_MARLIN=1): gpt-oss's experts at the Marlin MoE
    kernel's measured rate, about 200 TFLOP/s at a long prompt's tokens per expert, where the
    default triton_kernels path runs at about 560: a long prompt's TTFT about doubles, decode at a
    few sequences barely moves (weight reads bound it either way). Refused off NVIDIA / vLLM and
    for a model without MXFP4 experts."""
    args = ("evaluate", "--model", "gpt-oss-120b", "--gpu", "h200", "--gpus", "1", "--tp", "1", "--concurrency", "4",
            "--isl", "7373", "--osl", "922", "--engine-version", "0.13.0", "--json")
    default = json.loads(cli(*args, check_rc=0).stdout)
    marlin = json.loads(cli(*args, "--mxfp4-moe-kernel", "marlin", check_rc=0).stdout)
    assert default["mxfp4_moe_kernel"] is None and marlin["mxfp4_moe_kernel"] == "marlin"
    assert 1.6 < marlin["median_ttft_ms"] / default["median_ttft_ms"] < 2.5
    assert marlin["decode_step_ms"] == pytest.approx(default["decode_step_ms"], rel=0.02)
    for bad in (("--gpu", "mi300x", "--gpus", "1", "--model", "gpt-oss-120b"), ("--gpu", "h200", "--gpus", "8", "--model", "scout")):
        p = cli("evaluate", *bad, "--tp", "1", "--concurrency", "4", "--isl", "1000", "--osl", "100", "--mxfp4-moe-kernel", "marlin")
        assert p.returncode != 0 and "Traceback" not in p.stderr and "--mxfp4-moe-kernel" in p.stderr
