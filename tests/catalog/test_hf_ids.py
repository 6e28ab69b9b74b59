"""Hugging Face ids wherever a model is taken: shipped configs by their id, any other id's
config.json through huggingface_hub (faked here at its call boundary: no network), a one-line
error naming the extra without it; checkpoint formats printed by name."""

import json
import shutil
import sys
import types

import pytest

from moeprof.catalog.models import load_model
from moeprof.catalog.models.quant_label import quant_label
from moeprof.errors import MoeprofError
from tests.conftest import DATA


def test_shipped_ids_are_the_built_in_models():
    assert load_model("openai/gpt-oss-120b").name == "gpt-oss-120b"
    assert load_model("OpenAI/GPT-OSS-120B").name == "gpt-oss-120b"  # ids are case-insensitive on the Hub
    assert load_model("meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8").name == "maverick-fp8"
    # a published checkpoint of another recipe: the model with that recipe as its default
    m = load_model("unsloth/gpt-oss-120b-BF16")
    assert (m.name, m.default_quant, m.hf_id) == ("gpt-oss-120b", "bf16", "unsloth/gpt-oss-120b-BF16")


def _fake_hub(monkeypatch, download):
    calls = []

    def hf_hub_download(repo_id, filename, **kw):
        calls.append((repo_id, filename, kw))
        return download(repo_id, filename)

    monkeypatch.setitem(sys.modules, "huggingface_hub", types.SimpleNamespace(hf_hub_download=hf_hub_download))
    return calls


def test_another_id_reads_only_its_config_json_through_the_hub(monkeypatch, tmp_path):
    cached = tmp_path / "models--someone--mixtral-copy" / "config.json"
    cached.parent.mkdir()
    shutil.copy(DATA / "mixtral-8x7b.json", cached)
    calls = _fake_hub(monkeypatch, lambda repo_id, filename: str(cached))
    m = load_model("someone/mixtral-copy")
    assert calls == [("someone/mixtral-copy", "config.json", {})]
    assert m.name == "mixtral-copy" and m.hf_id == "someone/mixtral-copy" and m.num_experts == 8


def test_the_hubs_own_error_is_one_line(monkeypatch):
    class LocalEntryNotFoundError(Exception):
        pass

    def offline(repo_id, filename):
        raise LocalEntryNotFoundError("Cannot find the requested files in the disk cache\nand outgoing traffic is disabled")

    _fake_hub(monkeypatch, offline)
    with pytest.raises(MoeprofError) as e:
        load_model("someone/some-moe")
    text = str(e.value)
    assert "\n" not in text and "LocalEntryNotFoundError" in text and "HF_HUB_OFFLINE" in text


def test_without_the_extra_the_error_says_how(monkeypatch, cli):
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)  # import fails
    with pytest.raises(MoeprofError, match=r'pip install "moeprof\[hf\]"'):
        load_model("someone/some-moe")
    p = cli("plan", "--model", "someone/some-moe")
    assert p.returncode == 1 and p.stderr.count("\n") == 1 and 'pip install "moeprof[hf]"' in p.stderr


def test_every_command_takes_an_id(cli, cli_once):
    d = json.loads(cli_once("plan", "--model", "openai/gpt-oss-120b", "--sku", "nd-h200-v5", "--json", check_rc=0).stdout)
    assert d["inputs"]["model"] == "gpt-oss-120b"
    assert cli("models", "show", "openai/gpt-oss-120b", check_rc=0).stdout.startswith("gpt-oss-120b")
    assert "mxfp4" in cli("memory", "--model", "openai/gpt-oss-120b", "--sku", "nd-h200-v5", check_rc=0).stdout
    cli("evaluate", "--model", "openai/gpt-oss-120b", "--sku", "nd-h200-v5", "--tp", "8", "--concurrency", "4",
        "--isl", "1024", "--osl", "128", check_rc=0)
    cli_once("compare", "--model", "openai/gpt-oss-120b", "--sku", "nd-h200-v5", check_rc=0)


def test_checkpoint_formats_print_by_name(cli):
    assert quant_label("gpt-oss-120b", "checkpoint") == "mxfp4"
    assert quant_label("deepseek-r1", "checkpoint") == "fp8 block 128x128"
    assert quant_label("scout", "bf16") == "bf16"
    table = cli("models", check_rc=0).stdout
    assert " checkpoint" not in table and "mxfp4" in table
