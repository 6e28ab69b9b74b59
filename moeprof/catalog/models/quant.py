"""Quantization recipes (moeprof/data/quant.json) and KV-cache dtypes.

A recipe gives, per model component, the bytes stored per parameter and the dtype the GEMM
runs in (fp8 on tensor cores, or bf16 for bf16 and dequantised int4 weights).
A model loaded from a quantized checkpoint also has the recipe 'checkpoint' (its
`quantization_config`, see catalog/models/checkpoint_quant.py): pass the model to list or get it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

from ...errors import MoeprofError, UnknownNameError
from .spec import COMPONENTS

KV_DTYPES = {"bf16": 2.0, "fp8": 1.0}  # bytes per KV element (vLLM --kv-cache-dtype auto|fp8)


@dataclass(frozen=True)
class QuantRecipe:
    name: str
    description: str
    weight_bytes_per_param: dict  # component -> bytes/param
    gemm_dtype: dict  # component -> "bf16" | "fp8"
    sources: tuple[str, ...] = ()
    quality_rank: int = 0  # 0 = released weights; higher = further from them (tie-break only)
    quality_note: str = ""
    block_scaled: tuple[str, ...] = ()  # components whose fp8 GEMMs scale per weight block (DeepSeek-style)
    format: str = ""  # a checkpoint's weight format by name (mxfp4, fp8 block 128x128); "" for a recipe

    @property
    def uses_fp8(self) -> bool:
        return "fp8" in self.gemm_dtype.values()


def load_recipes(model=None) -> dict[str, QuantRecipe]:
    """The shipped recipes, plus the model's 'checkpoint' recipe when `model` has one."""
    out = dict(_shipped_recipes())
    if model is not None and getattr(model, "checkpoint_quant", None) is not None:
        out["checkpoint"] = model.checkpoint_quant
    return out


@cache
def _shipped_recipes() -> dict[str, QuantRecipe]:
    """moeprof/data/quant.json, parsed once per process (a package file: it does not change)."""
    d = json.loads((resources.files("moeprof") / "data" / "quant.json").read_text())
    out = {}
    for name, r in d.items():
        if name.startswith("_"):
            continue
        comps = r["components"]
        missing = set(COMPONENTS) - set(comps)
        if missing:
            raise MoeprofError(f"moeprof/data/quant.json: recipe {name} lacks components {sorted(missing)}")
        out[name] = QuantRecipe(
            name=name,
            description=r["description"],
            weight_bytes_per_param={k: float(comps[k]["weight_bytes_per_param"]) for k in COMPONENTS},
            gemm_dtype={k: comps[k]["gemm_dtype"] for k in COMPONENTS},
            sources=tuple(r.get("sources", ())),
            quality_rank=int(r.get("quality_rank", 0)),
            quality_note=str(r.get("quality_note", "")),
        )
    return out


def get_recipe(name: str, model=None, recipes: dict | None = None) -> QuantRecipe:
    """The recipe `name` of the model's; `recipes`: the model's already loaded (load_recipes), else loaded here."""
    recipes = recipes if recipes is not None else load_recipes(model)
    k = name.strip().lower()
    if k not in recipes:
        raise UnknownNameError("quantization recipe", name, recipes)
    return recipes[k]


def kv_bytes_per_element(kv_dtype: str) -> float:
    k = kv_dtype.strip().lower()
    if k not in KV_DTYPES:
        raise UnknownNameError("KV-cache dtype", kv_dtype, KV_DTYPES)
    return KV_DTYPES[k]
