"""Wide EP across VMs: multi-node launches (vLLM data parallel + expert parallel across nodes,
SGLang --nnodes with DP attention and EP), every flag checked against the engine release's own
argument list (moeprof/data/engine_args), Azure ML refused in one line with its reason; the label
"wide EP across N VMs over InfiniBand" in the plan text, the compare table and the report."""

import copy
import json
import shlex
import shutil
import subprocess

import pytest

from moeprof.catalog.engine_args import check_argv, engine_flags
from moeprof.catalog.hardware.vms import load_vms
from moeprof.errors import MoeprofError
from moeprof.export import SGLANG_VERSION, check_flags, export, plan_engine_version

LABEL = "wide EP across 2 VMs over InfiniBand"


def _wide(plan_doc, tp=1, ep=16, replicas=1, sku="nd-h200-v5"):
    d = copy.deepcopy(plan_doc)
    vm = load_vms()[sku]
    n = ep // vm.gpus_per_vm
    d["recommended"].update(sku=sku, gpu=vm.gpu.key, tp=tp, ep=ep, pp=1, replicas=replicas, vms=n * replicas,
                            gpus=ep * replicas, quant="fp8", kv_dtype="fp8", max_batch=64, unit_vms=n, unit_replicas=1)
    return d


def _node_commands(script: str, program: list[str]) -> list[list[str]]:
    """argv after `program` of each node's command, in node order ("$HEAD" left as the word HEAD)."""
    out = []
    for line in script.splitlines():
        s = line.strip()
        if s.startswith("#") or not s:
            continue
        words = shlex.split(s.replace('"$HEAD', '"HEAD'))
        if words[: len(program)] == program:
            out.append(words[len(program):])
    return out


def _value(argv: list[str], flag: str) -> str | None:
    return argv[argv.index(flag) + 1] if flag in argv else None


@pytest.mark.parametrize("tp,ep", [(1, 16), (8, 16), (1, 32)])
def test_vllm_multi_node_launch(plan_doc, tp, ep):
    d = _wide(plan_doc, tp=tp, ep=ep)
    script = export(d, "vllm")
    nodes = ep // 8
    cmds = _node_commands(script, ["vllm", "serve"])
    assert len(cmds) == nodes and "NODE_RANK" in script and f"wide EP across {nodes} VMs over InfiniBand" in script
    dp, local = ep // tp, 8 // tp
    for i, argv in enumerate(cmds):
        assert "--enable-expert-parallel" in argv  # on every node
        assert (_value(argv, "--tensor-parallel-size"), _value(argv, "--data-parallel-size")) == (str(tp), str(dp))
        assert _value(argv, "--data-parallel-size-local") == str(local)
        assert _value(argv, "--data-parallel-address") == "HEAD" and _value(argv, "--data-parallel-rpc-port")
        assert ("--headless" in argv) == (i > 0)
        assert _value(argv, "--data-parallel-start-rank") == (str(i * local) if i else None)
        version = plan_engine_version(d, "vllm")
        assert check_argv("vllm", version, ["vllm", "serve", *argv]) == []  # every flag in that release's list
        assert {"--data-parallel-size-local", "--data-parallel-address", "--headless"} <= engine_flags("vllm", version)
    if shutil.which("bash"):
        subprocess.run(["bash", "-n"], input=script, text=True, check=True)


def test_sglang_multi_node_launch(plan_doc):
    d = _wide(plan_doc, tp=1, ep=16)
    script = export(d, "sglang")
    cmds = _node_commands(script, ["python", "-m", "sglang.launch_server"])
    assert len(cmds) == 2 and LABEL in script
    for i, argv in enumerate(cmds):
        assert "--enable-dp-attention" in argv
        assert (_value(argv, "--nnodes"), _value(argv, "--node-rank")) == ("2", str(i))
        assert _value(argv, "--dist-init-addr").startswith("HEAD:")
        assert (_value(argv, "--tp-size"), _value(argv, "--dp-size"), _value(argv, "--ep-size")) == ("16", "16", "16")
        # the scheduler gives each DP rank max_running_requests // dp_size: the plan's 64 per group
        assert int(_value(argv, "--max-running-requests")) // 16 == 64
        assert check_argv("sglang", SGLANG_VERSION, ["python", "-m", "sglang.launch_server", *argv]) == []


def test_every_export_flag_is_in_the_engine_arg_list(plan_doc):
    """Single-VM exports too: the flags of every launch are in the named release's list."""
    for d in (plan_doc, _wide(plan_doc)):
        for fmt, program, engine, version in (("vllm", ["vllm", "serve"], "vllm", plan_engine_version(d, "vllm")),
                                              ("sglang", ["python", "-m", "sglang.launch_server"], "sglang", SGLANG_VERSION)):
            for argv in _node_commands(export(d, fmt), program):
                assert check_argv(engine, version, [*program, *argv]) == [], (fmt, argv)


def test_a_flag_not_in_the_list_is_refused():
    with pytest.raises(MoeprofError, match="does not accept --data-parallel-hybrid-lb-x"):
        check_flags("vllm", "0.11.0", ["vllm", "serve", "m", "--data-parallel-hybrid-lb-x", "1"])
    with pytest.raises(MoeprofError, match="does not accept --headless"):  # a vLLM flag SGLang lacks
        check_flags("sglang", SGLANG_VERSION, ["python", "-m", "sglang.launch_server", "--headless"])


def test_azureml_refuses_wide_ep_in_one_line_with_why(plan_doc):
    with pytest.raises(MoeprofError) as e:
        export(_wide(plan_doc), "azureml")
    msg = str(e.value)
    assert "\n" not in msg and LABEL in msg and "independent" in msg and "learn.microsoft.com" in msg


def test_several_wide_ep_replicas_say_each_has_its_own_vms(plan_doc):
    script = export(_wide(plan_doc, replicas=2), "vllm")
    assert "2 replica(s) in all, each on its own 2 VMs" in script


@pytest.fixture(scope="module")
def maverick_50(cli_once):
    return cli_once("plan", "--model", "maverick", "--qps", "50", "--sku", "nd-h200-v5", "--json", check_rc=0)


def test_wide_ep_pick_is_labelled_in_plan_compare_and_report(cli_once, maverick_50):
    doc = json.loads(maverick_50.stdout)
    rec = doc["recommended"]
    if not (rec["ep"] > rec["tp"] and rec["vms"] // rec["replicas"] > 1):
        pytest.skip("the pick at 50 req/s is not wide EP across VMs")
    n = rec["vms"] // rec["replicas"]
    label = f"wide EP across {n} VMs over InfiniBand"
    text = cli_once("plan", "--model", "maverick", "--qps", "50", "--sku", "nd-h200-v5", check_rc=0).stdout
    assert label in text and "no measured multi-VM run" in text
    comp = cli_once("compare", "--model", "maverick", "--qps", "50", "--sku", "nd-h200-v5", check_rc=0).stdout
    row = next(x for x in comp.splitlines() if x.startswith("nd-h200-v5 "))
    assert label in row and "no measured multi-VM run" in comp
    from moeprof.report import plan_report_html

    html = plan_report_html(doc)
    assert label in html and "no measured multi-VM run" in html
    # and it exports in the two engine formats
    assert "--data-parallel-size" in export(doc, "vllm") and "--nnodes" in export(doc, "sglang")
