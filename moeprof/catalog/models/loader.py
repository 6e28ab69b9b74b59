"""Build a ModelSpec from a Hugging Face config.json, and find the built-in catalog's models.

The layout parser is chosen by catalog/models/registry.py; the checkpoint's `quantization_config`
becomes the model's 'checkpoint' recipe and its default (catalog/models/checkpoint_quant.py).
`_moeprof` in a shipped config carries the catalog's metadata: hf_id, revision, card figures
and the components the card's active figure leaves out, sources and notes."""

from __future__ import annotations

import dataclasses
import json
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from ...errors import ConfigError, MoeprofError, UnknownNameError, one_line
from ...inputs import read_json_file
from .. import bounds
from . import registry
from .checkpoint_quant import checkpoint_recipe, kv_dtype_hint
from .spec import ModelSpec


def _notes(spec: ModelSpec, meta: dict, cfg: dict, text: dict) -> tuple[str, ...]:
    notes = [x for x in (meta.get("estimate_method"), meta.get("card_note")) if x] + [str(x) for x in meta.get("notes", ())]
    if spec.mtp_layers:
        notes.append(
            f"{spec.mtp_layers} multi-token-prediction module(s) ({spec.draft_params / 1e9:.1f}B parameters with their "
            "own embedding and head copies) counted apart as an optional draft model, not in the totals"
        )
    if text.get("use_mtp") or text.get("num_mtp_modules"):
        notes.append(f"the config declares {text.get('num_mtp_modules', '?')} MTP module(s): not modelled, not in the totals")
    return tuple(notes)


def from_hf_config(cfg: dict, name: str, path="<config>") -> ModelSpec:
    """Build a ModelSpec from a parsed Hugging Face config.json."""
    if not isinstance(cfg, dict):
        raise ConfigError(path, "<root>", "expected a JSON object")
    text = cfg.get("text_config", cfg)
    if not isinstance(text, dict):
        raise ConfigError(path, "text_config", "expected a JSON object")
    bounds.check_config_sizes(cfg, path)
    meta = bounds.model_meta(cfg, path)
    layout = registry.choose(cfg, text, path)
    fields = layout.parse(text, cfg, path)
    family = fields.pop("family", layout.family)
    spec = ModelSpec(
        name=name,
        family=family,
        hf_id=meta.get("hf_id"),
        card_total_params=meta.get("card_total_params"),
        card_active_params=meta.get("card_active_params"),
        card_active_excludes=tuple(meta.get("card_active_excludes", ())),
        estimated_fields=tuple(meta.get("estimated_fields", ())),
        sources=tuple(meta.get("sources", ())),
        default_quant=meta.get("default_quant", "bf16"),
        source_path=str(path),
        **fields,
    )
    spec = dataclasses.replace(spec, notes=_notes(spec, meta, cfg, text))
    q = cfg.get("quantization_config") or text.get("quantization_config")
    if q:
        recipe = checkpoint_recipe(q, spec, meta.get("hf_id") or name, path)
        spec = dataclasses.replace(
            spec,
            checkpoint_quant=recipe,
            default_quant=meta.get("default_quant", "checkpoint"),
            default_kv_dtype=kv_dtype_hint(q),
        )
    bounds.check_model(spec, path)
    return spec


# ---------------------------------------------------------------------------------------
# Catalog lookup
# ---------------------------------------------------------------------------------------
def _builtin_dir():
    return resources.files("moeprof") / "data" / "models"


# The built-in catalog is package data: it does not change while the process runs, so its
# listing, its parsed configs and the models built from them are read once (user files never are).
@cache
def _builtin_files() -> tuple[tuple[str, Traversable], ...]:
    return tuple(
        (p.name[: -len(".json")], p)
        for p in _builtin_dir().iterdir()
        if p.name.endswith(".json") and not p.name.startswith("_")
    )


def builtin_model_files() -> dict[str, Traversable]:
    return dict(_builtin_files())


@cache
def _variant_table() -> tuple[tuple[str, dict], ...]:
    out = []
    for base, p in _builtin_files():
        meta = json.loads(p.read_text()).get("_moeprof", {})
        for vname, v in (meta.get("variants") or {}).items():
            out.append((vname, {"base": base, **v}))
    return tuple(out)


def _variants() -> dict[str, dict]:
    """Short names that are a built-in model plus a quantization recipe (e.g. maverick-fp8)."""
    return {k: dict(v) for k, v in _variant_table()}


def model_names() -> list[str]:
    return sorted(list(builtin_model_files()) + list(_variants()))


def load_config_file(path) -> dict:
    return read_json_file(path, "model config")


def load_model(name_or_path: str) -> ModelSpec:
    """A built-in short name (see `moeprof models`) or a path to a config.json."""
    key = str(name_or_path).strip()
    if key.lower() in builtin_model_files() or key.lower() in _variants():
        return _builtin_model(key.lower())
    p = Path(key)
    if p.suffix == ".json" or p.exists():
        if p.is_dir():
            p = p / "config.json"
        if not p.exists():
            raise MoeprofError(f"{p}: no such file")
        cfg = load_config_file(p)
        name = bounds.model_meta(cfg, p).get("name") if isinstance(cfg, dict) else None
        return from_hf_config(cfg, name or one_line(p.parent.name or p.stem)[:200], path=p)
    raise UnknownNameError("model", key, model_names())


@cache
def _builtin_model(key: str) -> ModelSpec:
    """A built-in model or variant (ModelSpec is frozen: one instance serves every caller)."""
    files = builtin_model_files()
    if key in files:
        p = files[key]
        return from_hf_config(json.loads(p.read_text()), key, path=f"moeprof/data/models/{p.name}")
    v = _variants()[key]
    base = _builtin_model(v["base"])
    return dataclasses.replace(
        base,
        name=key,
        hf_id=v.get("hf_id", base.hf_id),
        default_quant=v["quant"],
        sources=base.sources + tuple(v.get("sources", ())),
    )
