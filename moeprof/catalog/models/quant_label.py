"""A recipe as printed: the released weights' own quantization ('checkpoint') by its format's name."""

from __future__ import annotations


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

