"""Workload defaults per model kind: a reasoning model is planned with a long-output workload, and every
default the plan states speaks of the planned model."""

import json

import pytest

from moeprof.catalog.models import model_names
from moeprof.catalog.targets import model_target_defaults, target_defaults, workload_kind
from moeprof.planner import Targets

REASONING = ("deepseek-r1", "gpt-oss-120b", "gpt-oss-20b", "qwen3-235b-a22b", "qwen3-235b-a22b-fp8", "qwen3-30b-a3b",
             "glm-4.5", "minimax-m2")


def test_the_reasoning_models_are_built_in_and_sourced():
    assert set(REASONING) <= set(model_names())
    for m in model_names():
        assert (workload_kind(m) == "reasoning") == (m in REASONING), m
    values, sources = model_target_defaults("deepseek-r1", "DeepSeek-R1")
    assert (values["input_tokens"], values["output_tokens"]) == (1024, 8192)  # InferenceX's 1K / 8K
    assert "DeepSeek-R1 is a reasoning model" in sources["output_tokens"] and "InferenceX" in sources["output_tokens"]
    general = target_defaults()
    assert model_target_defaults("maverick")[0] == general  # not a reasoning model: the general defaults
    assert Targets.defaults("gpt-oss-20b").output_tokens == 8192 and Targets.defaults().output_tokens == general["output_tokens"]


@pytest.mark.slow  # a full plan of another model
@pytest.mark.parametrize("model", ["deepseek-r1", "scout"])
def test_every_stated_default_speaks_of_the_planned_model(cli_once, model):
    doc = json.loads(cli_once("plan", "--model", model, "--json").stdout)
    text = json.dumps(doc["sources"]["targets"]) + " ".join(doc["warnings"])
    other = "Llama 4" if model == "deepseek-r1" else "reasoning model"
    assert other not in text
    want = model_target_defaults(model)[0]
    assert (doc["inputs"]["input_tokens"], doc["inputs"]["output_tokens"]) == (want["input_tokens"], want["output_tokens"])
    if model == "deepseek-r1":
        assert any("deepseek-r1 is a reasoning model" in w for w in doc["warnings"])
        # a value given on the command line is the user's, said so
        mine = json.loads(cli_once("plan", "--model", model, "--output-tokens", "512", "--json").stdout)
        assert mine["inputs"]["output_tokens"] == 512 and mine["sources"]["targets"]["output_tokens"].startswith("set by the user")


@pytest.mark.slow  # a full plan of another model
def test_a_model_with_a_shorter_context_says_its_own_maximum(cli_once):
    doc = json.loads(cli_once("plan", "--model", "mixtral-8x7b", "--json").stdout)
    assert doc["inputs"]["context_tokens"] == 32768
    assert doc["sources"]["targets"]["context_tokens"].startswith("mixtral-8x7b's maximum context")


@pytest.mark.slow  # a full plan of another model
def test_a_long_output_pick_near_saturation_still_gives_a_readable_plan(cli_once):
    """gpt-oss-20b at 1K / 8K: its pick's latency sweep reaches loads where the queue does not settle;
    those points are left out of the chart, not written as null (the plan would refuse itself)."""
    doc = json.loads(cli_once("plan", "--model", "gpt-oss-20b", "--json", check_rc=0).stdout)
    sweep = doc["charts"]["latency"]
    assert sweep["ttft_ms"] and all(v is not None for v in sweep["ttft_ms"] + sweep["tpot_ms"])
    assert len(sweep["ttft_ms"]) == len(sweep["qps"]) == len(sweep["running_batch"])
