"""Probe suite: measure the GPU at hand (CUDA, ROCm or CPU) and write a profile.

Modules, one probe each: ceilings (copy bandwidth, peak GEMM, kernel overhead), gemm
(efficiency vs M at the model's shapes), moe (MoE layer forward), attention (decode and
prefill), kv_cache (memory growth vs the memory model), energy (J/FLOP, J/byte), collectives
(all-reduce / all-to-all under torch.distributed). suite runs them; fit turns rows into curves;
validate / predict compare a profile with the model.

torch is an optional extra: only the probe modules import it, never this package's __init__
(settings, shapes, fit, predict and validate are torch-free)."""

from .settings import PROBES, ProbeSettings

__all__ = ["PROBES", "ProbeSettings"]
