"""Deployment exports of a plan's recommendation: the `vllm serve` commands, the SGLang launch
commands, and an Azure ML managed online deployment YAML.

Each export states the engine version it targets and follows the plan exactly: TP / EP / PP,
the context the deployment must admit (--max-model-len), the KV cache dtype, max batch
(--max-num-seqs) and the weights' quantization. The checkpoint: the published one the row names (catalog.deployable; SGLang: one a source says
it loads, where one is), as "${MODEL:-org/name}" so MODEL overrides it; fp8 from bf16 weights is
the engine's online FP8 (`--quantization fp8`); with no published checkpoint the script asks for
MODEL rather than naming a checkpoint that does not exist.

Text from the plan reaches a shell script only through shlex.quote and a comment only with
its line breaks removed (NEL U+0085 and U+2028/9 included); YAML values are written by
moeprof.yaml_out, which double-quotes every string.
"""

from __future__ import annotations

import re
import shlex

from ..deployment.replicas import replicas_per_vm, vms_per_replica
from ..errors import MoeprofError
from .checkpoint import Checkpoint, plan_checkpoint, resolve_checkpoint
from .multi_node import SGLANG_PORT, SGLANG_VERSION, VLLM_PORT, sglang_wide_ep_lines, vllm_wide_ep_lines
from .shell import check_flags, comment, plan_engine_version, shell, wide_ep_nodes

__all__ = ["FORMATS", "SGLANG_VERSION", "Checkpoint", "check_flags", "export", "plan_checkpoint", "plan_engine_version", "resolve_checkpoint",
           "vllm_args"]

FORMATS = ("vllm", "sglang", "azureml")
AZUREML_SCHEMA = "https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json"
# The managed online deployment's fields: instance_type and instance_count (identical copies the endpoint
# balances requests over), no field that ranks instances or names a peer.
AZUREML_DEPLOYMENT_REF = ("learn.microsoft.com/azure/machine-learning/reference-yaml-deployment-managed-online; "
                          "concept-endpoints-online")


def vllm_version() -> str:
    from ..catalog.engine import load_engine

    e = load_engine()
    return e.engine_version if e.engine == "vllm" else "unknown"


def vllm_image_tag() -> str:
    m = re.match(r"\s*(\d+)\.(\d+)", vllm_version())
    return f"v{m.group(1)}.{m.group(2)}.0" if m else "latest"


# AMD GPUs run vLLM from AMD's ROCm build; this tag pairs ROCm 7.0.0 with vLLM 0.11.2 (the engine version the
# plan models). Source: rocm/vllm tags on Docker Hub as listed in ROCm/amdgpu-docs issue #88
# ("rocm7.0.0_vllm_0.11.2_20251210").
ROCM_VLLM_IMAGE = "rocm/vllm:rocm7.0.0_vllm_0.11.2_20251210"


def rocm_env(vm) -> dict[str, str]:
    """The environment a vLLM launch on AMD GPUs sets (moeprof/data/engine.json rocm_env: AITER on, as in the
    runs the AMD calibration comes from); nothing on other GPUs."""
    if vm is None or vm.gpu.vendor != "amd":
        return {}
    from ..catalog.values import read_data_json

    d = read_data_json("engine.json").get("rocm_env") or {}
    return {k: str(v["value"]) for k, v in d.items() if not k.startswith("_")}


def _env_lines(vm, per_vm: int) -> list[str]:
    env = rocm_env(vm)
    if not env:
        return []
    where = "" if per_vm else "; set the same on every VM before `ray start`"
    return [comment("AMD's AITER kernels: vLLM leaves them off, the plan's AMD speeds were measured with them on "
                    f"(moeprof/data/engine.json rocm_env){where}")] + [f"export {k}={shlex.quote(v)}" for k, v in env.items()]


def container_image(vm) -> str:
    """The vLLM container image for a VM's GPUs: AMD's ROCm build on AMD, the upstream CUDA one otherwise."""
    if vm is not None and vm.gpu.vendor == "amd":
        return ROCM_VLLM_IMAGE
    return f"vllm/vllm-openai:{vllm_image_tag()}"


def _kvcomment(kv_dtype: str) -> str:
    """What the --kv-cache-dtype of the vLLM command means, for the plan's KV dtype."""
    if kv_dtype == "bf16":
        return "--kv-cache-dtype auto = the model dtype (bf16)"
    return f"--kv-cache-dtype {kv_dtype} = the KV cache in {kv_dtype}, as the plan assumed"


# ---------------------------------------------------------------------------------------
def _recommended(doc: dict) -> dict:
    from ..catalog.models.quant import KV_DTYPES, load_recipes

    rec = doc.get("recommended")
    if not rec:
        raise MoeprofError("the plan has no recommended configuration (nothing met the targets): nothing to export")
    if rec.get("quant") not in load_recipes() and rec.get("quant") != "checkpoint":  # checkpoint: the model's own
        raise MoeprofError(f"field 'recommended.quant': unknown quantization recipe {rec.get('quant')!r}")
    if rec.get("kv_dtype") not in KV_DTYPES:
        raise MoeprofError(f"field 'recommended.kv_dtype': unknown KV dtype {rec.get('kv_dtype')!r}")
    return rec


def _layout(doc: dict):
    """(rec, vm or None, gpus per VM, replicas per VM, VMs per replica)."""
    from ..catalog.hardware.vms import load_vms

    rec = _recommended(doc)
    vm = load_vms().get(str(rec["sku"]).lower())
    gpv = vm.gpus_per_vm if vm else max(1, rec["gpus"] // max(rec["vms"], 1))
    per_replica = max(rec["tp"], rec["ep"]) * rec["pp"]  # a wide-EP replica spans its EP GPUs (ep / tp attention groups)
    return rec, vm, gpv, replicas_per_vm(per_replica, gpv), vms_per_replica(per_replica, gpv)


def _header(doc: dict, engine: str, version: str) -> list[str]:
    rec, inp = _recommended(doc), doc["inputs"]
    return [
        comment(f"moeprof export for {engine} {version}: {inp.get('model_name') or inp['model']}"),
        comment(
            f"plan: {rec['vms']} x {rec['sku']} ({rec['gpus']} x {rec['gpu']}), TP {rec['tp']} EP {rec['ep']} PP {rec['pp']}, "
            f"{rec['replicas']} replica(s), weights {rec['quant']}, KV cache {rec['kv_dtype']}, max batch {rec['max_batch']}"
        ),
        comment(
            f"targets: {inp['qps']:g} req/s, {inp['input_tokens']} in + {inp['output_tokens']} out tokens, context "
            f"{inp['context_tokens']}, p{inp['percentile']:g} TTFT <= {inp['ttft_ms']:g} ms, TPOT <= {inp['tpot_ms']:g} ms"
        ),
    ]


def _engine_model(ck: Checkpoint) -> str | None:
    """The checkpoint as the engine's model argument: a Hugging Face id or a path, never text an
    engine would parse as an option (quoting protects the shell, not the engine's argv)."""
    from ..inputs import model_id_problem

    if ck.model_id is not None and (problem := model_id_problem(ck.model_id)):
        raise MoeprofError(f"field 'inputs.hf_id': {problem}; refusing to pass it to an engine")
    return ck.model_id


_PLAIN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")  # nothing a double-quoted shell word expands


def _model_lines(ck: Checkpoint) -> tuple[list[str], str]:
    """Comment lines and the model argument: the published checkpoint's id, which MODEL overrides
    ("${MODEL:-org/name}"), or "$MODEL" when the user supplies it; the script refuses a MODEL that
    starts with '-'."""
    lines = [comment(n) for n in ck.notes]
    refuse = 'case "${MODEL:-}" in -*) echo "MODEL must be a Hugging Face id or a path, not an option" >&2; exit 2 ;; esac'
    if _engine_model(ck):
        assert ck.model_id is not None
        if _PLAIN_ID.match(ck.model_id):
            lines += [comment("MODEL, when set, replaces the checkpoint (a local copy, or a build of your own)"), refuse]
            return lines, f'"${{MODEL:-{ck.model_id}}}"'
        return lines, shlex.quote(ck.model_id)
    lines.append('MODEL="${MODEL:?set MODEL to the checkpoint (see the comment above)}"')
    lines.append(refuse)
    return lines, '"$MODEL"'


def _visible_devices(vm) -> str:
    return "HIP_VISIBLE_DEVICES" if vm is not None and vm.gpu.vendor == "amd" else "CUDA_VISIBLE_DEVICES"


def vllm_args(doc: dict, ck: Checkpoint) -> list[str]:
    """Arguments after `vllm serve MODEL` for one replica (unquoted)."""
    from ..catalog.engine import load_engine

    rec, inp = _recommended(doc), doc["inputs"]
    eng = load_engine()
    args = ["--tensor-parallel-size", str(rec["tp"]), "--pipeline-parallel-size", str(rec["pp"])]
    if rec["ep"] > 1:
        args.append("--enable-expert-parallel")
    args += [
        "--max-model-len", str(int(inp["context_tokens"])),
        "--kv-cache-dtype", "auto" if rec["kv_dtype"] == "bf16" else rec["kv_dtype"],
        "--max-num-seqs", str(rec["max_batch"]),
        "--gpu-memory-utilization", f"{eng.gpu_memory_utilization:g}",
        "--max-num-batched-tokens", str(eng.max_num_batched_tokens),
    ]
    if ck.quantization:
        args += ["--quantization", ck.quantization]
    return args


def _replica_lines(rec: dict, vm, per_vm: int, command) -> list[str]:
    """Commands for replicas that fit in one VM: command(slot) per replica, its GPUs pinned when
    several share a VM; with several VMs, VM_INDEX selects this VM's replicas."""
    per_replica = rec["tp"] * rec["pp"]
    dev = _visible_devices(vm)
    by_vm: dict[int, list[str]] = {}
    for r in range(rec["replicas"]):
        vm_i, slot = divmod(r, per_vm)
        pin = f"{dev}={','.join(str(slot * per_replica + g) for g in range(per_replica))} " if per_vm > 1 else ""
        by_vm.setdefault(vm_i, []).append(f"{pin}{command(slot)} &")
    lines = [comment(
        f"{rec['replicas']} replica(s), at most {per_vm} per VM, on {len(by_vm)} VM(s); balance requests over every "
        "replica's port"
    )]
    if len(by_vm) == 1:
        return lines + by_vm[0] + ["wait"]
    lines += [
        comment(f"run this script on each VM with VM_INDEX=0..{len(by_vm) - 1}"),
        'VM_INDEX="${VM_INDEX:?which VM this is, 0..' + str(len(by_vm) - 1) + '}"',
        'case "$VM_INDEX" in',
    ]
    for vm_i, cmds in by_vm.items():
        lines += [f"  {vm_i})"] + [f"    {c}" for c in cmds] + ["    ;;"]
    lines += ['  *) echo "VM_INDEX must be 0..' + str(len(by_vm) - 1) + '" >&2; exit 2 ;;', "esac", "wait"]
    return lines


def export_vllm(doc: dict) -> str:
    rec, vm, gpv, per_vm, vms_per_replica = _layout(doc)
    version = vllm_version()
    ck = plan_checkpoint(doc["inputs"], rec["quant"], "vllm", version, rec.get("checkpoint"))
    lines = ["#!/usr/bin/env bash", *_header(doc, "vLLM", version)]
    lines.append(comment(f"{_kvcomment(rec['kv_dtype'])}; memory settings are the ones the plan assumed"))
    mlines, model_arg = _model_lines(ck)
    lines += mlines + ["set -euo pipefail"] + _env_lines(vm, per_vm)
    args = vllm_args(doc, ck)
    nodes = wide_ep_nodes(rec, gpv)
    if nodes:
        return "\n".join(lines + vllm_wide_ep_lines(doc, rec, gpv, nodes, model_arg, args)) + "\n"
    check_flags("vllm", plan_engine_version(doc, "vllm"), ["vllm", "serve", *args, "--port", "0",
                                                           "--distributed-executor-backend", "ray"])
    if per_vm:
        lines += _replica_lines(rec, vm, per_vm,
                                lambda slot: shell(["vllm", "serve"], model_arg, args + ["--port", str(VLLM_PORT + slot)]))
    else:
        lines += [
            comment(
                f"each replica spans {vms_per_replica} VMs (pipeline stages across VMs over InfiniBand): start a Ray "
                "cluster on its VMs first (`ray start --head` on the first, `ray start --address=HEAD:6379` on the "
                f"others), then run this on the head VM; {rec['replicas']} replica(s) in all"
            ),
            shell(["vllm", "serve"], model_arg,
                   args + ["--distributed-executor-backend", "ray", "--port", str(VLLM_PORT)]),
        ]
    return "\n".join(lines) + "\n"


def sglang_args(doc: dict, ck: Checkpoint) -> list[str]:
    """Arguments of `python -m sglang.launch_server --model-path MODEL` for one replica (unquoted)."""
    rec, inp = _recommended(doc), doc["inputs"]
    args = ["--tp-size", str(rec["tp"]), "--pp-size", str(rec["pp"])]
    if rec["ep"] > 1:
        args += ["--ep-size", str(rec["ep"])]
    args += [
        "--context-length", str(int(inp["context_tokens"])),
        "--kv-cache-dtype", "auto" if rec["kv_dtype"] == "bf16" else "fp8_e4m3",
        "--max-running-requests", str(rec["max_batch"]),
    ]
    if ck.quantization:
        args += ["--quantization", ck.quantization]
    return args + ["--host", "0.0.0.0"]


def export_sglang(doc: dict) -> str:
    rec, vm, gpv, per_vm, vms_per_replica = _layout(doc)
    ck = plan_checkpoint(doc["inputs"], rec["quant"], "sglang", SGLANG_VERSION, rec.get("checkpoint"))
    lines = ["#!/usr/bin/env bash", *_header(doc, "SGLang", SGLANG_VERSION)]
    lines.append(comment(
        "SGLang sizes its KV pool with --mem-fraction-static, not by the vLLM accounting the plan used: check that "
        "the server log's KV pool holds max batch x context tokens"
    ))
    mlines, model_arg = _model_lines(ck)
    lines += mlines + ["set -euo pipefail"]
    head = ["python", "-m", "sglang.launch_server", "--model-path"]
    args = sglang_args(doc, ck)
    nodes = wide_ep_nodes(rec, gpv)
    if nodes:
        return "\n".join(lines + sglang_wide_ep_lines(doc, rec, nodes, head, model_arg, args)) + "\n"
    check_flags("sglang", SGLANG_VERSION, [*head, "M", *args, "--port", "0", "--nnodes", "2", "--node-rank", "0",
                                            "--dist-init-addr", "HEAD:1"])
    if per_vm:
        lines += _replica_lines(rec, vm, per_vm, lambda slot: shell(head, model_arg, args + ["--port", str(SGLANG_PORT + slot)]))
    else:
        lines += [
            comment(
                f"each replica spans {vms_per_replica} VMs: run this on VM i of the replica with NODE_RANK=i and HEAD "
                f"set to the first VM's address; {rec['replicas']} replica(s) in all"
            ),
            'NODE_RANK="${NODE_RANK:?0 on the first VM, 1.. on the others}"; HEAD="${HEAD:?address of the first VM}"',
            shell(head, model_arg, args + ["--nnodes", str(vms_per_replica), "--port", str(SGLANG_PORT)],
                   ' --node-rank "$NODE_RANK" --dist-init-addr "$HEAD:50000"'),
        ]
    return "\n".join(lines) + "\n"


def _azure_name(text: str, limit: int = 32) -> str:
    """An Azure ML endpoint / deployment name: letters, digits and hyphens, starting with a letter."""
    s = re.sub(r"[^a-z0-9-]+", "-", str(text).lower()).strip("-")
    s = re.sub(r"-{2,}", "-", s)
    if not s or not s[0].isalpha():
        s = "m-" + s
    return s[:limit].rstrip("-") or "moeprof"


def export_azureml(doc: dict, endpoint_name: str | None = None) -> str:
    from .. import yaml_out

    rec, vm, gpv, per_vm, vms_per_replica = _layout(doc)
    inp = doc["inputs"]
    nodes = wide_ep_nodes(rec, gpv)
    if nodes:
        raise MoeprofError(
            f"wide EP across {nodes} VMs over InfiniBand needs the {nodes} VMs of a replica started together with each "
            f"one's node rank and node 0's address; an Azure ML managed online deployment runs its instance_count "
            f"instances as independent copies behind the endpoint with no node rank or peer address to give them "
            f"({AZUREML_DEPLOYMENT_REF}): use --format vllm or sglang on the VMs"
        )
    if not per_vm:
        raise MoeprofError(
            f"each replica spans {vms_per_replica} VMs (TP x PP = {rec['tp'] * rec['pp']} > {gpv} GPUs per VM); Azure ML "
            "managed online deployments run independent single-VM instances: use --format vllm with a Ray cluster"
        )
    if vm is None:
        raise MoeprofError(f"VM SKU {rec['sku']!r} is not in the catalog: no Azure instance type to export")
    version = vllm_version()
    ck = plan_checkpoint(inp, rec["quant"], "vllm", version, rec.get("checkpoint"))
    eng_args = vllm_args(doc, ck)
    notes = []
    if per_vm > 1:
        eng_args += ["--data-parallel-size", str(per_vm)]
    checked = check_flags("vllm", plan_engine_version(doc, "vllm"), ["vllm", "serve", *eng_args, "--port", "0"])
    notes.append(f"every flag checked against vLLM {checked}'s argument list (moeprof/data/engine_args/vllm-{checked}.json)")
    if per_vm > 1:
        notes.append(
            f"{per_vm} replicas per instance run as vLLM data parallelism (--data-parallel-size {per_vm}) behind one "
            "server" + (": with --enable-expert-parallel vLLM then spreads the experts over all the instance's GPUs"
                        if rec["ep"] > 1 else "")
        )
    end_to_end_ms = (rec.get("ttft_ms") or 0) + inp["output_tokens"] * (rec.get("tpot_ms") or 0)
    body = {
        "$schema": AZUREML_SCHEMA,
        "name": _azure_name(f"{rec['sku']}-{rec['quant']}"),
        "endpoint_name": endpoint_name or _azure_name(f"{inp.get('model_name') or inp['model']}-endpoint"),
        "environment": {
            "build": {"path": "./vllm-env"},
            "inference_config": {
                "liveness_route": {"port": VLLM_PORT, "path": "/health"},
                "readiness_route": {"port": VLLM_PORT, "path": "/health"},
                "scoring_route": {"port": VLLM_PORT, "path": "/"},
            },
        },
        "environment_variables": {
            "MODEL_NAME": _engine_model(ck) or "",
            "VLLM_ARGS": " ".join(eng_args),  # word-split by the entrypoint: plain tokens only
            **rocm_env(vm),
        },
        "instance_type": vm.azure_name,
        "instance_count": int(rec["vms"]),
        "request_settings": {
            "request_timeout_ms": int(min(180000, max(60000, 3 * end_to_end_ms))),
            "max_concurrent_requests_per_instance": int(rec["max_batch"] * per_vm),
        },
        "liveness_probe": {"initial_delay": 1800, "period": 30, "timeout": 10, "failure_threshold": 30},
        "readiness_probe": {"initial_delay": 1800, "period": 30, "timeout": 10, "failure_threshold": 30},
    }
    head = [
        comment(f"moeprof export: Azure ML managed online deployment, container runs vLLM {version} "
                 f"(image {container_image(vm)})"),
        *_header(doc, "vLLM", version)[1:],
        *(comment(n) for n in ck.notes + tuple(notes)),
        comment("./vllm-env/Dockerfile (the image's entrypoint must start vllm serve with these variables):"),
        comment(f"  FROM {container_image(vm)}"),
        comment('  ENTRYPOINT ["/bin/sh", "-c", "exec vllm serve \\"$MODEL_NAME\\" $VLLM_ARGS --port 8000"]'),
        comment("gated Hugging Face models also need HF_TOKEN (set it from a secret, never in this file)"),
        comment("instance_count = the plan's VMs; probes wait 30 min for the weights to download and load"),
    ]
    if not ck.model_id:
        head.append(comment("MODEL_NAME is empty: set it to the checkpoint named in the comment above"))
    return "\n".join(head) + "\n" + yaml_out.dump(body)


def export(doc: dict, fmt: str) -> str:
    if fmt == "vllm":
        return export_vllm(doc)
    if fmt == "sglang":
        return export_sglang(doc)
    if fmt == "azureml":
        return export_azureml(doc)
    raise MoeprofError(f"unknown export format {fmt!r} (known: {', '.join(FORMATS)})")
