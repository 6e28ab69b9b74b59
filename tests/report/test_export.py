"""Exports parsed back: the vllm / SGLang command lines by parsers declaring the engines' flags,
the Azure ML YAML by yaml.safe_load; all must match the plan."""

import argparse
import copy
import re
import shlex
import shutil
import subprocess

import pytest
import yaml

from moeprof.catalog.hardware.vms import load_vms
from moeprof.errors import MoeprofError
from moeprof.export import AZUREML_SCHEMA, export, resolve_checkpoint

HOSTILE = "<script>alert(1)</script>"


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise AssertionError(message)


def vllm_parser():
    p = _Parser(prog="vllm serve")
    p.add_argument("model")
    p.add_argument("--tensor-parallel-size", type=int, required=True)
    p.add_argument("--pipeline-parallel-size", type=int, required=True)
    p.add_argument("--enable-expert-parallel", action="store_true")
    p.add_argument("--max-model-len", type=int, required=True)
    p.add_argument("--kv-cache-dtype", choices=["auto", "fp8", "fp8_e4m3", "fp8_e5m2"], required=True)
    p.add_argument("--max-num-seqs", type=int, required=True)
    p.add_argument("--gpu-memory-utilization", type=float)
    p.add_argument("--max-num-batched-tokens", type=int)
    p.add_argument("--quantization", choices=["fp8"])
    p.add_argument("--data-parallel-size", type=int)
    p.add_argument("--distributed-executor-backend", choices=["ray", "mp"])
    p.add_argument("--port", type=int)
    return p


def sglang_parser():
    p = _Parser(prog="sglang.launch_server")
    p.add_argument("--model-path", required=True)
    p.add_argument("--tp-size", type=int, required=True)
    p.add_argument("--pp-size", type=int, required=True)
    p.add_argument("--ep-size", type=int, default=1)
    p.add_argument("--context-length", type=int, required=True)
    p.add_argument("--kv-cache-dtype", choices=["auto", "fp8_e4m3", "fp8_e5m2"], required=True)
    p.add_argument("--max-running-requests", type=int, required=True)
    p.add_argument("--quantization", choices=["fp8"])
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument("--nnodes", type=int)
    p.add_argument("--node-rank")
    p.add_argument("--dist-init-addr")
    return p


def model_arg(word: str) -> str:
    """The checkpoint of a launch's model argument ("${MODEL:-org/name}": MODEL overrides it)."""
    m = re.fullmatch(r"\$\{MODEL:-([^}]+)\}", word)
    return m.group(1) if m else word


def commands(script: str, program: list[str]) -> list[tuple[dict, list[str]]]:
    """(environment assignments, argv after the program, the model argument's checkpoint in its
    place) of every line that runs the program."""
    out = []
    for line in script.splitlines():
        s = line.strip()
        if s.startswith("#") or not s:
            continue
        words = shlex.split(s.rstrip("&").strip())
        env = {}
        while words and "=" in words[0] and not words[0].startswith("-"):
            k, _, v = words.pop(0).partition("=")
            env[k] = v
        if words[: len(program)] == program:
            out.append((env, [model_arg(w) for w in words[len(program):]]))
    return out


def check_bash(script: str):
    if shutil.which("bash"):
        subprocess.run(["bash", "-n"], input=script, text=True, check=True)


def plan_with(plan_doc, **rec):
    d = copy.deepcopy(plan_doc)
    vm = load_vms()[rec.get("sku", d["recommended"]["sku"])]
    d["recommended"].update(gpu=vm.gpu.key, **rec)
    return d


MAVERICK = "meta-llama/Llama-4-Maverick-17B-128E-Instruct"
# recipe -> (checkpoint, engine --quantization): the FP8 checkpoint ships fp8-experts; fp8 on the
# bf16 checkpoint is the engine's online FP8.
CHECKPOINT = {"bf16": (MAVERICK, None), "fp8-experts": (MAVERICK + "-FP8", None), "fp8": (MAVERICK, "fp8")}


def test_vllm_matches_plan(plan_doc):
    rec = plan_doc["recommended"]
    text = export(plan_doc, "vllm")
    check_bash(text)
    assert text.startswith("#!/usr/bin/env bash\n# moeprof export for vLLM 0.11")
    cmds = commands(text, ["vllm", "serve"])
    assert len(cmds) == rec["replicas"]
    ports = set()
    for env, argv in cmds:
        a = vllm_parser().parse_args(argv)
        assert a.tensor_parallel_size == rec["tp"] and a.pipeline_parallel_size == rec["pp"]
        assert a.enable_expert_parallel == (rec["ep"] > 1)
        assert a.max_model_len == plan_doc["inputs"]["context_tokens"]
        assert a.max_num_seqs == rec["max_batch"]
        assert a.kv_cache_dtype == ("auto" if rec["kv_dtype"] == "bf16" else rec["kv_dtype"])
        assert (a.model, a.quantization) == CHECKPOINT[rec["quant"]]
        ports.add(a.port)
        if rec["replicas"] > 1:
            devs = env.get("CUDA_VISIBLE_DEVICES") or env.get("HIP_VISIBLE_DEVICES")
            assert len(devs.split(",")) == rec["tp"] * rec["pp"]
    assert len(ports) == min(rec["replicas"], 8 // (rec["tp"] * rec["pp"]))


@pytest.mark.parametrize("fmt", ["vllm", "sglang"])
def test_replicas_over_several_vms(plan_doc, fmt):
    d = plan_with(plan_doc, sku="nd-h100-v5", tp=4, ep=4, pp=1, replicas=5, vms=3, quant="fp8-experts", kv_dtype="fp8")
    d["inputs"]["model"] = "maverick"
    text = export(d, fmt)
    check_bash(text)
    prog = ["vllm", "serve"] if fmt == "vllm" else ["python", "-m", "sglang.launch_server"]
    cmds = commands(text, prog)
    assert len(cmds) == 5 and 'case "$VM_INDEX" in' in text
    assert {tuple(sorted(e.items())) for e, _ in cmds} == {(("CUDA_VISIBLE_DEVICES", "0,1,2,3"),), (("CUDA_VISIBLE_DEVICES", "4,5,6,7"),)}
    parser = vllm_parser() if fmt == "vllm" else sglang_parser()
    a = parser.parse_args(cmds[0][1])
    # fp8-experts ships as the -FP8 checkpoint: loaded as is, no online quantization
    model = a.model if fmt == "vllm" else a.model_path
    assert model == "meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8" and a.quantization is None
    if fmt == "sglang":
        assert a.tp_size == 4 and a.ep_size == 4 and a.kv_cache_dtype == "fp8_e4m3" and a.context_length == 131072


def test_sglang_matches_plan(plan_doc):
    rec = plan_doc["recommended"]
    text = export(plan_doc, "sglang")
    check_bash(text)
    assert "SGLang 0.5" in text.splitlines()[1]
    cmds = commands(text, ["python", "-m", "sglang.launch_server"])
    assert len(cmds) == rec["replicas"]
    a = sglang_parser().parse_args(cmds[0][1])
    assert (a.tp_size, a.pp_size, a.ep_size) == (rec["tp"], rec["pp"], rec["ep"])
    assert a.max_running_requests == rec["max_batch"] and a.context_length == plan_doc["inputs"]["context_tokens"]


def test_pipeline_across_vms(plan_doc):
    d = plan_with(plan_doc, sku="nd-h100-v5", tp=8, ep=8, pp=2, replicas=1, vms=2, quant="bf16", kv_dtype="bf16")
    v = export(d, "vllm")
    check_bash(v)
    [(env, argv)] = commands(v, ["vllm", "serve"])
    a = vllm_parser().parse_args(argv)
    assert a.pipeline_parallel_size == 2 and a.distributed_executor_backend == "ray" and not env
    s = export(d, "sglang")
    check_bash(s)
    [(_, argv)] = commands(s, ["python", "-m", "sglang.launch_server"])
    assert sglang_parser().parse_args(argv).nnodes == 2
    with pytest.raises(MoeprofError, match="spans 2 VMs"):
        export(d, "azureml")


def test_azureml_yaml(plan_doc):
    rec = plan_doc["recommended"]
    text = export(plan_doc, "azureml")
    assert "vLLM 0.11" in text.splitlines()[0]
    y = yaml.safe_load(text)
    assert y["$schema"] == AZUREML_SCHEMA
    assert y["instance_type"] == load_vms()[rec["sku"]].azure_name
    assert y["instance_count"] == rec["vms"]
    assert y["environment_variables"]["MODEL_NAME"] == CHECKPOINT[rec["quant"]][0]
    a = vllm_parser().parse_args(["MODEL", *y["environment_variables"]["VLLM_ARGS"].split()])
    assert a.tensor_parallel_size == rec["tp"] and a.max_num_seqs == rec["max_batch"]
    per_vm = 8 // (rec["tp"] * rec["pp"])
    assert (a.data_parallel_size or 1) == per_vm
    for route in ("liveness_route", "readiness_route", "scoring_route"):
        assert y["environment"]["inference_config"][route]["port"] == 8000
    assert y["name"][0].isalpha() and len(y["endpoint_name"]) <= 32


def test_int4_and_unreleased_models_ask_for_a_checkpoint(plan_doc):
    ck = resolve_checkpoint("maverick", "int4-experts")  # no published build
    assert ck.model_id is None and "pre-quantized int4-experts" in ck.notes[0]
    assert resolve_checkpoint("maverick", "int4").model_id == "RedHatAI/Llama-4-Maverick-17B-128E-Instruct-quantized.w4a16"
    assert resolve_checkpoint("behemoth", "bf16").model_id is None
    assert resolve_checkpoint("maverick-fp8", "bf16").model_id == "meta-llama/Llama-4-Maverick-17B-128E-Instruct"
    assert resolve_checkpoint("maverick", "fp8", engine="vllm", engine_version="0.11").quantization == "fp8"
    d = plan_with(plan_doc, sku="nd-h100-v5", tp=8, ep=8, pp=1, replicas=1, vms=1, quant="int4-experts", kv_dtype="bf16",
                  checkpoint="")
    text = export(d, "vllm")
    check_bash(text)
    assert 'MODEL="${MODEL:?' in text
    [(_, argv)] = commands(text, ["vllm", "serve"])
    assert argv[0] == "$MODEL" and vllm_parser().parse_args(argv).quantization is None
    y = yaml.safe_load(export(d, "azureml"))
    assert y["environment_variables"]["MODEL_NAME"] == ""


def test_hostile_names_cannot_inject(plan_doc):
    d = copy.deepcopy(plan_doc)
    d["inputs"]["model"] = HOSTILE + "\nrm -rf / #\r\u2028x: 1"
    for fmt in ("vllm", "sglang"):
        text = export(d, fmt)
        check_bash(text)
        assert "\nrm -rf" not in text
        for line in text.splitlines():
            assert not line.startswith("rm ")
    y = yaml.safe_load(export(d, "azureml"))
    assert "x" not in y and y["endpoint_name"][0].isalpha() and "<" not in y["endpoint_name"]


def test_bad_values_are_refused(plan_doc):
    d = copy.deepcopy(plan_doc)
    d["recommended"]["kv_dtype"] = "fp8; reboot"
    with pytest.raises(MoeprofError, match="recommended.kv_dtype"):
        export(d, "vllm")
    d["recommended"] = None
    with pytest.raises(MoeprofError, match="nothing to export"):
        export(d, "azureml")


def test_azureml_image_follows_the_gpu_vendor(plan_doc):
    amd = export(plan_with(plan_doc, sku="nd-mi300x-v5", tp=8, ep=8, pp=1, replicas=1, vms=1), "azureml")
    assert "FROM rocm/vllm:rocm7.0.0_vllm_0.11.2_20251210" in amd and "vllm/vllm-openai" not in amd
    nv = export(plan_with(plan_doc, sku="nd-h200-v5", tp=8, ep=8, pp=1, replicas=1, vms=1), "azureml")
    assert "FROM vllm/vllm-openai:v0.11.0" in nv and "rocm" not in nv
    assert yaml.safe_load(amd)["instance_type"] == "Standard_ND96isr_MI300X_v5"
    assert yaml.safe_load(amd)["environment_variables"]["VLLM_ROCM_USE_AITER"] == "1"
    assert "VLLM_ROCM_USE_AITER" not in yaml.safe_load(nv)["environment_variables"]


def test_vllm_on_amd_turns_on_the_kernels_the_calibration_ran_with(plan_doc):
    """vLLM leaves AMD's AITER kernels off; the MI300X calibration's runs had them on (data/engine.json rocm_env)."""
    from moeprof.catalog.values import read_data_json

    want = {k: v["value"] for k, v in read_data_json("engine.json")["rocm_env"].items() if not k.startswith("_")}
    amd = export(plan_with(plan_doc, sku="nd-mi300x-v5", tp=8, ep=8, pp=1, replicas=1, vms=1), "vllm")
    check_bash(amd)
    exports = dict(ln[len("export "):].split("=", 1) for ln in amd.splitlines() if ln.startswith("export "))
    assert want and exports == want
    assert amd.index("export VLLM_ROCM_USE_AITER=1") < amd.index("vllm serve")
    nv = export(plan_with(plan_doc, sku="nd-h200-v5", tp=8, ep=8, pp=1, replicas=1, vms=1), "vllm")
    assert "VLLM_ROCM" not in nv and "\nexport " not in nv


@pytest.mark.parametrize("kv, flag", [("bf16", "auto"), ("fp8", "fp8")])
def test_vllm_kv_comment_matches_the_command(plan_doc, kv, flag):
    text = export(plan_with(plan_doc, kv_dtype=kv), "vllm")
    [(_, argv)] = commands(text, ["vllm", "serve"])[:1]
    assert vllm_parser().parse_args(argv).kv_cache_dtype == flag
    [comment] = [ln for ln in text.splitlines() if ln.startswith("# --kv-cache-dtype")]
    assert comment.startswith(f"# --kv-cache-dtype {flag} = ") and kv in comment
    if kv == "fp8":
        assert "bf16" not in comment
