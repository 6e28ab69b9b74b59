"""A serving benchmark record (calibrate.bench_record.BenchRecord) as the deployment `evaluate`
models, and the figures it publishes that the model predicts.

Models: a record's Hugging Face id maps to a moeprof model (a catalog name or a shipped config of
moeprof/data/benchmarks/configs) and the recipe of its checkpoint; a record whose model is not
mapped may name a catalog model directly (`moeprof calibrate --model scout`) or a config.json path.
Lengths: the benchmark client's mean (uniform over [r L, L] for a random range ratio r).
Measured figures (`measured`): throughput per GPU (output tokens/s per GPU, or input + output where
only that is published), tokens/s per user (1000 / median TPOT, or the published median
interactivity) and TTFT (median, else mean).
"""

from __future__ import annotations

import dataclasses
from importlib import resources
from pathlib import Path

from ..catalog.engine import load_engine
from ..catalog.hardware.vms import get_gpu
from ..catalog.models import load_model
from ..catalog.serving_path import parse_version, version_text
from ..deployment.evaluate import Deployment, bare_host, engine_for
from ..perf import resolve_profile

_CONFIGS = "data/benchmarks/configs"
# HF repository of a record -> a moeprof model (catalog name or shipped config) and the recipe of
# its checkpoint (None: the model's default, read from its quantization_config).
MODELS = {
    "meta-llama/Llama-4-Scout-17B-16E-Instruct": ("scout", "bf16"),
    "meta-llama/Llama-4-Maverick-17B-128E-Instruct": ("maverick", "bf16"),
    "meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8": ("maverick", "fp8-experts"),
    "nvidia/Llama-3.3-70B-Instruct-FP8": ("config:llama-3.3-70b-instruct.json", "fp8"),
    "amd/Llama-3.3-70B-Instruct-FP8-KV": ("config:llama-3.3-70b-instruct.json", "fp8"),
    "meta-llama/Llama-3.1-405B-Instruct": ("config:llama-3.1-405b-instruct.json", "bf16"),
    "deepseek-ai/DeepSeek-R1-0528": ("deepseek-r1", None),
    "deepseek-ai/DeepSeek-R1": ("deepseek-r1", None),  # the same architecture and FP8 checkpoint layout as -0528
    "deepseek-ai/DeepSeek-V3": ("deepseek-v3", None),
    "openai/gpt-oss-120b": ("gpt-oss-120b", None),
}
VENDOR = {"h100-sxm-80gb": "NVIDIA", "h200-sxm-141gb": "NVIDIA", "mi300x-192gb": "AMD", "mi325x-256gb": "AMD"}
ENGINES = ("vllm", "sglang")


def configs_dir() -> Path:
    return Path(str(resources.files("moeprof") / _CONFIGS))


def model_ref(name: str) -> tuple[str, str | None]:
    """(load_model argument, recipe or None) of a record's model: a mapped Hugging Face id, else
    the name itself (a catalog model or a config.json path) with its default recipe."""
    ref, quant = MODELS.get(name, (name, None))
    if ref.startswith("config:"):
        ref = str(configs_dir() / ref[len("config:"):])
    return ref, quant


def mean_length(tokens: int, range_ratio) -> float:
    """Mean of the benchmark client's lengths: uniform over [r L, L] for a random range ratio r."""
    r = 1.0 if range_ratio is None else float(range_ratio)
    return tokens * (1.0 + r) / 2.0


def fixed_lengths(rec) -> bool:
    """Whether every request of the run had the nominal lengths: a random dataset whose range ratio
    is 1 (lengths uniform over [L, L]) or not given (vllm bench serve's random dataset draws
    --random-range-ratio 0: one length). The closed-loop clients' waves then persist (moeprof.arrivals.waves)."""
    if rec.range_ratio is not None:
        return float(rec.range_ratio) >= 1.0
    ds = str(rec.dataset or "").lower()
    return ("random" in ds or "fixed" in ds) and "sharegpt" not in ds


def skip_reason(rec, known_models_only: bool = True) -> str | None:
    """Why a record is not one `evaluate` can model, or None."""
    if rec.engine not in ENGINES:
        return f"engine {rec.engine} not modelled"
    if "concurrency" not in rec.load and "request_rate_rps" not in rec.load:
        return "not a fixed-concurrency or fixed-rate serving run"
    if not rec.input_tokens or not rec.output_tokens:
        return "lengths not published"
    if rec.spec_decode:
        return "speculative decoding not modelled"
    if known_models_only and rec.model not in MODELS:
        return f"model {rec.model} not mapped"
    if rec.gpu not in VENDOR:
        return f"GPU {rec.gpu} not in the catalog"
    return None


def record_version(rec) -> str | None:
    """The engine version a record names (normalised), or None where it names none ('gpt-oss-dev',
    'main @ 2025-04-15': the model then takes the newest the data covers)."""
    v = parse_version(rec.engine_version)
    return None if v is None else version_text(v)


def load_of(rec) -> tuple[str, float]:
    """(evaluate's load kind, its value over the whole deployment)."""
    if "concurrency" in rec.load:
        return "concurrency", float(rec.load["concurrency"])
    return "qps", float(rec.load["request_rate_rps"])


def mxfp4_moe_kernel(rec) -> str:
    """The MoE kernel a run's MXFP4 experts ran ("": the engine's default): vLLM's Marlin where the
    server set VLLM_MXFP4_USE_MARLIN=1 (engine_env, as published)."""
    if rec.engine == "vllm" and rec.engine_env.get("VLLM_MXFP4_USE_MARLIN", "0").strip().lower() in ("1", "true"):
        return "marlin"
    return ""


def deployment(rec, calibration=None, profile=None):
    """(Deployment, mean input tokens, mean output tokens) of a record's run; raises MoeprofError.
    `profile`: a loaded Profile for the record's GPU, else the GPU's shipped one."""
    name, quant = model_ref(rec.model)
    model = load_model(name)
    gpu = get_gpu(rec.gpu)
    vm, hosts = bare_host(gpu, rec.num_gpus)
    engine = engine_for(load_engine(), rec.engine, gpu.usable_memory_bytes, record_version(rec))
    engine = dataclasses.replace(engine, mxfp4_moe_kernel=mxfp4_moe_kernel(rec))
    ep = rec.tp if (rec.ep or 1) > 1 else 1
    kv = "fp8" if str(rec.kv_cache_dtype or "").startswith("fp8") else "bf16"
    prof = profile if profile is not None and profile.gpu == gpu.key else resolve_profile(gpu, None)
    dep = Deployment(model, vm, hosts, rec.tp, ep, rec.pp or 1, quant or model.default_quant, kv, engine,
                     prof, calibration=calibration)
    return dep, round(mean_length(rec.input_tokens, rec.range_ratio)), round(mean_length(rec.output_tokens, rec.range_ratio))


# A run's throughput over its duration is a steady-state figure only while the start-up (the
# first requests' excess TTFT: kernel compilation, warm-up) is a small part of it. The SGLang
# cookbook's MI300X runs at concurrency 1 spent 56 % of their 75 s in one 48 s first request
# (mean TTFT 4,247 ms, median 69 ms); every vLLM or SGLang run besides publishes under 5 %.
STARTUP_SHARE_MAX = 0.10


def startup_share(rec) -> float:
    """The share of a closed-loop run's time that its start-up took: (mean - median TTFT) / mean
    end-to-end latency (each client runs N / C requests back to back); 0 where not published."""
    m = rec.metrics
    mean, med, e2el = m.get("mean_ttft_ms"), m.get("median_ttft_ms"), m.get("mean_e2el_ms")
    if not (mean and med and e2el) or e2el <= 0:
        return 0.0
    return max(0.0, (mean - med) / e2el)


def measured(rec) -> dict:
    """The published figures the model predicts: tput (output tokens/s per GPU) or tput_total
    (input + output per GPU), user (tokens/s per user), ttft_ms (median, else mean). A run whose
    start-up took more than STARTUP_SHARE_MAX of its time publishes no steady-state throughput:
    only its medians are used."""
    m = rec.metrics
    out = {}
    if "output_throughput_per_gpu_tok_s" in m:
        out["tput"] = m["output_throughput_per_gpu_tok_s"]
    elif "output_throughput_tok_s" in m:
        out["tput"] = m["output_throughput_tok_s"] / rec.num_gpus
    elif "total_token_throughput_per_gpu_tok_s" in m:  # input + output tokens (InferenceMAX charts)
        out["tput_total"] = m["total_token_throughput_per_gpu_tok_s"]
    if m.get("median_tpot_ms"):
        out["user"] = 1000.0 / m["median_tpot_ms"]
    elif "median_tokens_per_s_per_user" in m:
        out["user"] = m["median_tokens_per_s_per_user"]
    if m.get("median_ttft_ms"):
        out["ttft_ms"] = m["median_ttft_ms"]
    elif m.get("mean_ttft_ms"):
        out["ttft_ms"] = m["mean_ttft_ms"]
    if startup_share(rec) > STARTUP_SHARE_MAX:
        out.pop("tput", None)
        out.pop("tput_total", None)
    return {k: v for k, v in out.items() if v > 0}
