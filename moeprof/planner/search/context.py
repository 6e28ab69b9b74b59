"""What one plan searches with, loaded and checked once: the PlanContext every stage of the search
reads instead of loose pieces, and the named results the stages hand each other.

    PlanContext   the model, targets and search space; the VMs of the search (priced, in the chosen
                  region) and that RegionChoice; the GPU profiles, the engine, each GPU's error
                  band, the model's quantization recipes and the published checkpoint of each
                  (catalog.deployable); the pricing
    plan_context  builds it: VM selection, the unknown-recipe check, the default profiles, the
                  error bands and the checkpoint table, each once per plan
    LayoutStage   stage 1-2: the memory rows and the step costs of the layouts that fit
    ServeStage    stage 3-5 at one set of targets: the rows ranking reads (one DataFrame, the row
                  schema) and the rows rejected only for a missing checkpoint (re-quantising)

The stages take the context and the targets they serve (the plan's, or a relaxed copy of them:
planner.search.relax), never a file, so nothing is read again while a plan runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pandas as pd

from ...catalog.calibration.error_band import ErrorBand
from ...catalog.deployable import RecipeCheckpoint
from ...catalog.engine import EngineConfig, load_engine
from ...catalog.hardware.vm_regions import RegionChoice
from ...catalog.hardware.vms import VmSpec, load_priced_vms
from ...catalog.models import ModelSpec
from ...catalog.models.quant import QuantRecipe, load_recipes
from ...deployment.evaluate import engine_for
from ...errors import MoeprofError, UnknownNameError
from ...profile import default_profile_for
from ..document.targets import SearchSpace, Targets
from .bands import gpu_bands
from .checkpoints import checkpoint_table


@dataclass(frozen=True)
class PlanContext:
    """Everything a plan's stages read besides the targets they serve (frozen: one per plan)."""

    model: ModelSpec
    targets: Targets
    space: SearchSpace
    vms: dict[str, VmSpec]  # the SKUs of the search, priced
    profiles: dict  # GPU key -> Profile (measured or shipped) the performance model runs with
    engine: EngineConfig  # the engine the plan deploys on (its version, limits and memory settings)
    bands: dict[str, ErrorBand]  # GPU key -> its error band (planner.search.bands)
    recipes: dict[str, QuantRecipe]  # the model's recipes (the shipped ones, plus its 'checkpoint')
    checkpoints: dict[str, RecipeCheckpoint | None]  # recipe -> the published checkpoint it loads from
    choice: RegionChoice = field(default_factory=lambda: RegionChoice(None, False))  # where the prices were read
    pricing: str = "payg"
    region: str | None = None  # as asked (None: moeprof chose; choice.region is the one used)

    def at(self, targets: Targets) -> PlanContext:
        """The same context at other targets (planner.search.relax): nothing is loaded again."""
        return replace(self, targets=targets)

    def with_profiles(self, profiles: dict) -> PlanContext:
        """The context with these GPUs' profiles replacing the defaults (and their error bands)."""
        merged = {**self.profiles, **profiles}
        return replace(self, profiles=merged, bands=gpu_bands(self.vms, merged))

    def with_bands(self, bands: dict[str, ErrorBand] | None) -> PlanContext:
        return self if bands is None else replace(self, bands=bands)

    @property
    def gpus(self) -> list[str]:
        """The GPU keys of the search's VMs, sorted."""
        return sorted({vm.gpu.key for vm in self.vms.values()})


@dataclass(frozen=True)
class LayoutStage:
    """What does not depend on the TTFT, TPOT and QPS targets: `memory` one row per (SKU, layout,
    quant, KV dtype, max batch) with its memory verdict (planner.search.layouts; sku, gpu, quant,
    kv_dtype and memory_kind categorical), `latency` the step costs of each distinct layout that fits
    (deployment.steps.layout_latency; None when none fits)."""

    memory: pd.DataFrame
    latency: pd.DataFrame | None

    def fitting(self) -> LayoutStage:
        """Only the rows that fit in memory: the rest is never feasible at any latency or QPS."""
        return LayoutStage(self.memory[self.memory.memory_kind == ""], self.latency)


@dataclass(frozen=True)
class ServeStage:
    """The layouts served at one set of targets. `rows`: one row per (memory row, count of units)
    with the row schema's columns (planner.document.rows: serving, bands, costs, verdict,
    checkpoint), the one DataFrame ranking reads (planner.search.rank); `requantize`: the rows that
    met the targets but were rejected for having no published checkpoint (empty with
    --allow-requantize), the candidates of the plan's re-quantising line."""

    rows: pd.DataFrame
    requantize: pd.DataFrame


def default_profiles(vms) -> dict:
    """The shipped profile of each VM's GPU (measured preferred), where one exists."""
    out = {}
    for vm in vms.values():
        p = default_profile_for(vm.gpu.key)
        if p is not None:
            out[vm.gpu.key] = p
    return out


def select_vms(space: SearchSpace, vm_file, prices, pricing: str = "payg", region: str | None = None, table=None):
    """(VMs of the search, the RegionChoice): a SKU with no price in the region is left out with
    its reason; an error only when no SKU is left."""
    all_vms, choice = load_priced_vms(vm_file, prices, pricing, region, space.skus, table)
    if space.skus:
        unknown = [s for s in space.skus if s not in all_vms and s not in choice.unpriced]
        if unknown:
            raise UnknownNameError("VM SKU", unknown[0], list(all_vms) + list(choice.unpriced))
        all_vms = {k: all_vms[k] for k in space.skus if k in all_vms}
    if not all_vms:
        raise MoeprofError("no VM SKU has a price: " + "; ".join(choice.reasons()))
    return all_vms, choice


def plan_context(model: ModelSpec, targets: Targets, space: SearchSpace | None = None, vm_file: str | None = None,
                 prices: dict | None = None, profiles: dict | None = None, engine=None, pricing: str = "payg",
                 region: str | None = None, price_table: dict | None = None, vms: dict | None = None) -> PlanContext:
    """The PlanContext of plan()'s arguments (planner.search.plan). `vms`: the VMs of the search as
    given (no price list is read; the RegionChoice is empty), else selected from the price list,
    `vm_file`, `prices` and `price_table`. `profiles` None: the shipped profile of each GPU."""
    space = space or SearchSpace()
    engine = engine or engine_for(load_engine(), "vllm", 0.0)
    if vms is None:
        vms, choice = select_vms(space, vm_file, prices, pricing, region, price_table)
    else:
        choice = RegionChoice(None, False, pricing)
    recipes = load_recipes(model)
    for q in space.quants or ():
        if q not in recipes:
            raise UnknownNameError("quantization recipe", q, recipes)
    profiles = profiles if profiles is not None else default_profiles(vms)
    return PlanContext(model=model, targets=targets, space=space, vms=vms, profiles=profiles, engine=engine,
                       bands=gpu_bands(vms, profiles), recipes=recipes, checkpoints=checkpoint_table(model, recipes, engine),
                       choice=choice, pricing=pricing, region=region)
