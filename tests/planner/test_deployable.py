"""Every default pick is a deployment a team can start today: it names a published checkpoint, and each
export launches that checkpoint with only flags the engine release the plan names accepts
(moeprof/data/engine_args, catalog.engine_args.check_argv)."""

import json
import shlex

import pytest
import yaml

from moeprof.catalog.deployable import checkpoint_by_id, parse_engine
from moeprof.catalog.engine_args import check_argv
from moeprof.catalog.models import model_names
from moeprof.errors import MoeprofError
from moeprof.export import SGLANG_VERSION, export

SKUS = ("nd-h100-v5", "nd-h200-v5", "nd-mi300x-v5")
# Azure ML's refusal of a replica spanning VMs (its managed online instances are independent copies; the
# refusal says so in one line); vLLM and SGLang export every pick, multi-node wide EP included
AZUREML_MULTI_VM = ("Azure ML managed online deployments run independent single-VM instances", "of a replica started together")


def _launches(text: str, fmt: str) -> list[list[str]]:
    """The engine argv of every launch line of an export (environment assignments dropped)."""
    if fmt == "azureml":
        env = yaml.safe_load(text)["environment_variables"]
        return [["vllm", "serve", env["MODEL_NAME"], *env["VLLM_ARGS"].split(), "--port", "8000"]]
    program = ["vllm", "serve"] if fmt == "vllm" else ["python", "-m", "sglang.launch_server"]
    out = []
    for line in text.splitlines():
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        words = shlex.split(s.rstrip("&").strip())
        while words and "=" in words[0] and not words[0].startswith("-"):
            words.pop(0)
        if words[: len(program)] == program:
            out.append(words)
    return out


def check_pick_and_exports(doc: dict) -> list[str]:
    """Assert the pick names a published checkpoint and each export launches it with known flags;
    the formats that exported."""
    rec = doc["recommended"]
    ref = doc["inputs"]["model"]
    assert rec["checkpoint"], f"{ref}: the pick names no published checkpoint"
    assert checkpoint_by_id(ref, rec["checkpoint"], rec["quant"]) is not None  # the catalog maps the recipe to it
    engine, version = parse_engine(doc["inputs"]["engine"])
    assert engine == "vllm" and version
    done = []
    for fmt in ("vllm", "sglang", "azureml"):
        try:
            text = export(doc, fmt)
        except MoeprofError as e:
            assert fmt == "azureml" and any(m in str(e) for m in AZUREML_MULTI_VM), (ref, fmt, str(e))
            continue
        launches = _launches(text, fmt)
        assert launches, (ref, fmt)
        for argv in launches:
            if fmt != "sglang":
                assert argv[2] == f"${{MODEL:-{rec['checkpoint']}}}" or argv[2] == rec["checkpoint"], (ref, fmt, argv[:3])
                assert check_argv("vllm", version, argv) == [], (ref, fmt, argv)
            else:
                model = argv[argv.index("--model-path") + 1]
                assert model.startswith("${MODEL:-") and "/" in model, (ref, argv)
                assert check_argv("sglang", SGLANG_VERSION, argv) == [], (ref, argv)
        if fmt != "sglang":  # SGLang may launch another build of the recipe, one a source says SGLang loads
            assert rec["checkpoint"] in text
        done.append(fmt)
    return done


def _plan(cli_once, *args) -> dict | None:
    r = cli_once("plan", *args, "--json")
    assert r.returncode in (0, 1), r.stderr[-2000:]
    doc = json.loads(r.stdout)
    return doc if doc["recommended"] is not None else None


def test_maverick_picks_a_released_checkpoint_and_every_format_launches_it(cli_once):
    doc = _plan(cli_once, "--model", "maverick")
    rec = doc["recommended"]
    assert rec["quant"] == "fp8-experts" and rec["checkpoint"] == "meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8"
    assert rec["notes"] == []
    assert check_pick_and_exports(doc) == ["vllm", "sglang", "azureml"]
    out = cli_once("plan", "--model", "maverick", check_rc=0).stdout
    assert "checkpoint  meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8 (Meta, 2025-04-05)" in out
    assert "released recipe" in out and "headroom" in out.split("ranking", 1)[1]
    # what re-quantising would save, never the pick; the layouts left out are counted as 'checkpoint'
    assert doc["rejected_counts"].get("checkpoint", 0) > 0
    if doc["requantize"] is not None:
        assert doc["requantize"]["quant"] != rec["quant"] and doc["requantize"]["text"] in out


def test_csv_carries_the_checkpoint(cli_once):
    text = cli_once("plan", "--model", "maverick", "--csv", check_rc=0).stdout
    header, first = text.splitlines()[:2]
    col = header.split(",").index("checkpoint")
    assert first.split(",")[col] == "meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8"


@pytest.mark.slow
@pytest.mark.parametrize("sku", SKUS)
@pytest.mark.parametrize("model", sorted(model_names()))
def test_every_default_pick_names_a_published_checkpoint_and_exports_it(cli_once, model, sku):
    doc = _plan(cli_once, "--model", model, "--sku", sku)
    if doc is None:
        pytest.skip(f"nothing meets the default targets for {model} on {sku}")
    check_pick_and_exports(doc)
