"""Hugging Face ids as models: a shipped config by its id, any other id's config.json from the Hub.

    load_model("openai/gpt-oss-120b")          the built-in gpt-oss-120b
    shipped_by_hf_id()["openai/gpt-oss-120b"]   ('gpt-oss-120b', None)
    fetch_config("org/name")                   the path of config.json in the Hub's local cache

Shipped ids: each built-in model file's `_moeprof.hf_id`, its variants' ids, and the published
checkpoints (moeprof/data/checkpoints/*.json) with their recipe ('checkpoint' and the model's own
quantization are the model itself). Any other id is read through `huggingface_hub` (the optional
extra `moeprof[hf]`): config.json only, from its cache when there, never otherwise under
HF_HUB_OFFLINE=1; HF_HOME and HF_TOKEN apply as they do for every Hub client."""

from __future__ import annotations

import dataclasses
import json
import re
from functools import cache
from pathlib import Path

from ...errors import MoeprofError, one_line
from . import loader
from .published import checkpoint_models, published_checkpoints
from .spec import ModelSpec

HF_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
INSTALL = 'pip install "moeprof[hf]"'


def is_hf_id(text: str) -> bool:
    return bool(HF_ID.match(str(text).strip())) and len(str(text)) <= 200


@cache
def shipped_by_hf_id() -> dict[str, tuple[str, str | None]]:
    """lower-cased Hugging Face id -> (built-in short name, recipe or None for the model's own)."""
    out: dict[str, tuple[str, str | None]] = {}
    for name, path in loader.builtin_model_files().items():
        hf_id = json.loads(path.read_text()).get("_moeprof", {}).get("hf_id")
        if hf_id:
            out[hf_id.lower()] = (name, None)
    variants = loader._variants()
    for name, v in variants.items():
        if v.get("hf_id"):
            out.setdefault(v["hf_id"].lower(), (name, None))
    for model in checkpoint_models():
        for c in published_checkpoints(model):
            if c.hf_id.lower() in out:
                continue
            variant = next((n for n, v in variants.items() if v["base"] == model and v["quant"] == c.recipe), None)
            out[c.hf_id.lower()] = (variant, None) if variant else (model, None if c.recipe == "checkpoint" else c.recipe)
    return out


def fetch_config(hf_id: str) -> str:
    """The local path of `hf_id`'s config.json, downloaded into (or read from) the Hub's cache."""
    try:
        from huggingface_hub import hf_hub_download
    except ImportError:
        raise MoeprofError(f"{hf_id} is not a shipped model; to read its config.json from the Hugging Face Hub: "
                           f"{INSTALL} (or give the path of a config.json)") from None
    try:
        return str(hf_hub_download(repo_id=hf_id, filename="config.json"))
    except Exception as e:  # the hub's own errors: offline and not cached, not found, gated, HTTP
        why = one_line(str(e).strip().splitlines()[0] if str(e).strip() else "")[:200]
        raise MoeprofError(f"{hf_id}: cannot read config.json from the Hugging Face Hub ({type(e).__name__}"
                           f"{': ' + why if why else ''}); with HF_HUB_OFFLINE=1 only cached files are read") from None


def load_model(name_or_path: str) -> ModelSpec:
    """A built-in short name (see `moeprof models`), a Hugging Face id (a shipped model by its id,
    else the id's config.json from the Hub) or a path to a config.json."""
    key = str(name_or_path).strip()
    if not is_hf_id(key) or key.lower() in loader.model_names() or Path(key).exists():
        return loader.load_model(key)
    shipped = shipped_by_hf_id().get(key.lower())
    if shipped is not None:
        name, recipe = shipped
        spec = loader.load_model(name)
        return spec if recipe is None else dataclasses.replace(spec, hf_id=key, default_quant=recipe)
    path = Path(fetch_config(key))
    spec = loader.from_hf_config(loader.load_config_file(path), key.split("/", 1)[1], path=path)
    return spec if spec.hf_id else dataclasses.replace(spec, hf_id=key)
