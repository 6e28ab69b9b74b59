"""Published checkpoints of the built-in models (moeprof/data/checkpoints/<model>.json).

    published_checkpoints("scout")   [PublishedCheckpoint, ...] in file order
    checkpoint_models()              short names that have a checkpoints file

Each entry names a Hugging Face repository a team can deploy, its weight / activation / KV layout,
the moeprof quantization recipe it corresponds to ('checkpoint' when the layout is the
checkpoint's own quantization_config) and, where a source states it, the first vLLM / SGLang
release that loads it. The files say where each fact comes from (see their README.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

from ...errors import ConfigError, UnknownNameError
from ...inputs import read_json_file, require_ident, require_object

FOLDER = "checkpoints"
ENGINES = ("vllm", "sglang")
MAX_TEXT_CHARS = 4000  # notes and formats are sentences, not documents
_HF_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
_DATE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?$")
_VERSION = re.compile(r"^\d+(\.\d+)*([.]?(post|rc)\d+)?$")


@dataclass(frozen=True)
class PublishedCheckpoint:
    """One published checkpoint of a built-in model."""

    model: str
    hf_id: str
    publisher: str
    recipe: str
    weight_format: str
    activation_format: str
    kv_scheme: str
    engines: tuple[tuple[str, str | None], ...]  # (engine, first release that loads it, or None)
    date: str | None
    source: str
    notes: str
    pretrained_only: bool = False  # a base model without instruction tuning: named only when nothing else loads the recipe

    def min_engine_version(self, engine: str) -> str | None:
        """The first release of `engine` a source says loads this checkpoint; None when unstated."""
        return dict(self.engines).get(engine)


def _label(name: str) -> str:
    return f"moeprof/data/{FOLDER}/{name}.json"


def _folder():
    return resources.files("moeprof") / "data" / FOLDER


@lru_cache(maxsize=1)
def checkpoint_models() -> tuple[str, ...]:
    """Short names of the models that have a checkpoints file, sorted."""
    return tuple(sorted(p.name[: -len(".json")] for p in _folder().iterdir() if p.name.endswith(".json")))


def _text(v, label: str, field: str, optional: bool = False) -> str | None:
    if v is None and optional:
        return None
    if not isinstance(v, str) or not v.strip():
        raise ConfigError(label, field, "expected a non-empty string")
    if len(v) > MAX_TEXT_CHARS:
        raise ConfigError(label, field, f"{len(v):,} characters, at most {MAX_TEXT_CHARS:,}")
    return v


def _required(v, label: str, field: str) -> str:
    out = _text(v, label, field)
    assert out is not None  # not optional: _text raised on a missing value
    return out


def _entry(model: str, raw, label: str, i: int) -> PublishedCheckpoint:
    where = f"checkpoints[{i}]"
    require_object(raw, label, where)
    hf_id = require_ident(raw.get("hf_id"), label, f"{where}.hf_id")
    if not _HF_ID.match(hf_id):
        raise ConfigError(label, f"{where}.hf_id", f"{hf_id!r} is not a Hugging Face id of the form org/name")
    engines_raw = require_object(raw.get("engines", {}), label, f"{where}.engines")
    engines = []
    for engine, version in engines_raw.items():
        if engine not in ENGINES:
            raise ConfigError(label, f"{where}.engines.{engine}", f"unknown engine (known: {', '.join(ENGINES)})")
        if version is not None and (not isinstance(version, str) or not _VERSION.match(version)):
            raise ConfigError(label, f"{where}.engines.{engine}", f"expected a release number such as 0.8.3 or null, got {version!r}")
        engines.append((engine, version))
    date = _text(raw.get("date"), label, f"{where}.date", optional=True)
    if date is not None and not _DATE.match(date):
        raise ConfigError(label, f"{where}.date", f"expected YYYY-MM-DD or YYYY-MM, got {date!r}")
    return PublishedCheckpoint(
        model=model,
        hf_id=hf_id,
        publisher=_required(raw.get("publisher"), label, f"{where}.publisher"),
        recipe=require_ident(raw.get("recipe"), label, f"{where}.recipe"),
        weight_format=_required(raw.get("weight_format"), label, f"{where}.weight_format"),
        activation_format=_required(raw.get("activation_format"), label, f"{where}.activation_format"),
        kv_scheme=_required(raw.get("kv_scheme"), label, f"{where}.kv_scheme"),
        engines=tuple(sorted(engines)),
        date=date,
        source=_required(raw.get("source"), label, f"{where}.source"),
        notes=_required(raw.get("notes"), label, f"{where}.notes"),
        pretrained_only=_flag(raw.get("pretrained_only", False), label, f"{where}.pretrained_only"),
    )


def _flag(v, label: str, field: str) -> bool:
    if not isinstance(v, bool):
        raise ConfigError(label, field, f"expected true or false, got {v!r}")
    return v


@cache
def _load(model: str) -> tuple[PublishedCheckpoint, ...]:
    label = _label(model)
    with resources.as_file(_folder() / f"{model}.json") as path:  # a real file even from a zip install
        doc = require_object(read_json_file(path, "checkpoints file"), label, "<root>")
    if doc.get("model") != model:
        raise ConfigError(label, "model", f"{doc.get('model')!r} does not match the file name {model!r}")
    entries = doc.get("checkpoints")
    if not isinstance(entries, list):
        raise ConfigError(label, "checkpoints", "expected a list (empty when nothing is released)")
    out = tuple(_entry(model, raw, label, i) for i, raw in enumerate(entries))
    seen: set[str] = set()
    for c in out:
        if c.hf_id.lower() in seen:
            raise ConfigError(label, "checkpoints", f"{c.hf_id} is listed twice")
        seen.add(c.hf_id.lower())
    return out


def published_checkpoints(model_short_name: str) -> list[PublishedCheckpoint]:
    """The published checkpoints of a built-in model, in file order (an empty list when the model
    was announced but not released). UnknownNameError for a name without a checkpoints file."""
    name = str(model_short_name).lower()
    if name not in checkpoint_models():
        raise UnknownNameError("model", str(model_short_name), checkpoint_models())
    return list(_load(name))
