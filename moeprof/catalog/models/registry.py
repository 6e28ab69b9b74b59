"""Which parser reads a config.json: chosen by `architectures`, then by `model_type`.

Each parser module in catalog/parsers declares FAMILY, ARCHITECTURES, MODEL_TYPES and a
`parse(text, full, path) -> dict` of ModelSpec fields. A config no parser claims is refused with
one line naming what is supported; nothing is guessed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ...errors import ConfigError
from .parsers import dbrx, deepseek, glm4_moe, gpt_oss, llama, llama4, minimax_m2, mixtral, olmoe, phimoe, qwen_moe


@dataclass(frozen=True)
class Layout:
    family: str
    architectures: tuple[str, ...]
    model_types: tuple[str, ...]
    parse: Callable


LAYOUTS = tuple(
    Layout(m.FAMILY, m.ARCHITECTURES, m.MODEL_TYPES, m.parse)
    for m in (llama4, mixtral, qwen_moe, deepseek, glm4_moe, gpt_oss, minimax_m2, dbrx, olmoe, phimoe, llama)
)


def supported() -> str:
    return ", ".join(f"{l.family} ({'/'.join(l.model_types)})" for l in LAYOUTS)


def choose(cfg: dict, text: dict, path) -> Layout:
    """The layout of a config: the first `architectures` entry any parser claims, else its model_type."""
    archs = cfg.get("architectures") or text.get("architectures") or []
    if isinstance(archs, str):
        archs = [archs]
    for a in archs:
        for layout in LAYOUTS:
            if a in layout.architectures:
                return layout
    model_type = str(text.get("model_type") or cfg.get("model_type") or "")
    for layout in LAYOUTS:
        if model_type in layout.model_types:
            return layout
    given = []
    if archs:
        given.append(f"architectures {list(archs)}")
    if model_type:
        given.append(f"model_type {model_type!r}")
    what = " and ".join(given) if given else "neither architectures nor model_type is given"
    raise ConfigError(path, "model_type", f"unsupported layout: {what} (supported: {supported()})")
