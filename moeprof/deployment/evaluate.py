"""`moeprof evaluate`: what one fixed deployment does under the serving engine's scheduler.

The same stages as the planner's search for one layout: the memory model (the KV cache bounds the
running batch), the performance model (deployment.steps) and the serving model (moeprof.serving),
closed loop at a concurrency (benchmark clients) or open loop at a QPS. Replicas (data parallel,
GPUs / (TP x PP), or GPUs / EP with wide EP) share the load evenly; a wide-EP replica (ep > tp) is
ep / tp attention groups, each scheduling its own sequences at its share of the load, as the
planner serves it (planner.search.serve). Metrics are named as `vllm bench serve` names them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from .. import perf, serving
from ..catalog.calibration.serving import ServingCalibration
from ..catalog.engine import EngineConfig, sglang_scheduler
from ..catalog.hardware.vms import Price, VmSpec
from ..catalog.models import ModelSpec
from ..catalog.models.quant import QuantRecipe, get_recipe
from ..catalog.serving_path import serving_path
from ..errors import MoeprofError
from ..memory import Parallelism, check_parallelism, kv_bytes_for_sequence, memory_per_gpu
from ..profile import Profile
from .calibration import choose_calibration
from .replicas import vms_per_replica
from .steps import layout_steps, step_costs

LOADS = ("concurrency", "qps")


@dataclass(frozen=True)
class Deployment:
    model: ModelSpec
    vm: VmSpec  # a catalog VM, or a bare host of --gpus GPUs of one kind
    vms: int
    tp: int
    ep: int
    pp: int
    quant: str
    kv_dtype: str
    engine: EngineConfig
    profile: Profile | None = None
    routing_skew: float = 0.0
    calibration: ServingCalibration | None = None  # None: the profile's own, else the shipped one
    recipe: QuantRecipe | None = None  # the QuantRecipe named `quant` (None: looked up in the model's)

    @property
    def quant_recipe(self) -> QuantRecipe:
        return self.recipe if self.recipe is not None else get_recipe(self.quant, self.model)

    @property
    def gpus(self) -> int:
        return self.vm.gpus_per_vm * self.vms

    @property
    def parallelism(self) -> Parallelism:
        return Parallelism(tp=self.tp, ep=self.ep, pp=self.pp)

    @property
    def replicas(self) -> int:
        return self.gpus // self.parallelism.gpus

    @property
    def groups(self) -> int:
        """Schedulers sharing the load: replicas x attention groups per replica (wide EP: ep / tp)."""
        return self.replicas * self.parallelism.dp

    @property
    def vms_per_replica(self) -> int:
        return vms_per_replica(self.parallelism.gpus, self.vm.gpus_per_vm)


def bare_host(gpu, gpus: int) -> tuple[VmSpec, int]:
    """A host of `gpus` GPUs of one kind that no VM SKU describes: 8 per host (the scale-up domain
    of HGX / OAM boards), no price. (vm, hosts)."""
    per = min(gpus, 8)
    if gpus % per:
        raise MoeprofError(f"--gpus {gpus}: use a multiple of 8 above 8 (one host holds 8 {gpu.key})")
    vm = VmSpec(key=f"{gpu.key}-host", azure_name="", gpu=gpu, gpus_per_vm=per, vcpus=0, ram_bytes=0.0,
                scale_out_bytes_per_s_per_gpu=50e9, price=Price(0.0, "", "", True, "no VM: no price"),
                sources={"scale_out_bytes_per_s_per_gpu": "assumed 400 Gb/s NDR per GPU, as the Azure ND v5 VMs"})
    return vm, gpus // per


def check(dep: Deployment) -> None:
    par = dep.parallelism
    if dep.ep > dep.tp:
        why = check_parallelism(dep.model, par)
        if why:
            raise MoeprofError(why)
    if dep.gpus % par.gpus:
        what = f"ep = {dep.ep} (wide EP)" if dep.ep > dep.tp else f"tp x pp = {par.gpus}"
        raise MoeprofError(f"{dep.gpus} GPUs cannot be split into replicas of {what}")
    if dep.tp > dep.vm.gpus_per_vm:
        raise MoeprofError(f"tp={dep.tp} would span hosts of {dep.vm.gpus_per_vm} GPUs; use --pp across hosts")


def _breakdown(dep: Deployment, b: float, context: float) -> dict:
    """The decode step at batch b split into attention, MoE, dense FFN, collectives and the output
    head (ms per step, summed over layers)."""
    ctx = perf.make_context(dep.model, dep.vm.gpu, dep.quant_recipe, dep.kv_dtype, dep.profile, dep.vm, dep.routing_skew,
                            dep.engine.mxfp4_moe_kernel)
    res = perf.decode_step(ctx, max(b, 1.0), context, tp=dep.tp, ep=dep.ep, pp=dep.pp, num_vms=dep.vms_per_replica)
    out = {"attention_ms": 0.0, "moe_ms": 0.0, "dense_ms": 0.0, "collectives_ms": 0.0, "head_ms": 0.0}
    for key, ops in res.ops.items():
        k = res.layer_counts.get(key, 1)
        for name, v in ops.items():
            ms = float(np.asarray(v)) * k * 1e3
            if key == "head":
                out["collectives_ms" if name == "collectives" else "head_ms"] += ms
            elif name == "collectives":
                out["collectives_ms"] += ms
            elif name == "moe":
                out["moe_ms"] += ms
            elif name == "dense_mlp":
                out["dense_ms"] += ms
            else:
                out["attention_ms"] += ms
    return out


def deployment_slots(dep: Deployment, input_tokens: int, output_tokens: int):
    """(sequence slots of one replica, or of one attention group of a wide-EP replica, MemoryResult): the engine's max_num_seqs bounded by the KV
    cache at the mean length a running sequence has (its blocks are held as it grows: input +
    output / 2)."""
    m = dep.model
    mem = memory_per_gpu(m, dep.vm, dep.vms_per_replica, dep.parallelism, dep.quant_recipe, dep.kv_dtype, dep.engine, input_tokens + output_tokens)
    if mem.kv_budget_bytes_per_gpu <= 0:
        raise MoeprofError(f"does not fit: {mem.reason}")
    seq_bytes = mean_sequence_kv_bytes(dep, mem, input_tokens, output_tokens)
    return max(1.0, min(float(dep.engine.max_num_seqs), mem.kv_budget_bytes_per_gpu / seq_bytes)), mem


def mean_sequence_kv_bytes(dep: Deployment, mem, input_tokens: int, output_tokens: int) -> float:
    """KV bytes per GPU of a running sequence at its mean length (input + output / 2), the attention
    kinds the engine caps (sliding windows under vLLM's hybrid KV manager) holding at most their span,
    as `memory` and the planner count them."""
    return max(kv_bytes_for_sequence(dep.model, mem.kv_bytes_per_token_per_gpu_by_kind, input_tokens + output_tokens / 2.0,
                                     tuple(mem.kv_capped_kinds)), 1e-9)


def deployment_costs(dep: Deployment, input_tokens: int, output_tokens: int, costs: serving.StepCosts | None = None):
    """(serving.StepCosts of one replica, sequence slots, MemoryResult); slots as deployment_slots;
    `costs`: step costs already computed for this layout (the planner's search), used as given."""
    m = dep.model
    slots, mem = deployment_slots(dep, input_tokens, output_tokens)
    if costs is not None:
        return costs, slots, mem
    steps = layout_steps(m, dep.vm, dep.quant, dep.kv_dtype, dep.profile, dep.routing_skew, [dep.tp], [dep.ep], [dep.pp],
                         [dep.vms_per_replica], input_tokens, output_tokens, dep.calibration, dep.engine.engine, dep.engine.engine_version,
                         recipe=dep.recipe, mxfp4_moe_kernel=dep.engine.mxfp4_moe_kernel)
    c1 = step_costs(pd.DataFrame({k: v for k, v in steps.items() if k != "calibration"}), dep.engine)
    return c1, slots, mem


def _ttft_parts(c: serving.StepCosts, engine: EngineConfig, input_tokens: int, step_s: float, ttft_ms: float,
                in_waves: bool = False) -> dict:
    """The median TTFT split: the serving path's terms (serving.StepCosts.path_s) and the engine's rest.
    In waves (fixed lengths) the delayed output waits for the next group's prefill step, which is part
    of the wave's steps: it is in engine_ms, and output_delay_ms is None."""
    parts = {"frontend_ms": engine.frontend_s * 1e3, "cpu_input_ms": engine.cpu_s_per_input_token * input_tokens * 1e3}
    delay = None if in_waves else engine.output_delay_steps * step_s * 1e3
    return {"engine_ms": ttft_ms - sum(parts.values()) - (delay or 0.0), "output_delay_ms": delay, **parts}


def tail_label(percentile: float) -> str:
    """The name of a percentile as `vllm bench serve` and the benchmark records write it: p99, p90, p999 (99.9)."""
    return "p" + f"{percentile:g}".replace(".", "")


def evaluate(dep: Deployment, load: str, values, input_tokens: int, output_tokens: int, percentile: float = 99.0,
             breakdown: bool = True, costs: serving.StepCosts | None = None, num_prompts: float | None = None,
             fixed_lengths: bool = False) -> list[dict]:
    """One metrics dict per load value (concurrency or QPS over the whole deployment); without
    `breakdown`, no split of the decode step by op (the costly part of a long sweep); `costs` as
    deployment_costs takes them; `num_prompts` (concurrency only): the prompts a benchmark client
    sends in all, whose TTFT statistics then cover the burst it starts with (serving.closed_loop),
    None: an endless run; `fixed_lengths` (concurrency only): every request has exactly the input and
    output lengths, so the clients' requests arrive in waves (moeprof.arrivals.waves)."""
    check(dep)
    if load not in LOADS:
        raise MoeprofError(f"load must be one of {', '.join(LOADS)}")
    m = dep.model
    seq = input_tokens + output_tokens
    if seq > m.max_position_embeddings:
        raise MoeprofError(f"input + output = {seq:,} tokens exceeds {m.name}'s maximum context {m.max_position_embeddings:,}")
    c1, slots, mem = deployment_costs(dep, input_tokens, output_tokens, costs)
    cal = choose_calibration(dep.vm.gpu.key, dep.engine.engine, dep.profile, dep.calibration, dep.engine.engine_version)
    scale = cal.step_time_scale
    seq_kv_bytes = mean_sequence_kv_bytes(dep, mem, input_tokens, output_tokens)
    vals = np.asarray(values, dtype=float)
    n = len(vals)
    idx = np.zeros(n, dtype=int)
    w = serving.Workload(np.full(n, float(input_tokens)), np.full(n, float(output_tokens)),
                         np.full(n, float(dep.engine.max_num_batched_tokens)), np.full(n, slots),
                         None if num_prompts is None or load != "concurrency" else np.full(n, float(num_prompts) / dep.groups),
                         np.full(n, bool(fixed_lengths) and load == "concurrency"))
    c = c1.take(idx)
    per_group = vals / dep.groups
    pt = serving.closed_loop(c, w, per_group, percentile) if load == "concurrency" else serving.open_loop(c, w, per_group, percentile)
    out = []
    tail = tail_label(percentile)
    od = max(output_tokens - 1, 1)
    for i in range(n):
        X = float(pt.lam[i]) * dep.groups
        tpot = float(pt.tpot_s[i]) * 1e3
        ok = bool(pt.stable[i]) and math.isfinite(tpot)
        ttft = [float(x[i]) * 1e3 for x in (pt.ttft_mean_s, pt.ttft_median_s, pt.ttft_q_s)]
        b = float(pt.b[i])
        row = {
            load: float(vals[i]),
            "replicas": dep.replicas,
            "attention_groups_per_replica": dep.parallelism.dp,
            "request_throughput": X if ok else None,
            "output_throughput": X * output_tokens if ok else None,
            "total_token_throughput": X * seq if ok else None,
            "output_throughput_per_gpu": X * output_tokens / dep.gpus if ok else None,
            "total_token_throughput_per_gpu": X * seq / dep.gpus if ok else None,
            "tokens_per_s_per_user": 1000.0 / tpot if ok else None,
            "mean_ttft_ms": ttft[0], "median_ttft_ms": ttft[1], f"{tail}_ttft_ms": ttft[2],
            "mean_tpot_ms": tpot, "median_tpot_ms": tpot, f"{tail}_tpot_ms": tpot,
            "mean_itl_ms": tpot, "median_itl_ms": float(pt.itl_median_s[i]) * 1e3,
            f"{tail}_itl_ms": float(serving.steps_at(c1, w.take([i]), np.array([max(b, 1e-9)]))[2][0]) * 1e3,
            "mean_e2el_ms": ttft[0] + od * tpot, "median_e2el_ms": ttft[1] + od * tpot, f"{tail}_e2el_ms": ttft[2] + od * tpot,
            "ttft_parts_ms": _ttft_parts(c1, dep.engine, input_tokens, float(pt.step_s[i]), ttft[1],
                                         in_waves=bool(fixed_lengths) and load == "concurrency"),
            "running_batch": b,
            "slots": slots,
            "kv_use_fraction": min(1.0, b * seq_kv_bytes / max(mem.kv_budget_bytes_per_gpu, 1.0)),
            "step_ms": float(pt.step_s[i]) * 1e3,
            "decode_step_ms": float(pt.decode_step_s[i]) * 1e3,
            "prefill_share": float(pt.prefill_share[i]),
            "host_ms": float(c1.host_s[0]) * 1e3,
            "step_time_scale": scale,
            "calibration_source": cal.source,
            "stable": ok,
        }
        if pt.ttft_steady_mean_s is not None and pt.ttft_steady_median_s is not None and num_prompts is not None \
                and num_prompts > vals[i]:  # a finite run past its starting burst: the burst, labelled apart (a single wave has no steady state)
            steady = float(pt.ttft_steady_mean_s[i]) * 1e3
            row.update({"steady_state_mean_ttft_ms": steady, "steady_state_median_ttft_ms": float(pt.ttft_steady_median_s[i]) * 1e3,
                        "startup_mean_ttft_ms": ttft[0] - steady})
        if breakdown:
            row.update(_breakdown(dep, b, input_tokens + output_tokens / 2.0))
        out.append(row)
    return out


def engine_for(engine: EngineConfig, name: str, gpu_memory_bytes: float, version: str | None = None) -> EngineConfig:
    """The engine's scheduler settings (_scheduler) at `version` (None: the newest the data covers)
    with that version's serving path (catalog.serving_path: frontend, CPU per prompt token, output
    one step late where the engine overlaps)."""
    e = _scheduler(engine, name, gpu_memory_bytes)
    path = serving_path(name, version)
    return replace(e, engine_version=path.version, frontend_s=path.frontend_s, cpu_s_per_input_token=path.cpu_s_per_input_token,
                   output_delay_steps=path.output_delay_steps,
                   sources={**e.sources, **{f"serving_path.{k}": v for k, v in path.sources.items()}})


def _scheduler(engine: EngineConfig, name: str, gpu_memory_bytes: float) -> EngineConfig:
    """The engine's scheduler settings: vLLM as in moeprof/data/engine.json; SGLang's where they
    differ (its `sglang` section: chunked prefill size by GPU-memory tier, CUDA-graph batch sizes,
    no host time per step under the overlap scheduler, prompts in prefill steps of their own), each
    with its source."""
    if name == "vllm":
        return engine
    if name != "sglang":
        raise MoeprofError(f"unknown engine {name!r} (known: vllm, sglang)")
    sg = sglang_scheduler()
    return replace(engine, engine="sglang", engine_version=sg.engine_version, max_num_batched_tokens=sg.chunked_prefill_tokens(gpu_memory_bytes),
                   cuda_graph_capture_sizes=sg.cuda_graph_capture_sizes, host_overhead_s_per_step=sg.host_overhead_s_per_step,
                   prefill_apart=sg.prefill_apart, sources={**engine.sources, **sg.sources})
