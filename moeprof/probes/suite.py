"""Run the probe suite on the device at hand and build a measured profile.

    profile = run_suite(ProbeSettings(device="cpu", quick=True))
    save_profile(profile, path)          # atomic; the CLI does this

Nothing is written here: an interrupted run leaves no file."""

from __future__ import annotations

import importlib
from pathlib import Path

import torch

from ..catalog.models import load_model
from ..profile import Profile, save_profile
from ..telemetry import TelemetryRecorder, open_backend
from .context import ProbeContext, stderr_progress
from .device import DeviceInfo, resolve_device
from .fit import fit_curves, fit_scalars
from .provenance import collect_provenance, gpu_key_for
from .settings import ProbeSettings
from .shapes import auto_scale, probe_shapes

MOE_MEMORY_FRACTION = 0.45  # of free device memory, for one MoE layer's weights


def device_telemetry(dev: DeviceInfo):
    """(backend, index) for the probed device: NVML for CUDA, amdsmi for ROCm, host for CPU."""
    vendor = {"cuda": "nvidia", "rocm": "amd", "cpu": "cpu"}[dev.kind]
    b = open_backend(vendor)
    if not b.available and vendor != "cpu":
        return b, dev.index
    return b, b.index_for_uuid(dev.uuid, dev.index)


def build_context(settings: ProbeSettings, progress=stderr_progress) -> ProbeContext:
    dev = resolve_device(settings.device)
    if dev.kind == "cpu" and settings.cpu_threads:
        torch.set_num_threads(settings.cpu_threads)
    spec = load_model(settings.model)
    scale = settings.shape_scale or auto_scale(dev.kind, dev.memory_total_bytes, settings.quick)
    free = dev.memory_free_bytes()
    moe_budget = MOE_MEMORY_FRACTION * free if free else None
    if dev.kind == "cpu":
        moe_budget = min(moe_budget or 2**30, 2**30)
    shapes = probe_shapes(spec, scale, moe_budget)
    tele, idx = device_telemetry(dev)
    torch.manual_seed(settings.seed)
    return ProbeContext(settings, dev, spec, shapes, tele, idx, progress)


def run_suite(settings: ProbeSettings, progress=stderr_progress, ctx: ProbeContext | None = None) -> Profile:
    ctx = ctx or build_context(settings, progress)
    dev, sh = ctx.dev, ctx.shapes
    ctx.progress(
        f"probing {dev.name} ({dev.kind}) for {sh.model}: shape scale {sh.scale:g}, "
        f"{sh.num_experts}/{sh.num_experts_model} experts, telemetry {ctx.telemetry.vendor}"
        + (f", budget {settings.budget_s:g} s" if settings.budget_s else "")
    )
    for note in dev.notes:
        ctx.progress(f"note: {note}")
    rec = TelemetryRecorder(ctx.telemetry, ctx.telemetry_index, interval_s=0.25 if dev.is_gpu else 0.5).start()
    todo = list(settings.probes)
    try:
        while todo:
            name = todo[0]
            ctx.begin(name, todo)
            rec.phase = name
            mod = importlib.import_module(f"{__package__}.{name}")
            mod.run(ctx)
            todo.pop(0)
            dev.empty_cache()
    finally:
        rec.phase = "end"
        telemetry_rows = rec.stop()
    ctx.rows.extend(telemetry_rows)
    return build_profile(ctx)


def run_and_save(settings: ProbeSettings, out=None, progress=stderr_progress) -> tuple[Profile, Path]:
    """Run the suite and write the profile atomically to `out` (default ./<gpu>.measured.json)."""
    prof = run_suite(settings, progress)
    path = Path(out) if out else Path(f"{prof.gpu}.measured.json")
    save_profile(prof, path)
    prof.path = str(path)
    return prof, path


def build_profile(ctx: ProbeContext) -> Profile:
    dev, s = ctx.dev, ctx.settings
    tsample = ctx.telemetry.sample(ctx.telemetry_index)
    extra = {
        "device": dev.describe(),
        "telemetry": {
            "vendor": ctx.telemetry.vendor,
            "available": ctx.telemetry.available,
            "notes": list(ctx.telemetry.notes) + tsample.notes,
            "sample": tsample.to_dict(),
        },
        "model": ctx.spec.name,
        "shapes": ctx.shapes.to_json(),
        "elapsed_s": ctx.elapsed_s(),
    }
    settings = s.to_json()
    settings["shapes"] = ctx.shapes.to_json()
    prov = collect_provenance(dev.name, settings, driver=ctx.telemetry.driver_version, extra=extra)
    errors = sum(1 for r in ctx.rows if "error" in r)
    note = f"measured by moeprof probe on {dev.name} ({dev.kind}), {len(ctx.rows)} rows, {errors} with errors"
    if dev.kind == "cpu":
        note += "; a CPU profile exercises the probes and the model, it does not describe a GPU"
    return Profile(
        gpu=gpu_key_for(dev.name, dev.kind),
        source="measured",
        provenance=prov,
        curves=fit_curves(ctx.rows),
        scalars=fit_scalars(ctx.rows),
        rows=ctx.rows,
        note=note,
    )
