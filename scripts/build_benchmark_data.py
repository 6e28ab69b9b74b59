"""Build moeprof/data/benchmarks/*.json from a collected records file (one JSON object with a
"records" list, values as published, times in seconds where the source gives seconds).

    python scripts/build_benchmark_data.py COLLECTED_RECORDS.json [OUT_DIR]

Each output file holds one source: its citation, the notes its records share, and the records
in the schema moeprof.calibrate.benchmarks reads (metric names carry units; times in ms; the
split rule of moeprof/data/benchmarks/README.md applied). Values are copied, never derived,
except the seconds-to-milliseconds conversion, which each converted record's notes state."""

from __future__ import annotations

import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

from moeprof.calibrate.bench_record import split_of

RETRIEVED = "2026-11-30"
TIME_METRICS = ("ttft", "tpot", "itl", "e2el")
STATS = ("mean", "median", "std", "p90", "p95", "p99", "p99.9")

# file name -> (substring of the record's source url, file-level source entry)
SOURCES = {
    "inferencemax_web_2025-10.json": ("leoshan/inference-max-automated-pipeline", {
        "title": "InferenceMAX website chart data (SemiAnalysis), snapshot 2025-10-25, archived in leoshan/inference-max-automated-pipeline @026458ab",
        "url": "https://github.com/leoshan/inference-max-automated-pipeline/tree/026458abbe7411fc0ba4f7f139553a8a18d9ca22/json_data/raw_json_files",
        "license": "not stated in the archive; measurements cited with attribution",
        "notes": (
            "Chart JSON published at https://inferencemax.semianalysis.com/data/inference-performance/<model>-<isl_osl>-{e2e,interactivity}.json; e2e and "
            "interactivity points joined on (hardware, precision, tp, concurrency). The chart data has no engine field: engine, image and server flags are "
            "taken from SemiAnalysisAI/InferenceX workflow templates @ac1998a5 (2025-10-20). Values rounded to 3 decimals by the site. Client: random "
            "prompts, range ratio 0.8, num_prompts = 10 x concurrency, ignore_eos."
        ),
    }),
    "inferencex_2025-12.json": ("gminneci/mantile", {
        "title": "InferenceX GitHub Actions artifacts (agg_bmk.json), Dec 2025 - Jan 2026, archived in gminneci/mantile @72ff84eb",
        "url": "https://github.com/gminneci/mantile/tree/72ff84eb/reconcile/sources/inferencemax/raw",
        "license": "not stated in the archive; measurements cited with attribution",
        "notes": (
            "Original runs: https://github.com/SemiAnalysisAI/InferenceX/actions/runs/<run id> (cited per record). Per (hardware, model, engine, ISL/OSL, "
            "TP, EP, DP-attention) the run with the most concurrency points was taken. Times published in seconds."
        ),
    }),
    "inferencex_app_fixture_vngcloud.json": ("vngcloud/InferenceX-app", {
        "title": "InferenceX app API fixture, vngcloud/InferenceX-app @7fe6d62a packages/app/cypress/fixtures/api/benchmarks.json",
        "url": "https://github.com/vngcloud/InferenceX-app/blob/7fe6d62ad57a3df061be692e86578c7111d880c7/packages/app/cypress/fixtures/api/benchmarks.json",
        "license": "not stated in the fixture; measurements cited with attribution",
        "notes": (
            "One row per (configuration, ISL/OSL, concurrency): dates and images can differ between the concurrency points of a sweep; each row's run URL is "
            "quoted in its notes. Rows with MTP speculative decoding are marked spec_decode. Times published in seconds."
        ),
    }),
    "inferencex_app_fixture_mi355x.json": ("SemiAnalysisAI/InferenceX-app", {
        "title": "SemiAnalysisAI/InferenceX-app API fixtures @3a600f1 (benchmarks.json, benchmarks-history.json)",
        "url": "https://github.com/SemiAnalysisAI/InferenceX-app",
        "license": "not checked; measurements cited with attribution",
        "notes": "DeepSeek-R1-0528 MXFP4 with SGLang on MI355X. Times published in seconds.",
    }),
    "trtllm_perf_overview_v1.json": ("00f37686aa854010d68bcbd0f4ab000221541ca6", {
        "title": "TensorRT-LLM docs: Performance Overview (docs/source/performance/perf-overview.md @00f37686, v1.0 era)",
        "url": "https://github.com/NVIDIA/TensorRT-LLM/blob/00f37686aa854010d68bcbd0f4ab000221541ca6/docs/source/performance/perf-overview.md",
        "license": "Apache-2.0 (repository licence)",
        "notes": "Offline trtllm-bench max-throughput runs; the metric is total output tokens/s of the whole TP group. No latency metrics.",
    }),
    "trtllm_perf_overview_devguide.json": ("03e27c7d5ff0c6e89f8328838c0a8e64f1b34f9d", {
        "title": "TensorRT-LLM docs: Performance Overview (docs/source/developer-guide/perf-overview.md @03e27c7d)",
        "url": "https://github.com/NVIDIA/TensorRT-LLM/blob/03e27c7d5ff0c6e89f8328838c0a8e64f1b34f9d/docs/source/developer-guide/perf-overview.md",
        "license": "Apache-2.0 (repository licence)",
        "notes": "Offline trtllm-bench max-throughput runs; the metric is output tokens/s per GPU. No latency metrics.",
    }),
    "oci_blog_2024-10_mi300x.json": ("blogs.oracle.com", {
        "title": "Oracle OCI blog: Serving Llama 3.1 405B model with AMD Instinct MI300X Accelerators (2024-10-10)",
        "url": "https://blogs.oracle.com/cloud-infrastructure/post/serving-llama-31-405b-model-with-amd-mi300x-gpus",
        "license": "not checked; measurements cited with attribution",
        "notes": "vLLM benchmark_latency (static batches, not continuous batching) and benchmark_throughput. Latencies published in seconds.",
    }),
    "vultr_cookbook_mi325x.json": ("docs.vultr.com", {
        "title": "Vultr Inference Cookbook (ROCm): Llama 3.1 405B on 8x MI325X (model guide and validation testing pages)",
        "url": "https://docs.vultr.com/inference-cookbook/rocm/benchmarks/validation-testing/llama-3-1",
        "license": "not checked; measurements cited with attribution",
        "notes": (
            "Also https://docs.vultr.com/inference-cookbook/rocm/model-guides/llama-3-1-405b. Prompt and output lengths are not published and 'Throughput' "
            "is not defined, so these records are kept out of fit and validation."
        ),
    }),
    "vllm_pr47276.json": ("vllm/pull/47276", {
        "title": "vLLM PR #47276 (DeepSeek-V3 family on MI300X, TP8, v0.23.0 vs the PR branch)",
        "url": "https://github.com/vllm-project/vllm/pull/47276",
        "license": "Apache-2.0 repository; PR text cited with attribution",
        "notes": "Numbers from the PR description; exact checkpoint not stated ('DSv3').",
    }),
    "vllm_pr16727.json": ("vllm/pull/16727", {
        "title": "vLLM PR #16727 (Llama 4 Maverick FP8 on ROCm, offline)",
        "url": "https://github.com/vllm-project/vllm/pull/16727",
        "license": "Apache-2.0 repository; PR text cited with attribution",
        "notes": "GPU not stated in the PR text; MI300X assumed (ROCm PR).",
    }),
    "vllm_pr16674.json": ("vllm/pull/16674", {
        "title": "vLLM PR #16674 (Llama 4 Scout BF16 on ROCm, eager)",
        "url": "https://github.com/vllm-project/vllm/pull/16674",
        "license": "Apache-2.0 repository; PR text cited with attribution",
        "notes": "GPU not stated in the PR text; MI300X assumed (ROCm PR). Ran without --ignore-eos.",
    }),
    "embeddedllm_vllm_issue47.json": ("EmbeddedLLM/vllm/issues/47", {
        "title": "EmbeddedLLM/vllm issue #47 (Llama 4 Maverick BF16 with and without AITER MoE)",
        "url": "https://github.com/EmbeddedLLM/vllm/issues/47",
        "license": "not checked; issue text cited with attribution",
        "notes": "GPU assumed MI300X; concurrency / request rate not stated.",
    }),
    "dstack_deepseek_r1_2025-03.json": ("dstackai/benchmarks", {
        "title": (
            "dstack: DeepSeek R1 inference performance, MI300X vs. H200 (blog 2025-03-18); raw results in dstackai/benchmarks @7f37e669 Deepseek-R1/raw_data"
        ),
        "url": "https://github.com/dstackai/benchmarks/tree/7f37e6697725e58dd09b9ef190b62ce19f01d45e/Deepseek-R1",
        "license": "not checked; measurements cited with attribution",
        "notes": (
            "Blog: https://dstack.ai/blog/h200-mi300x-deepskeek-benchmark (numbers only in charts there; the records come from the CSV files of the linked "
            "repository). Engine versions and launch commands from Deepseek-R1/README.md at the same commit. Online: SGLang bench_serving (dstack copy), "
            "random 3200 in / 800-6400 out, range ratio 1 (fixed lengths), 500 prompts, max concurrency 4-128. Offline: vLLM benchmark_throughput (dstack "
            "copy) with N prompts submitted at once. Prefix-cache runs (generated-shared-prefix dataset) left out. Times published in seconds where noted."
        ),
    }),
    "sgl_cookbook_mi300x.json": ("sgl-project/sgl-cookbook", {
        "title": "SGLang cookbook (sgl-project/sgl-cookbook): Llama 4 and DeepSeek-V3 speed benchmarks on 8x MI300X",
        "url": "https://github.com/sgl-project/sgl-cookbook",
        "license": "repository licence not checked; benchmark output cited with attribution",
        "notes": (
            "Raw sglang.bench_serving output blocks from docs/autoregressive/Llama/Llama4-Scout.md @c4a9b664 (SGLang 0.5.7) and "
            "docs/autoregressive/DeepSeek/DeepSeek-V3.md @0e5d0fee (SGLang 0.5.7)."
        ),
    }),
    "inferencex_pr3318_mi325x.json": ("InferenceX/pull/3318", {
        "title": "SemiAnalysisAI/InferenceX PR #3318: baseline table of dsr1-fp8-mi325x-sglang (lmsysorg/sglang:v0.5.19-rocm700-mi30x, published 2026-09-10)",
        "url": "https://github.com/SemiAnalysisAI/InferenceX/pull/3318",
        "license": "repository licence (Apache-2.0) not checked for PR text; measurements cited with attribution",
        "notes": (
            "PR description table frozen from the public InferenceX API (benchmarks?model=DeepSeek-R1-0528&date=2026-09-10). Mean latencies only. Same "
            "benchmark harness as the other InferenceX files, newer image."
        ),
    }),
    "vllm_recipes_deepseek_amd_2025-08.json": ("vllm-project/recipes", {
        "title": "vllm-project/recipes: DeepSeek/AMD_GPU/README.md @cbb075bc (2025-08-07), DeepSeek-R1 on 8x MI300X",
        "url": "https://github.com/vllm-project/recipes/blob/cbb075bc97ee792159824303c4eaa36d34375b49/DeepSeek/AMD_GPU/README.md",
        "license": "Apache-2.0 (repository licence)",
        "notes": "One benchmark_serving.py output block; image rocm/vllm:latest (tag not pinned).",
    }),
    "amd_rocm_performance_results_mi300x.json": ("rocm-hub/dev-ai/performance-results", {
        "title": (
            "AMD ROCm AI developer hub: Performance results (vLLM throughput tables on 8x MI300X), three snapshots (rocm/vllm images of 2025-09-09, "
            "2025-10-06, 2025-11-03)"
        ),
        "url": "https://www.amd.com/en/developer/resources/rocm-hub/dev-ai/performance-results.html",
        "license": "not checked; measurements cited with attribution",
        "notes": (
            "Stored copies of the page under several locale paths (fr, zh-cn, ja) show different snapshots; each record cites the copy its numbers come "
            "from. 'Throughput (tokens/s)' at an infinite request rate with num_prompts == max_num_seqs: a single-wave max-load run; whether input tokens "
            "are counted is not stated."
        ),
    }),
    "gpustack_performance_lab.json": ("gpustack/gpustack", {
        "title": "GPUStack performance lab (gpustack/gpustack docs/performance-lab @1f37f1b8): DeepSeek-R1-0528 on 8x H200, gpt-oss-120b on H100",
        "url": "https://github.com/gpustack/gpustack/tree/1f37f1b8bd79c6b424a0cb55c7abd08a5c2132dc/docs/performance-lab",
        "license": "Apache-2.0 (repository licence)",
        "notes": (
            "Published at https://docs.gpustack.ai/latest/performance-lab/. vllm bench serve output blocks of the 'Other Benchmark Cases' sections: random "
            "dataset, all prompts sent at once (request rate inf, no max concurrency), no --ignore-eos; plus ShareGPT runs at max concurrency 4."
        ),
    }),
}


def _file_for(rec: dict) -> str:
    url = rec["source"]["url"]
    for name, (needle, _) in SOURCES.items():
        if needle in url:
            return name
    raise SystemExit(f"no output file for record {rec['id']} ({url})")


def _split_paren(text):
    """'value (remark)' -> ('value', 'remark'); plain 'value' -> ('value', '')."""
    if text is None:
        return None, ""
    m = re.match(r"^([^\s(]+)\s*(?:\((.*)\))?\s*(.*)$", str(text))
    if not m:
        return text, ""
    head, paren, rest = m.group(1), m.group(2) or "", m.group(3) or ""
    return head, " ".join(x for x in (paren, rest) if x)


def _quant(text, extra):
    if text is None:
        return None
    t = str(text)
    if t.startswith("not stated"):
        extra.append(f"checkpoint quantization {t}")
        return None
    if t.startswith("bf16 checkpoint"):
        extra.append("bf16 checkpoint quantized online to fp8 (--quantization fp8)")
        return "bf16"
    head, rem = _split_paren(t)
    if head == "fp4":
        head = "mxfp4"
    if rem and rem != "mxfp4":
        extra.append(f"checkpoint quantization: {rem}")
    return head


def _kv(text, extra):
    if text is None:
        return None
    t = str(text)
    if t.startswith("not stated"):
        extra.append(f"kv cache dtype {t}")
        return None
    head, rem = _split_paren(t)
    if rem:
        extra.append(f"kv cache dtype {head}: {rem}")
    return head


def _metric_name(key: str) -> tuple[str, float]:
    """(new name, factor) of a collected metric key."""
    fixed = {
        "tput_per_gpu_tok_s": ("total_token_throughput_per_gpu_tok_s", 1.0),
        "output_tput_per_gpu_tok_s": ("output_throughput_per_gpu_tok_s", 1.0),
        "input_tput_per_gpu_tok_s": ("input_throughput_per_gpu_tok_s", 1.0),
        "avg_batch_latency_s": ("mean_batch_latency_ms", 1000.0),
        "benchmark_duration_s": ("benchmark_duration_ms", 1000.0),
        "throughput_tok_s_as_published": ("throughput_as_published_tok_s", 1.0),
        "p99_latency_s_as_published": ("p99_latency_as_published_ms", 1000.0),
    }
    if key in fixed:
        return fixed[key]
    for stat in STATS:
        new_stat = stat.replace(".", "")
        if key == f"{stat}_intvty_tok_s_user":
            return f"{new_stat}_tokens_per_s_per_user", 1.0
        for m in TIME_METRICS:
            if key == f"{stat}_{m}_s":
                return f"{new_stat}_{m}_ms", 1000.0
            if key == f"{stat}_{m}_ms":
                return f"{new_stat}_{m}_ms", 1.0
    if key.endswith(("_tok_s", "_rps", "_requests")):
        return key, 1.0
    raise SystemExit(f"unknown metric {key}")


def _metrics(src: dict, extra) -> dict:
    out, converted = {}, False
    for k, v in src.items():
        name, factor = _metric_name(k)
        if factor != 1.0:
            v = float(f"{v * factor:.12g}")
            converted = True
        out[name] = v
    if converted:
        extra.append("times published in seconds, converted to ms (x1000)")
    return out


def _load(src: dict, extra) -> dict:
    if src.get("offline"):
        load = {"offline": True}
        if "static_batch_size" in src:
            load["static_batch_size"] = src["static_batch_size"]
        return load
    if src.get("concurrency") is not None:
        return {"concurrency": src["concurrency"]}
    if src.get("request_rate_rps") is not None:
        return {"request_rate_rps": src["request_rate_rps"]}
    extra.append(f"load {src.get('note', 'not stated')}")
    return {"not_stated": True}


def convert(r: dict) -> dict:
    extra: list[str] = []
    model, model_rem = _split_paren(r["model"]) if " " in r["model"] else (r["model"], "")
    if model_rem:
        extra.append(f"model: {model_rem}")
    gpu = r["gpu"].removeprefix("other: ")
    spec = str(r.get("spec_decode", "none"))
    rec = {
        "id": r["id"],
        "model": model,
        "model_family": r["model_family"],
        "checkpoint_quant": _quant(r["checkpoint_quant"], extra),
        "gpu": gpu,
        "num_gpus": r["num_gpus"], "tp": r["tp"], "ep": r["ep"], "dp": r["dp"], "pp": r["pp"],
        "engine": r["engine"],
        "engine_version": r["engine_version"],
        "kv_cache_dtype": _kv(r["kv_cache_dtype"], extra),
        "spec_decode": spec.startswith("mtp"),
        "load": _load(r["load"], extra),
        "input_tokens": r["input_tokens"], "output_tokens": r["output_tokens"],
        "range_ratio": r["range_ratio"],
        "dataset": r["dataset"],
        "num_prompts": r["num_prompts"],
        "metrics": _metrics(r["metrics"], extra),
        "source": {"url": r["source"]["url"], "quote": r["source"]["quote"]},
    }
    if rec["spec_decode"]:
        extra.append(f"speculative decoding: {spec}")
    rec["_notes"] = r["notes"]
    rec["_extra"] = "; ".join(extra)
    split, reason = split_of(rec)
    rec["split"] = split
    if reason:
        rec["split_reason"] = reason
    return rec


def _dup_key(rec: dict) -> str:
    return json.dumps({k: v for k, v in rec.items() if k not in ("id", "source", "_notes", "_extra")}, sort_keys=True)


def build(records: list[dict], out_dir: Path) -> dict:
    by_file: dict[str, list[dict]] = defaultdict(list)
    seen: dict[str, str] = {}
    dropped = []
    for r in records:
        rec = convert(r)
        key = _dup_key(rec)
        if key in seen:
            dropped.append((rec["id"], seen[key]))
            continue
        seen[key] = rec["id"]
        by_file[_file_for(r)].append(rec)
    for name, recs in by_file.items():
        counts = Counter(rec["_notes"] for rec in recs)
        shared = {}
        for text, n in counts.most_common():
            if n > 1:
                shared[f"n{len(shared)}"] = text
        ref = {text: k for k, text in shared.items()}
        out = []
        for rec in recs:
            notes, extra = rec.pop("_notes"), rec.pop("_extra")
            if notes in ref:
                rec["notes_ref"] = ref[notes]
                rec["notes"] = extra
            else:
                rec["notes"] = "; ".join(x for x in (notes, extra) if x)
            out.append(rec)
        source = dict(SOURCES[name][1], retrieved=RETRIEVED)
        doc = {
            "_about": (
                "Published serving benchmark results, one record per measured point (schema and split rule: README.md in this folder). Metric names carry "
                "units; times in ms. A record's full notes are shared_notes[notes_ref] followed by its own notes."
            ),
            "source": source,
            "shared_notes": shared,
            "records": out,
        }
        lines = ",\n".join("  " + json.dumps(rec, ensure_ascii=False) for rec in out)
        head = json.dumps({k: doc[k] for k in ("_about", "source", "shared_notes")}, indent=1, ensure_ascii=False)
        text = head[:-2] + ',\n "records": [\n' + lines + "\n ]\n}\n"
        json.loads(text)  # the file must parse
        (out_dir / name).write_text(text, encoding="utf-8")
    return {"files": {n: len(v) for n, v in by_file.items()}, "dropped_duplicates": dropped}


def main(argv):
    src = Path(argv[1])
    out_dir = Path(argv[2]) if len(argv) > 2 else Path(__file__).resolve().parents[1] / "moeprof" / "data" / "benchmarks"
    records = json.loads(src.read_text(encoding="utf-8"))["records"]
    summary = build(records, out_dir)
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main(sys.argv)
