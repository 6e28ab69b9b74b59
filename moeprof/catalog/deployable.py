"""Which published checkpoint a quantization recipe of a model loads from.

    recipe_checkpoints(ref, "fp8-experts", "vllm", "0.11")   [RecipeCheckpoint, ...] best first
    checkpoint_choice(ref, recipe, engine, version)         the first of them, or None
    checkpoint_by_id(ref, hf_id, recipe)                     the entry a plan named, or None

A built-in model's checkpoints are moeprof/data/checkpoints/<model>.json (a variant such as
maverick-fp8 reads its base model's file) together with the model file's own hf_id and its
variants'. A recipe loads from:
  - an entry whose `recipe` is that recipe (bf16, fp8, fp8-experts, int4, int4-experts);
  - recipe 'checkpoint' (the model's own quantization_config): the model file's checkpoint and the
    entries of the same published weight format (its re-releases, e.g. DeepSeek-R1-0528);
  - recipe 'fp8' also from a bf16 entry, by the engine's online FP8 quantization at load
    (`--quantization fp8`: vLLM and SGLang quantize every linear layer, which is the fp8 recipe's
    layout).
A config-file model (not built-in) has one checkpoint: its hf_id (or, when the file names none, the
weights it describes: hf_id ''), in the layout of its default recipe (its quantization_config, or
bf16), and fp8 online from a bf16 one.

With an engine and version, an entry whose stated minimum release of that engine is newer is
left out; entries a source states the engine loads rank before those with no stated version
(null in the file), which are kept only as the fallback when nothing stated fits.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import MoeprofError
from .engine_args import version_key
from .models import load_model, model_names
from .models.identity import is_builtin_ref
from .models.published import checkpoint_models, published_checkpoints

ONLINE_FP8 = "fp8"  # the engines' --quantization value that quantizes bf16 weights to FP8 at load


@dataclass(frozen=True)
class RecipeCheckpoint:
    """A published checkpoint a recipe loads from."""

    hf_id: str  # '' for a config file that names none: the weights it describes
    publisher: str = ""  # "" when the catalog does not say (a config file's own checkpoint)
    date: str | None = None
    online_quantization: str | None = None  # the engine's --quantization value when it quantizes at load
    engine_stated: bool = False  # a source states the engine (and version) asked for loads it
    first_party: bool = False  # published by the model's maker (the publisher of the model file's checkpoint)

    def text(self) -> str:
        """'org/name (Publisher, date)', with the online quantization when there is one."""
        if not self.hf_id:
            return "the weights the model's config file describes (it names no Hugging Face id)"
        who = ", ".join(x for x in (self.publisher, self.date) if x)
        out = self.hf_id + (f" ({who})" if who else "")
        if self.online_quantization:
            out += f", quantized to {self.online_quantization} by the engine at load (--quantization {self.online_quantization})"
        return out


def _base(ref: str) -> str:
    """The built-in model whose checkpoints file a built-in name reads (a variant: its base)."""
    from .models import _variants

    name = str(ref).strip().lower()
    return _variants().get(name, {}).get("base", name)


def _entries(ref: str, stored_hf_id: str | None = None, stored: bool = False) -> list[tuple[str, str, str, str | None, dict, str]]:
    """(hf_id, recipe, publisher, date, engines, weight_format) of every published checkpoint of
    the model, the catalog's first."""
    from .models import _variants

    out: list[tuple[str, str, str, str | None, dict, str]] = []
    if is_builtin_ref(ref):
        base = _base(ref)
        if base in checkpoint_models():
            out += [(c.hf_id, c.recipe, c.publisher, c.date, dict(c.engines), c.weight_format)
                    for c in published_checkpoints(base)]
        seen = {e[0].lower() for e in out}
        specs = [load_model(base)] if base in model_names() else []
        for v in _variants().values():
            if v.get("base") == base and v.get("hf_id") and v["hf_id"].lower() not in seen:
                out.append((v["hf_id"], v["quant"], "", None, {}, ""))
                seen.add(v["hf_id"].lower())
        for spec in specs:
            if spec.hf_id and spec.hf_id.lower() not in seen:
                out.append((spec.hf_id, spec.default_quant, "", None, {}, ""))
        return out
    if stored:
        hf_id, quant = stored_hf_id, None
    else:
        try:
            spec = load_model(ref)
        except MoeprofError:  # the file moved: no checkpoint known
            return out
        hf_id, quant = spec.hf_id, spec.default_quant
    if hf_id or not stored:  # no hf_id in the file: the weights it sits beside (hf_id '')
        if quant is None:  # a stored plan: the file's layout as it loads now
            try:
                quant = load_model(ref).default_quant
            except MoeprofError:  # the file moved: read as bf16 weights, as plans were before
                quant = "bf16"
        out.append((hf_id or "", quant, "", None, {}, ""))
    return out


def _own_format(ref: str, entries) -> str | None:
    """The published weight format of the model file's own checkpoint (its 'checkpoint' recipe)."""
    if not is_builtin_ref(ref):
        return None
    hf_id = load_model(_base(ref)).hf_id if _base(ref) in model_names() else None
    spec_id = load_model(ref).hf_id
    for e in entries:
        if e[0].lower() in {str(hf_id).lower(), str(spec_id).lower()} and e[1] == "checkpoint" and e[5]:
            return e[5]
    return None


def recipe_checkpoints(ref: str, recipe: str, engine: str | None = None, engine_version: str | None = None,
                       stored_hf_id: str | None = None, stored: bool = False) -> list[RecipeCheckpoint]:
    """The published checkpoints `recipe` of model `ref` (a built-in name or a config path) loads
    from, best first: stated to load on the engine, then as loaded (not quantized at load), then
    the model maker's, the model file's own checkpoint, then the catalog's order. With `stored`,
    a config-file model's checkpoint is `stored_hf_id`."""
    entries = _entries(ref, stored_hf_id, stored)
    own = _own_format(ref, entries) if recipe == "checkpoint" else None
    spec_ids: set[str] = set()
    maker = None
    if is_builtin_ref(ref):
        spec_ids = {str(load_model(ref).hf_id).lower(), str(load_model(_base(ref)).hf_id).lower()}
        maker = next((e[2] for e in entries if e[0].lower() in spec_ids and e[2]), None)
    base_only = ({c.hf_id.lower() for c in published_checkpoints(_base(ref)) if c.pretrained_only}
                 if is_builtin_ref(ref) and _base(ref) in checkpoint_models() else set())
    found: list[tuple[int, int, int, int, int, int, RecipeCheckpoint]] = []
    for i, (hf_id, rec, publisher, date, engines, fmt) in enumerate(entries):
        online = None
        if rec == recipe:
            if recipe == "checkpoint" and is_builtin_ref(ref) and hf_id.lower() not in spec_ids and (own is None or fmt != own):
                continue  # another layout of its own (NVFP4, MXFP4 ...): not this model's quantization_config
        elif recipe == ONLINE_FP8 and rec == "bf16":
            online = ONLINE_FP8
        else:
            continue
        stated = False
        if engine is not None and engine in engines:
            need = engines.get(engine)
            if need is not None:
                if engine_version is not None and version_key(need)[: len(version_key(engine_version))] > version_key(engine_version):
                    continue  # a source says an engine release newer than the plan's is needed
                stated = True
        mine = 0 if hf_id.lower() in spec_ids else 1  # the model file's own checkpoint first
        first = not is_builtin_ref(ref) or (maker is not None and publisher == maker)
        found.append((0 if stated else 1, 1 if online else 0, 0 if first else 1, int(hf_id.lower() in base_only), mine, i,
                      RecipeCheckpoint(hf_id, publisher, date, online, stated, first)))
    return [c for *_, c in sorted(found, key=lambda t: t[:6])]


def checkpoint_choice(ref: str, recipe: str, engine: str | None = None, engine_version: str | None = None,
                      stored_hf_id: str | None = None, stored: bool = False) -> RecipeCheckpoint | None:
    """The checkpoint a deployment of `recipe` loads: the first of recipe_checkpoints, or None."""
    found = recipe_checkpoints(ref, recipe, engine, engine_version, stored_hf_id, stored)
    return found[0] if found else None


def engine_checkpoint(ref: str, recipe: str, engine: str | None, engine_version: str | None, chosen: str | None = None,
                      stored_hf_id: str | None = None, stored: bool = False) -> RecipeCheckpoint | None:
    """The checkpoint an export for `engine` loads: `chosen` (what the plan's row names) unless the
    engine is not stated to load it and another checkpoint of the recipe is; else the best one."""
    found = recipe_checkpoints(ref, recipe, engine, engine_version, stored_hf_id, stored)
    pick = next((c for c in found if chosen and c.hf_id.lower() == chosen.lower()), None)
    if found and (pick is None or (not pick.engine_stated and found[0].engine_stated)):
        pick = found[0]
    return pick


def published_ids(ref: str, stored_hf_id: str | None = None, stored: bool = False) -> list[str]:
    """Every published checkpoint of the model, sorted."""
    return sorted({e[0] for e in _entries(ref, stored_hf_id, stored) if e[0]})


def checkpoint_by_id(ref: str, hf_id: str, recipe: str) -> RecipeCheckpoint | None:
    """The checkpoint a plan named for `recipe` (None when the catalog no longer lists it for that recipe)."""
    for c in recipe_checkpoints(ref, recipe, stored_hf_id=hf_id, stored=bool(hf_id) and not is_builtin_ref(ref)):
        if c.hf_id.lower() == str(hf_id).lower():
            return c
    return None


def parse_engine(text: str) -> tuple[str | None, str | None]:
    """('vllm', '0.11') from a plan's engine field ('vllm 0.11 (V1 engine)'); (None, None) when empty."""
    parts = str(text or "").split()
    if not parts:
        return None, None
    return parts[0].lower(), (parts[1] if len(parts) > 1 else None)
