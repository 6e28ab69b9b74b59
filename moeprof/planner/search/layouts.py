"""Stage 1 of the search: parallel layouts of a model on each VM SKU, and their memory verdicts.

One row per (SKU, TP x EP x PP layout, quantization, KV dtype, max batch). The layouts: TP within a
VM x EP (1 or TP) x PP, and wide EP across VMs (memory.Parallelism: ep / tp attention data-parallel
groups, experts over ep GPUs of 2, 4 or 8 VMs; max batch is per group, as each group's engine
schedules its own sequences). The verdict of each
row comes from moeprof.memory (one wording, with a typed kind); the max batch changes the
engine's activation peak (its sampler pass scales with max_num_seqs) and so the KV budget.
"""

from __future__ import annotations

from dataclasses import replace

from ...catalog.hardware.vms import VmSpec
from ...catalog.models import ModelSpec
from ...catalog.models.quant import load_recipes
from ...deployment.replicas import vms_per_replica
from ...memory import (
    Parallelism,
    activation_peak_bytes,
    batch_memory_verdict,
    check_parallelism,
    kv_bytes_for_sequence,
    max_context_for_budget,
    memory_per_gpu,
)
from ..document.targets import SearchSpace, Targets

MAX_BATCH_OPTIONS = (16, 32, 64, 128, 256, 512, 1024)
TP_OPTIONS = (1, 2, 4, 8)
PP_OPTIONS = (1, 2, 4)
WIDE_EP_VMS = (2, 4, 8)  # VMs a wide-EP replica spans
MAX_EP = 64  # the widest expert parallelism searched (the bound; DeepEP publishes EP16-EP64 internode figures)


def wide_ep_layouts(model: ModelSpec, vm: VmSpec, max_vms: int):
    """Wide EP across VMs, pp = 1, the experts over ep = WIDE_EP_VMS x the VM's GPUs (EP up to 64
    on 8-GPU VMs) and attention either data parallel on every GPU (tp = 1, DP attention as SGLang
    runs DeepSeek with DeepEP) or TP over the VM (tp = its GPUs, one group per VM, as vLLM's
    TP-within-node x EP-across-nodes): the two ends, to keep the search small."""
    for n in WIDE_EP_VMS:
        ep = n * vm.gpus_per_vm
        if n > max_vms or ep > MAX_EP:
            continue
        for tp in sorted({1, vm.gpus_per_vm}):
            par = Parallelism(tp=tp, ep=ep, pp=1)
            if check_parallelism(model, par) is None:
                yield par


def layouts(model: ModelSpec, vm: VmSpec, max_vms: int):
    """Every TP x EP x PP layout of the model that one SKU can host with at most max_vms VMs,
    then the wide-EP layouts across VMs."""
    yield from _scale_up_layouts(model, vm, max_vms)
    yield from wide_ep_layouts(model, vm, max_vms)


def _scale_up_layouts(model: ModelSpec, vm: VmSpec, max_vms: int):
    for tp in TP_OPTIONS:
        if tp > vm.gpus_per_vm:
            continue
        for pp in PP_OPTIONS:
            if tp * pp > vm.gpus_per_vm * max_vms:
                continue
            if tp * pp > vm.gpus_per_vm and (tp * pp) % vm.gpus_per_vm:
                continue
            for ep in sorted({1, tp}):
                par = Parallelism(tp=tp, ep=ep, pp=pp)
                if check_parallelism(model, par) is None:
                    yield par


def memory_rows(model: ModelSpec, vms: dict[str, VmSpec], targets: Targets, space: SearchSpace, engine,
                recipes: dict | None = None) -> list[dict]:
    """One row per (sku, layout, quant, kv dtype, max batch) with its memory verdict
    (`memory_kind` '' when it fits, `memory_reason` the one-line why not). `recipes`: the model's
    (catalog.models.quant.load_recipes; None: loaded here)."""
    recipes = recipes if recipes is not None else load_recipes(model)
    quants = space.quants or tuple(recipes)
    engines = {b: replace(engine, max_num_seqs=b) for b in MAX_BATCH_OPTIONS}
    rows = []
    seq_tokens = targets.input_tokens + targets.output_tokens
    for sku, vm in vms.items():
        for par in layouts(model, vm, space.max_vms):
            n_vms = vms_per_replica(par.gpus, vm.gpus_per_vm)
            base_act, _ = activation_peak_bytes(model, par, engine)  # depends on the layout and max batch only
            acts = {b: activation_peak_bytes(model, par, engines[b])[0] for b in MAX_BATCH_OPTIONS}
            for qn in quants:
                q = recipes[qn]
                if q.uses_fp8 and not vm.gpu.supports_fp8:
                    continue
                for kv in space.kv_dtypes:
                    m = memory_per_gpu(model, vm, n_vms, par, q, kv, engine, None)
                    per_kind = m.kv_bytes_per_token_per_gpu_by_kind
                    seq_bytes = kv_bytes_for_sequence(model, per_kind, seq_tokens, engine.kv_capped_kinds)
                    for b in MAX_BATCH_OPTIONS:
                        act = acts[b]
                        overhead = m.overhead_bytes_per_gpu - base_act + act
                        kv_budget = m.kv_budget_bytes_per_gpu + base_act - act
                        max_ctx = min(max_context_for_budget(model, per_kind, max(kv_budget, 0.0), engine.kv_capped_kinds), model.max_position_embeddings)
                        seqs_fit = int(max(kv_budget, 0.0) // seq_bytes) if seq_bytes else 0
                        verdict = batch_memory_verdict(
                            m.weights_bytes_per_gpu, overhead, m.budget_bytes_per_gpu, kv_budget, max_ctx,
                            targets.context_tokens, seqs_fit, seq_tokens, b, model.max_position_embeddings,
                        )
                        rows.append(
                            dict(
                                sku=sku,
                                gpu=vm.gpu.key,
                                tp=par.tp,
                                ep=par.ep,
                                pp=par.pp,
                                quant=qn,
                                kv_dtype=kv,
                                max_batch=b,
                                gpus_per_replica=par.gpus,
                                vms_per_replica=n_vms,
                                weights_bytes_per_gpu=m.weights_bytes_per_gpu,
                                kv_budget_bytes_per_gpu=kv_budget,
                                overhead_bytes_per_gpu=overhead,
                                kv_bytes_per_token_per_gpu=m.kv_bytes_per_token_per_gpu,
                                max_context_tokens=max_ctx,
                                memory_kind=verdict.kind,
                                memory_reason=verdict.reason,
                            )
                        )
    return rows
