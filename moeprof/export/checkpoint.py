"""What an export loads: the published checkpoint and engine --quantization flag that give a plan's
quantization recipe (catalog.deployable), or a checkpoint the user supplies."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import MoeprofError


@dataclass(frozen=True)
class Checkpoint:
    model_id: str | None  # None: the user must supply one (the MODEL variable)
    quantization: str | None  # engine --quantization value, None for the checkpoint's own
    notes: tuple[str, ...] = ()


def plan_checkpoint(inputs: dict, quant: str, engine: str = "vllm", engine_version: str | None = None,
                    chosen: str | None = None) -> Checkpoint:
    """The checkpoint of the model a plan planned (a config file: the hf_id the plan stored, or for
    older plans the file's own); `chosen`: the one the plan's row names (catalog.deployable.engine_checkpoint)."""
    from ..catalog.models.identity import is_builtin_ref

    ref, stored = inputs["model"], not is_builtin_ref(inputs["model"]) and "hf_id" in inputs
    return resolve_checkpoint(ref, quant, inputs.get("hf_id") if stored else None, stored,
                              None if is_builtin_ref(ref) else inputs.get("model_name"), engine, engine_version, chosen)


def resolve_checkpoint(model_name: str, quant: str, stored_hf_id: str | None = None, stored: bool = False,
                       display_name: str | None = None, engine: str | None = None, engine_version: str | None = None,
                       chosen: str | None = None) -> Checkpoint:
    """The published checkpoint and engine quantization flag that give the plan's quantization
    recipe (catalog.deployable). `model_name` is a built-in short name or a config path; with
    `stored`, the checkpoint is `stored_hf_id` (what the plan recorded), never a catalog look-up."""
    from ..catalog import models as M
    from ..catalog.deployable import engine_checkpoint, published_ids

    try:
        spec = M.load_model(model_name)
    except MoeprofError:
        spec = None
    name = display_name or (spec.name if spec is not None else str(model_name))
    pick = engine_checkpoint(model_name, quant, engine, engine_version, chosen, stored_hf_id, stored)
    if pick is None or not pick.hf_id:
        known = published_ids(model_name, stored_hf_id, stored)
        if not known:
            return Checkpoint(None, None, (f"{name} has no public checkpoint: set MODEL to your own",))
        return Checkpoint(None, None, (f"the {quant} recipe needs a pre-quantized {quant} checkpoint of {name} (none is "
                                       f"published; published: {', '.join(known)}): set MODEL to it",))
    notes = [f"checkpoint {pick.text()}"]
    if pick.online_quantization:
        notes.append(f"{quant} weights from the bf16 checkpoint by online FP8 quantization (--quantization fp8)")
    if engine and not pick.engine_stated:
        notes.append(f"no source read states the first {engine} release that loads {pick.hf_id} "
                     "(moeprof/data/checkpoints): check it loads before relying on it")
    return Checkpoint(pick.hf_id, pick.online_quantization, tuple(notes))
