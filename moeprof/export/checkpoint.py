"""What an export loads: the checkpoint and engine --quantization flag that give a plan's quantization
recipe (a shipped checkpoint, online FP8 from the bf16 one, or a checkpoint the user supplies)."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import MoeprofError


@dataclass(frozen=True)
class Checkpoint:
    model_id: str | None  # None: the user must supply one (the MODEL variable)
    quantization: str | None  # engine --quantization value, None for the checkpoint's own
    notes: tuple[str, ...] = ()


def plan_checkpoint(inputs: dict, quant: str) -> Checkpoint:
    """The checkpoint of the model a plan planned: a built-in model by its short name, a config
    file by the hf_id the plan stored (or, for older plans, the file itself)."""
    from ..catalog.models.identity import is_builtin_ref

    ref = inputs["model"]
    if is_builtin_ref(ref):
        return resolve_checkpoint(ref, quant)
    return resolve_checkpoint(ref, quant, stored_hf_id=inputs.get("hf_id"), stored=("hf_id" in inputs),
                              display_name=inputs.get("model_name"))


def resolve_checkpoint(model_name: str, quant: str, stored_hf_id: str | None = None, stored: bool = False,
                       display_name: str | None = None) -> Checkpoint:
    """The checkpoint and engine quantization flag that give the plan's quantization recipe.
    `model_name` is a built-in short name or a config path; with `stored`, the checkpoint is
    `stored_hf_id` (what the plan recorded), never a catalog look-up."""
    from ..catalog import models as M
    from ..catalog.models.checkpoints import shipped_checkpoints

    try:
        spec = M.load_model(model_name)
    except MoeprofError:
        spec = None
    shipped = shipped_checkpoints(model_name, stored_hf_id, stored)  # recipe -> checkpoint that ships it
    name = display_name or (spec.name if spec is not None else str(model_name))
    if quant in shipped:
        return Checkpoint(shipped[quant], None, (f"checkpoint {shipped[quant]} ships the {quant} weights",))
    bf16 = shipped.get("bf16")
    if quant.startswith("fp8") and bf16:
        notes = [f"{quant} weights from the bf16 checkpoint by online FP8 quantization (--quantization fp8)"]
        if quant != "fp8":
            notes.append(
                f"online FP8 quantizes every linear layer, the plan's {quant} recipe only part of them: "
                "slightly less memory and different accuracy than planned"
            )
        return Checkpoint(bf16, "fp8", tuple(notes))
    if not shipped:
        return Checkpoint(None, None, (f"{name} has no public checkpoint: set MODEL to your own",))
    known = ", ".join(f"{q}: {c}" for q, c in shipped.items())
    return Checkpoint(None, None, (
        f"the {quant} recipe needs a pre-quantized {quant} checkpoint of {name} (none is published; "
        f"published: {known}): set MODEL to it",
    ))
