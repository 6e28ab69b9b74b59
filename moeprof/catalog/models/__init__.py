"""Model catalog facade: ModelSpec (catalog/models/spec.py), the layout registry (catalog/models/registry.py)
with one parser per family (catalog/parsers/), and the loader of built-in and user configs
(catalog/models/loader.py)."""

from __future__ import annotations

from .hub import load_model
from .loader import _variants, builtin_model_files, from_hf_config, load_config_file, model_names  # noqa: F401
from .spec import ATTENTION_KINDS, COMPONENTS, LayerKind, ModelSpec

__all__ = [
    "ATTENTION_KINDS",
    "COMPONENTS",
    "LayerKind",
    "ModelSpec",
    "builtin_model_files",
    "from_hf_config",
    "load_config_file",
    "load_model",
    "model_names",
]
