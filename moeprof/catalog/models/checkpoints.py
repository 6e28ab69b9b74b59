"""Which quantization recipes of a model load from a released checkpoint.

    shipped_checkpoints(ref)   {recipe: Hugging Face id} of the published checkpoints of a model
                               (a built-in short name with its variants, or a config file's hf_id)
    quant_label(model, quant)  'checkpoint' by its format's name (mxfp4, fp8 block 128x128)
    released_note(ref, quant)  None when the recipe loads from a release (as shipped, or fp8 by the
                               engine's online quantization of the bf16 weights); else why it does not
"""

from __future__ import annotations

from ...errors import MoeprofError


def shipped_checkpoints(model_name: str, stored_hf_id: str | None = None, stored: bool = False) -> dict[str, str]:
    """With `stored`, a config-file model's checkpoint is `stored_hf_id` (what a plan recorded)."""
    from .. import models as M
    from .identity import is_builtin_ref

    try:
        spec = M.load_model(model_name)
    except MoeprofError:
        spec = None
    variants = M._variants()
    base = variants.get(str(model_name).lower(), {}).get("base", str(model_name).lower())
    shipped: dict[str, str] = {}
    if not is_builtin_ref(model_name):
        default_quant = spec.default_quant if spec is not None else "bf16"
        hf_id = stored_hf_id if stored else (spec.hf_id if spec is not None else None)
        if hf_id:
            shipped[default_quant] = hf_id
    elif base in M.builtin_model_files():
        b = M.load_model(base)
        if b.hf_id:
            shipped[b.default_quant] = b.hf_id
        for v in variants.values():
            if v["base"] == base and v.get("hf_id"):
                shipped.setdefault(v["quant"], v["hf_id"])
    elif spec is not None and spec.hf_id:
        shipped[spec.default_quant] = spec.hf_id
    return shipped


def loads_from_release(quant: str, shipped: dict[str, str]) -> bool:
    return quant in shipped or (quant.startswith("fp8") and "bf16" in shipped) or quant == "checkpoint"


def released_note(model_name: str, quant: str, name: str | None = None) -> str | None:
    shipped = shipped_checkpoints(model_name)
    if loads_from_release(quant, shipped):
        return None
    if not shipped:
        return f"{name or model_name} has no released checkpoint: the deployment needs weights of your own"
    released = ", ".join(sorted(quant_label(model_name, q) for q in shipped))
    return (f"no released {quant} checkpoint of {name or model_name} (released: {released}): "
            f"the deployment needs {quant} weights of your own")


def quant_label(model, quant: str) -> str:
    """A recipe as printed: 'checkpoint' (the released weights' own quantization) by its format's
    name (mxfp4, fp8 block 128x128); any other recipe by its name. `model`: a ModelSpec or a
    built-in short name."""
    if quant != "checkpoint":
        return quant
    if isinstance(model, str):
        from .loader import _builtin_model, model_names

        if model.lower() not in model_names():
            return quant
        model = _builtin_model(model.lower())
    recipe = getattr(model, "checkpoint_quant", None)
    return getattr(recipe, "format", "") or quant

