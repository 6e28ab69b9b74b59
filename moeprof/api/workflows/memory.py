"""Per-GPU memory of one deployment, as `moeprof memory` and `moeprof.memory()` compute it."""

from __future__ import annotations

from dataclasses import dataclass

from ...catalog.hardware.vms import VmSpec, get_vm, load_vms
from ...catalog.models import ModelSpec, load_model
from ...catalog.models.quant import get_recipe
from ...memory import EngineConfig, MemoryResult, Parallelism, load_engine, memory_per_gpu


@dataclass
class MemoryRun:
    """One deployment's memory per GPU with what it was computed for."""

    result: MemoryResult
    engine: EngineConfig
    model: ModelSpec
    vm: VmSpec


def memory_run(model_name, sku, vms, quant, kv_dtype, tp, ep, pp, context, gpu_memory_utilization,
               vm_file) -> MemoryRun:
    """The memory of one deployment for the options of `moeprof memory`. Default
    parallelism: TP over the VM's GPUs, one replica per VM."""
    model = load_model(model_name)
    vm = get_vm(sku, load_vms(vm_file))
    recipe = get_recipe(quant or model.default_quant, model)
    par = Parallelism(tp=tp or vm.gpus_per_vm, ep=ep or 1, pp=pp)
    engine = load_engine(gpu_memory_utilization=gpu_memory_utilization)
    result = memory_per_gpu(model, vm, vms, par, recipe, kv_dtype or model.default_kv_dtype, engine, context)
    return MemoryRun(result, engine, model, vm)
