"""The published-checkpoint files (moeprof/data/checkpoints) parse, cover every built-in model and
name only recipes moeprof knows."""

import json
import re
from pathlib import Path

import pytest

from moeprof.catalog.models.published import PublishedCheckpoint, checkpoint_models, published_checkpoints
from moeprof.errors import MoeprofError, UnknownNameError

DATA = Path(__file__).resolve().parents[2] / "moeprof" / "data"
MODELS = sorted(p.stem for p in (DATA / "models").glob("*.json"))
RECIPES = set(json.loads((DATA / "quant.json").read_text())) - {"_about"}
HF_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")


def test_every_builtin_model_has_a_checkpoints_file():
    assert set(MODELS) == set(checkpoint_models())


@pytest.mark.parametrize("model", MODELS)
def test_every_file_parses(model):
    entries = published_checkpoints(model)
    assert all(isinstance(c, PublishedCheckpoint) and c.model == model for c in entries)
    raw = json.loads((DATA / "checkpoints" / f"{model}.json").read_text())
    assert raw["model"] == model and isinstance(raw["_about"], dict)
    assert isinstance(raw["_about"].get("unconfirmed", []), list)


@pytest.mark.parametrize("model", MODELS)
def test_recipes_exist_and_ids_look_like_hub_ids(model):
    for c in published_checkpoints(model):
        assert c.recipe in RECIPES | {"checkpoint"}, (c.hf_id, c.recipe)
        assert HF_ID.match(c.hf_id) and not c.hf_id.startswith("-"), c.hf_id
        assert c.source.startswith("https://"), c.hf_id
        assert set(dict(c.engines)) <= {"vllm", "sglang"}


def test_behemoth_has_none_and_says_why():
    assert published_checkpoints("behemoth") == []
    about = json.loads((DATA / "checkpoints" / "behemoth.json").read_text())["_about"]
    assert "no weights" in about["what"]


def test_each_model_lists_its_own_release_first():
    """The catalog model's own hf_id is in its checkpoints file (the release a plan points at)."""
    for model in MODELS:
        hf_id = json.loads((DATA / "models" / f"{model}.json").read_text())["_moeprof"].get("hf_id")
        if hf_id:
            assert hf_id in [c.hf_id for c in published_checkpoints(model)], model


def test_known_entries():
    scout = {c.hf_id: c for c in published_checkpoints("scout")}
    nvfp4 = scout["RedHatAI/Llama-4-Scout-17B-16E-Instruct-NVFP4"]
    assert nvfp4.min_engine_version("vllm") == "0.9.1" and nvfp4.date == "2025-07-15"
    assert scout["RedHatAI/Llama-4-Scout-17B-16E-Instruct-quantized.w4a16"].recipe == "int4"
    maverick = {c.hf_id: c for c in published_checkpoints("maverick")}
    assert maverick["meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8"].recipe == "fp8-experts"
    assert published_checkpoints("gpt-oss-120b")[0].hf_id == "openai/gpt-oss-120b"
    assert published_checkpoints("DeepSeek-R1")[0].min_engine_version("sglang") == "0.4.1"


def test_unknown_model_is_a_one_line_error():
    with pytest.raises(UnknownNameError) as e:
        published_checkpoints("scoot")
    assert "scout" in str(e.value) and "\n" not in str(e.value)


def test_malformed_entry_is_refused(tmp_path, monkeypatch):
    import moeprof.catalog.models.published as cc

    folder = tmp_path / "data" / "checkpoints"
    folder.mkdir(parents=True)
    (folder / "x.json").write_text(json.dumps({"model": "x", "checkpoints": [{"hf_id": "-bad", "publisher": "p"}]}))
    monkeypatch.setattr(cc, "_folder", lambda: folder)
    cc._load.cache_clear()
    try:
        with pytest.raises(MoeprofError, match="hf_id"):
            cc._load("x")
    finally:
        cc._load.cache_clear()
