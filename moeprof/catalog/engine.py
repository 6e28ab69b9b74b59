"""Serving-engine settings (moeprof/data/engine.json): memory accounting defaults of the pinned
engine version, each with its source."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from ..errors import ConfigError
from .values import data_path, read_data_json, sourced


@dataclass(frozen=True)
class EngineConfig:
    """Serving-engine memory settings (vLLM defaults from moeprof/data/engine.json)."""

    engine: str
    engine_version: str
    gpu_memory_utilization: float
    max_num_batched_tokens: int
    max_num_seqs: int
    block_size_tokens: int
    non_torch_bytes_single_gpu: float
    non_torch_bytes_multi_gpu: float
    cuda_graph_bytes: float
    sampler_bytes_per_seq_per_vocab: float  # fitted from published peaks, see load_engine()
    live_hidden_tensors: int
    activation_bytes_per_element: float
    sources: dict
    cuda_graph_capture_sizes: tuple[int, ...] = ()
    host_overhead_s_per_step: float = 0.0
    kv_capped_kinds: tuple[str, ...] = ("sliding",)  # attention kinds whose KV stops at the span
    # the serving path of catalog.serving_path (0: none; deployment.evaluate.engine_for sets them)
    frontend_s: float = 0.0
    cpu_s_per_input_token: float = 0.0
    output_delay_steps: float = 0.0
    # the fused MoE kernel of MXFP4 experts where the engine has a choice ("": its default; "marlin":
    # vLLM with VLLM_MXFP4_USE_MARLIN=1 on Hopper)
    mxfp4_moe_kernel: str = ""
    # prompts run in prefill steps of their own while the decodes wait (SGLang without
    # --enable-mixed-chunk); False: they ride in the decode steps (vLLM V1's chunked prefill)
    prefill_apart: bool = False


def capped_kinds_from(h: dict) -> tuple[str, ...]:
    """Attention kinds whose KV the engine caps at the span, from engine.json `hybrid_kv_cache`."""
    return tuple(k for k, key in (("sliding", "caps_sliding_window"), ("chunked", "caps_chunked_local")) if h[key])


def default_capped_kinds() -> tuple[str, ...]:
    return _base_engine().kv_capped_kinds


@lru_cache(maxsize=1)
def _base_engine() -> EngineConfig:
    d = read_data_json("engine.json")
    path = data_path("engine.json")
    # Least-squares fit through the origin of peak = c x (max_num_seqs x vocab): one coefficient
    # over all published observations (bytes per sequence per vocab entry).
    obs = d["sampler_peak_observations"]["rows"]
    xs = [r["max_num_seqs"] * r["vocab_size"] for r in obs]
    ys = [r["peak_activation_bytes"] for r in obs]
    c = sum(x * y for x, y in zip(xs, ys)) / sum(x * x for x in xs)
    vals: dict[str, Any] = {
        k: sourced(d.get(k), path, k)[0]
        for k in (
            "gpu_memory_utilization",
            "max_num_batched_tokens",
            "max_num_seqs",
            "block_size_tokens",
            "non_torch_bytes_single_gpu",
            "non_torch_bytes_multi_gpu",
            "cuda_graph_bytes",
        )
    }
    sources = {k: sourced(d.get(k), path, k)[1] for k in vals}
    sources["sampler_bytes_per_seq_per_vocab"] = d["sampler_peak_observations"]["source"]
    sources["forward_activation"] = d["forward_activation"]["source"]
    caps = d.get("cuda_graph_capture_sizes") or {}
    sizes = caps.get("value") or []
    if not isinstance(sizes, list) or not all(isinstance(x, int) and not isinstance(x, bool) and x > 0 for x in sizes):
        raise ConfigError(path, "cuda_graph_capture_sizes.value", "expected a list of positive integers")
    sources["cuda_graph_capture_sizes"] = str(caps.get("source", ""))
    hybrid = d.get("hybrid_kv_cache")
    if not isinstance(hybrid, dict) or not all(isinstance(hybrid.get(k), bool) for k in ("caps_sliding_window", "caps_chunked_local")):
        raise ConfigError(path, "hybrid_kv_cache", "expected {caps_sliding_window, caps_chunked_local: true|false, source}")
    sources["hybrid_kv_cache"] = str(hybrid.get("source", ""))
    host, sources["host_overhead_s_per_step"], _ = sourced(d.get("host_overhead_s_per_step"), path, "host_overhead_s_per_step", positive=False)
    cfg = EngineConfig(
        engine=d["engine"],
        engine_version=d["engine_version"],
        sampler_bytes_per_seq_per_vocab=c,
        live_hidden_tensors=d["forward_activation"]["live_hidden_tensors"],
        activation_bytes_per_element=d["forward_activation"]["activation_bytes_per_element"],
        sources=sources,
        cuda_graph_capture_sizes=tuple(sorted(sizes)),
        host_overhead_s_per_step=float(host),
        kv_capped_kinds=capped_kinds_from(hybrid),
        **vals,
    )
    return cfg


@dataclass(frozen=True)
class SglangScheduler:
    """SGLang's scheduler settings where they differ from vLLM's (engine.json `sglang`)."""

    engine_version: str
    chunk_tiers: tuple[tuple[float | None, int], ...]  # (GPU memory below which, chunked prefill tokens); None: the rest
    cuda_graph_capture_sizes: tuple[int, ...]
    host_overhead_s_per_step: float
    prefill_apart: bool
    sources: dict

    def chunked_prefill_tokens(self, gpu_memory_bytes: float) -> int:
        for below, tokens in self.chunk_tiers:
            if below is None or gpu_memory_bytes < below:
                return tokens
        raise ConfigError(data_path("engine.json"), "sglang.chunked_prefill_size_tokens.tiers", "the last tier needs below_gpu_memory_bytes null")


@lru_cache(maxsize=1)
def sglang_scheduler() -> SglangScheduler:
    path = data_path("engine.json")
    d = read_data_json("engine.json").get("sglang")
    if not isinstance(d, dict):
        raise ConfigError(path, "sglang", "expected an object with SGLang's scheduler settings")
    chunk = d.get("chunked_prefill_size_tokens") or {}
    tiers = []
    for i, t in enumerate(chunk.get("tiers") or []):
        below, tokens = t.get("below_gpu_memory_bytes"), t.get("value")
        if not (isinstance(tokens, int) and tokens > 0 and (below is None or (isinstance(below, (int, float)) and below > 0))):
            raise ConfigError(path, f"sglang.chunked_prefill_size_tokens.tiers[{i}]", "expected {below_gpu_memory_bytes: bytes or null, value: tokens}")
        tiers.append((None if below is None else float(below), tokens))
    if not tiers or tiers[-1][0] is not None:
        raise ConfigError(path, "sglang.chunked_prefill_size_tokens.tiers", "expected tiers ending with below_gpu_memory_bytes null")
    sizes = (d.get("cuda_graph_capture_sizes") or {}).get("value")
    if not isinstance(sizes, list) or not sizes or not all(isinstance(x, int) and not isinstance(x, bool) and x > 0 for x in sizes):
        raise ConfigError(path, "sglang.cuda_graph_capture_sizes.value", "expected a list of positive integers")
    host, host_src, _ = sourced(d.get("host_overhead_s_per_step"), path, "sglang.host_overhead_s_per_step", positive=False)
    apart = d.get("prefill_apart") or {}
    if not isinstance(apart.get("value"), bool):
        raise ConfigError(path, "sglang.prefill_apart.value", "expected true or false")
    return SglangScheduler(
        engine_version=str(d.get("engine_version", "")),
        chunk_tiers=tuple(tiers),
        cuda_graph_capture_sizes=tuple(sorted(sizes)),
        host_overhead_s_per_step=float(host),
        sources={"max_num_batched_tokens": str(chunk.get("source", "")),
                 "cuda_graph_capture_sizes": str(d["cuda_graph_capture_sizes"].get("source", "")),
                 "host_overhead_s_per_step": host_src, "prefill_apart": str(apart.get("source", ""))},
        prefill_apart=apart["value"],
    )


def load_engine(**overrides) -> EngineConfig:
    """The engine settings of moeprof/data/engine.json, with `overrides` (None keeps the default)."""
    cfg = _base_engine()
    for k, v in overrides.items():
        if v is not None:
            cfg = replace(cfg, **{k: v})
    return cfg
