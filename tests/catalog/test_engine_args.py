"""The shipped engine argument lists (moeprof/data/engine_args) and check_argv."""

import json
from pathlib import Path

import pytest

from moeprof.catalog.engine_args import check_argv, engine_arg_list, engine_flags, shipped_engine_versions, version_key
from moeprof.errors import ConfigError

DATA = Path(__file__).resolve().parents[2] / "moeprof" / "data" / "engine_args"
FILES = sorted(p.name for p in DATA.glob("*.json"))
VLLM_CORE = ["--tensor-parallel-size", "--enable-expert-parallel", "--data-parallel-size", "--kv-cache-dtype",
             "--max-model-len", "--max-num-seqs", "--quantization", "--gpu-memory-utilization"]
SGLANG_CORE = ["--tp-size", "--ep-size", "--dp-size", "--enable-dp-attention", "--nnodes", "--node-rank",
               "--dist-init-addr", "--kv-cache-dtype", "--model-path"]


@pytest.mark.parametrize("name", FILES)
def test_every_file_parses_and_has_the_core_flags(name):
    doc = json.loads((DATA / name).read_text())
    engine, version = name[: -len(".json")].split("-", 1)
    assert (doc["engine"], doc["version"]) == (engine, version)
    assert doc["flags"] == sorted(doc["flags"]) and all(f.startswith("--") for f in doc["flags"])
    assert set(doc["boolean_flags"]) <= set(doc["flags"])
    assert doc["source"]["script"] == "scripts/extract_engine_args.py" and doc["source"]["files"]
    flags = engine_flags(engine, version)
    assert set(VLLM_CORE if engine == "vllm" else SGLANG_CORE) <= flags


def test_the_project_engine_version_and_the_newest_are_shipped():
    engine_json = json.loads((DATA.parent / "engine.json").read_text())
    assert engine_arg_list("vllm", engine_json["engine_version"]).version.startswith("0.11")
    assert len(shipped_engine_versions("vllm")) >= 2 and len(shipped_engine_versions("sglang")) >= 1


def test_version_resolution():
    vllm = shipped_engine_versions("vllm")
    assert vllm == sorted(vllm, key=version_key)
    assert engine_arg_list("vllm", None).version == vllm[-1]
    assert engine_arg_list("vllm", "0.11").version == "0.11.0"
    assert engine_arg_list("vllm", "0.11.2").version == "0.11.0"  # nearest shipped at or before
    assert engine_arg_list("vllm", "0.11 (V1 engine)").version == "0.11.0"
    assert version_key("0.8.5.post1") == (0, 8, 5, 1)
    with pytest.raises(ConfigError, match="at or before 0.1"):
        engine_flags("vllm", "0.1")
    with pytest.raises(ConfigError, match="no shipped argument list"):
        engine_flags("trtllm", None)
    with pytest.raises(ConfigError):
        engine_flags("vllm", "latest")


def test_check_argv_vllm():
    argv = ["vllm", "serve", "meta-llama/Llama-4-Scout-17B-16E-Instruct", "--tensor-parallel-size", "8",
            "--enable-expert-parallel", "--kv-cache-dtype=fp8", "--max_model_len", "65536", "-tp", "8",
            "--no-enable-prefix-caching", "--compilation-config.level", "3", "-O3", "--temperature", "-1"]
    assert check_argv("vllm", "0.11", argv) == ["--temperature"]
    assert check_argv("vllm", "0.11", ["--enable-turbo-mode", "--enable-turbo-mode", "-zz"]) == ["--enable-turbo-mode", "-zz"]
    assert check_argv("vllm", "0.11", ["--", "--not-a-flag"]) == []


def test_check_argv_knows_what_a_release_refuses():
    assert check_argv("vllm", "0.11", ["--model", "x"]) == ["--model"]  # 0.11.0 raises on serve --model
    newest = shipped_engine_versions("vllm")[-1]
    if not engine_arg_list("vllm", newest).refused:
        assert check_argv("vllm", newest, ["--model", "x"]) == []


def test_check_argv_sglang_prefixes_and_spelling():
    argv = ["python", "-m", "sglang.launch_server", "--model-path", "m", "--tp", "8", "--dp", "8",
            "--enable-dp-attention", "--trust-remote-code", "--nnodes", "2", "--node-rank", "0",
            "--dist-init-addr", "10.0.0.1:5000"]
    assert check_argv("sglang", "0.5", argv) == []
    # SGLang's parser is plain argparse: no underscore spelling, no invented flags
    assert check_argv("sglang", None, ["--tp_size", "8", "--enable-warp-drive"]) == ["--tp_size", "--enable-warp-drive"]
