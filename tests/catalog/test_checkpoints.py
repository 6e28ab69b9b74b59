"""Recipes without a released checkpoint are flagged in the plan."""

import json

import pytest

from moeprof.catalog.models.checkpoints import loads_from_release, released_note, shipped_checkpoints

MAVERICK = "meta-llama/Llama-4-Maverick-17B-128E-Instruct"


def test_shipped_checkpoints_of_maverick():
    assert shipped_checkpoints("maverick") == {"bf16": MAVERICK, "fp8-experts": MAVERICK + "-FP8"}


@pytest.mark.parametrize("quant, released", [
    ("bf16", True), ("fp8-experts", True), ("fp8", True),  # fp8: online quantization of the bf16 weights
    ("int4", False), ("int4-experts", False),
])
def test_llama4_recipes(quant, released):
    assert loads_from_release(quant, shipped_checkpoints("maverick")) is released
    note = released_note("maverick", quant)
    assert (note is None) is released
    if not released:
        assert f"no released {quant} checkpoint of maverick" in note


def test_plan_flags_an_unreleased_recipe(cli_once):
    cli = cli_once
    out = cli("plan", "--model", "scout", "--quant", "int4-experts", check_rc=0).stdout
    assert "CHECKPOINT  no released int4-experts checkpoint of scout" in out
    rec = json.loads(cli("plan", "--model", "scout", "--quant", "int4-experts", "--json", check_rc=0).stdout)["recommended"]
    assert rec["notes"] and "int4-experts" in rec["notes"][0]
    released = ("--model", "maverick", "--quant", "bf16,fp8-experts")  # recipes Meta released
    rec = json.loads(cli("plan", *released, "--json", check_rc=0).stdout)["recommended"]
    assert rec["notes"] == [] and "CHECKPOINT" not in cli("plan", *released, check_rc=0).stdout
