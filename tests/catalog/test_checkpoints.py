"""Recipes map to published checkpoints (catalog.deployable), and the plan keeps to them by default."""

import json

import pytest

from moeprof.catalog.deployable import checkpoint_choice, engine_checkpoint, recipe_checkpoints

MAVERICK = "meta-llama/Llama-4-Maverick-17B-128E-Instruct"


@pytest.mark.parametrize("quant, hf_id, online", [
    ("bf16", MAVERICK, None),
    ("fp8-experts", MAVERICK + "-FP8", None),  # Meta's FP8 release
    ("fp8", MAVERICK, "fp8"),  # the engine's online FP8 of the bf16 release ranks first: a source states vLLM loads it
    ("int4", "RedHatAI/Llama-4-Maverick-17B-128E-Instruct-quantized.w4a16", None),
    ("int4-experts", None, None),
])
def test_maverick_recipes_map_to_published_checkpoints(quant, hf_id, online):
    c = checkpoint_choice("maverick", quant, "vllm", "0.11")
    assert (c.hf_id if c else None) == hf_id
    if c is not None:
        assert c.online_quantization == online


def test_a_variant_reads_its_base_models_checkpoints():
    assert [c.hf_id for c in recipe_checkpoints("maverick-fp8", "fp8-experts")] == \
        [c.hf_id for c in recipe_checkpoints("maverick", "fp8-experts")]


def test_engine_versions_in_the_file_are_respected():
    # stated for vLLM 0.8.3: too new for a plan of 0.8.2, fine for 0.11
    assert checkpoint_choice("maverick", "fp8-experts", "vllm", "0.8.2").hf_id != MAVERICK + "-FP8"
    assert checkpoint_choice("maverick", "fp8-experts", "vllm", "0.11").engine_stated
    # sglang null for Meta's FP8: no other fp8-experts build states SGLang either, so it stays, unstated
    sg = engine_checkpoint("maverick", "fp8-experts", "sglang", "0.5", chosen=MAVERICK + "-FP8")
    assert sg.hf_id == MAVERICK + "-FP8" and not sg.engine_stated
    # the model's own quantization_config: its checkpoint and its re-releases of the same format, not other layouts
    ids = [c.hf_id for c in recipe_checkpoints("deepseek-r1", "checkpoint")]
    assert ids[0] == "deepseek-ai/DeepSeek-R1" and not any("NVFP4" in i or "MXFP4" in i for i in ids)


def test_a_config_file_is_its_own_checkpoint():
    from pathlib import Path

    cfg = str(Path(__file__).parents[1] / "data" / "mixtral-8x7b.json")  # names no Hugging Face id
    (own,) = recipe_checkpoints(cfg, "bf16")
    assert own.hf_id == "" and "config file" in own.text()
    assert recipe_checkpoints(cfg, "fp8")[0].online_quantization == "fp8" and recipe_checkpoints(cfg, "int4") == []
    stored = recipe_checkpoints(cfg, "bf16", stored_hf_id="org/my-mixtral", stored=True)
    assert [c.hf_id for c in stored] == ["org/my-mixtral"]


@pytest.mark.slow  # full plans of their own
def test_plan_keeps_to_published_checkpoints_and_says_what_requantising_saves(cli_once):
    cli = cli_once
    r = cli("plan", "--model", "scout", "--quant", "int4-experts", check_rc=1)  # no published int4-experts build
    assert "re-quantising to int4-experts would meet the targets" in r.stdout and "checkpoint" in r.stdout
    rec = json.loads(cli("plan", "--model", "scout", "--quant", "int4-experts", "--allow-requantize", "--json",
                         check_rc=0).stdout)["recommended"]
    assert rec["checkpoint"] == "" and "int4-experts" in rec["notes"][0]
    released = ("--model", "maverick", "--quant", "bf16,fp8-experts")  # recipes Meta released
    doc = json.loads(cli("plan", *released, "--json", check_rc=0).stdout)
    assert doc["recommended"]["notes"] == [] and doc["recommended"]["checkpoint"].startswith("meta-llama/")
    assert all(r["checkpoint"] for r in doc["feasible"])
    assert "CHECKPOINT" not in cli("plan", *released, check_rc=0).stdout


def test_the_makers_weights_rank_before_another_publishers_build():
    from moeprof.planner.search.checkpoints import checkpoint_rank

    ranks = {q: checkpoint_rank(checkpoint_choice("maverick", q, "vllm", "0.11"))
             for q in ("fp8-experts", "fp8", "int4", "int4-experts")}
    # Meta's FP8 release; Meta's bf16 quantized by the engine; Red Hat's w4a16 build; none
    assert ranks == {"fp8-experts": 0, "fp8": 1, "int4": 2, "int4-experts": 3}


def test_a_pretrained_only_release_is_named_after_the_instruction_tuned_one():
    from moeprof.catalog.deployable import recipe_checkpoints
    from moeprof.catalog.models.published import published_checkpoints

    base = [c.hf_id for c in published_checkpoints("mixtral-8x22b") if c.pretrained_only]
    assert base == ["mistralai/Mixtral-8x22B-v0.1"]
    ranked = [c.hf_id for c in recipe_checkpoints("mixtral-8x22b", "bf16", "vllm", "0.23.0")]
    assert ranked[0] == "mistralai/Mixtral-8x22B-Instruct-v0.1" and ranked[-1] == base[0]
