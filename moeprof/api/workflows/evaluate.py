"""One fixed deployment under the engine's scheduler, as `moeprof evaluate` and `moeprof.evaluate()`
run it: the deployment from the options, the load (a concurrency, a QPS or a sweep of either), the
rows of deployment.evaluate with their error bands, and the header they print under.

A closed-loop load is named as vLLM's benchmark names it (`max_concurrency`, `vllm bench serve
--max-concurrency`); `concurrency` is still read."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from ...calibrate.regressions import regression_for
from ...catalog.calibration.serving import error_band_for
from ...catalog.engine import load_engine
from ...catalog.hardware.vms import get_gpu, load_vms
from ...catalog.models import load_model
from ...deployment.evaluate import Deployment, bare_host, engine_for
from ...deployment.evaluate import evaluate as run_evaluate
from ...errors import FlagError, UnknownNameError
from ...perf import resolve_profile
from ...planner.search.bands import evaluate_bands

MAX_SWEEP_POINTS = 256  # rows of one sweep (each is a full evaluation)
CONCURRENCY = "max_concurrency"  # vLLM's name for requests in flight (bench serve's result JSON)
LOAD_NAMES = {"max_concurrency": CONCURRENCY, "concurrency": CONCURRENCY, "qps": "qps"}
_NUMBER = re.compile(r"\s*(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*", re.ASCII)


def parse_sweep(text: str) -> tuple[str, list[float]]:
    """'max_concurrency=1,4,16' (or the older 'concurrency=...', or 'qps=...') -> (load, values)."""
    key, _, vals = str(text).partition("=")
    key = LOAD_NAMES.get(key.strip().lower(), "")
    if not key or not vals:
        raise FlagError("--sweep", "expected max_concurrency=1,2,4,... (or concurrency=...) or qps=1,2,...")
    parts = [v for v in vals.split(",") if v.strip()]
    if len(parts) > MAX_SWEEP_POINTS:
        raise FlagError("--sweep", f"{len(parts):,} points, at most {MAX_SWEEP_POINTS} in one sweep")
    bad = next((v for v in parts if not _NUMBER.fullmatch(v)), None)
    if bad is not None:
        raise FlagError("--sweep", f"{bad.strip()[:40]!r} is not a number")
    out = [float(v) for v in parts]
    if not out or any(not (0 < v <= 1e6) for v in out):
        raise FlagError("--sweep", "values must be in (0, 1e6]")
    if key == CONCURRENCY and any(v != int(v) for v in out):
        raise FlagError("--sweep", "a concurrency is a whole number of requests in flight")
    return key, out


def row_load(row: dict) -> tuple[str, float]:
    """(load name, value) of an evaluate row, new key or old."""
    for k in ("max_concurrency", "concurrency", "qps"):
        if row.get(k) is not None:
            return LOAD_NAMES[k], float(row[k])
    raise KeyError("max_concurrency")


def flat_bands(r: dict) -> dict:
    """A row with its bands as columns: median_tpot_ms -> median_tpot_low_ms, median_tpot_high_ms;
    request_throughput -> request_throughput_low, _high."""
    out = {k: v for k, v in r.items() if k != "bands"}
    for k, b in r["bands"].items():
        stem, unit = (k[:-3], "_ms") if k.endswith("_ms") else (k, "")
        out[f"{stem}_low{unit}"], out[f"{stem}_high{unit}"] = (b[0], b[1]) if b else (None, None)
    return out


@dataclass
class EvaluateRun:
    """What one `evaluate` computed: the header (deployment, engine, calibration, band), the rows
    (one per load value, bands under `bands`), the load's name and whether it was a sweep."""

    head: dict
    rows: list[dict]
    load: str
    is_sweep: bool
    deployment: Deployment
    band: object

    def to_json(self) -> dict:
        """What `evaluate --json` prints: the header with the row's figures, or a list under 'sweep'."""
        return {**self.head, "sweep": self.rows} if self.is_sweep else {**self.head, **self.rows[0]}

    def flat_rows(self) -> list[dict]:
        """One flat dict per row (`--csv`): the header's scalars, the figures, each band as low / high."""
        src = getattr(self.band, "source", None)
        return [{**{k: v for k, v in self.head.items() if k != "error_band"}, **flat_bands(r), "error_band_source": src}
                for r in self.rows]


def evaluate_run(model_name, sku, vms, gpu_name, gpus, tp, ep, pp, quant, kv_dtype, concurrency, qps, num_prompts, sweep,
                 input_tokens, output_tokens, engine_name, engine_version, percentile, profile_path,
                 fixed_lengths: bool = False, mxfp4_moe_kernel: str = "") -> EvaluateRun:
    """The rows of `moeprof evaluate` for its options (converted and bounded); mxfp4_moe_kernel:
    "" or "default" (the engine's default) or "marlin" (vLLM with VLLM_MXFP4_USE_MARLIN=1, on NVIDIA)."""
    model = load_model(model_name)
    if (sku is None) == (gpu_name is None):
        raise FlagError("--sku", "give --sku (with --vms) or --gpu (with --gpus)", usage=True)
    if sku is not None:
        all_vms = load_vms()
        key = sku.strip().lower()
        if key not in all_vms:
            raise UnknownNameError("VM SKU", sku, all_vms)
        vm, n_vms = all_vms[key], vms
    else:
        if gpus is None:
            raise FlagError("--gpus", "--gpu needs --gpus", usage=True)
        vm, n_vms = bare_host(get_gpu(gpu_name), gpus)
    loads = [x for x in (concurrency, qps, sweep) if x is not None]
    if len(loads) != 1:
        raise FlagError("--max-concurrency", "give exactly one of --max-concurrency, --qps, --sweep", usage=True)
    if sweep is not None:
        load, values = parse_sweep(sweep)
    else:
        load, values = (CONCURRENCY, [concurrency]) if concurrency is not None else ("qps", [qps])
    if ep not in (1, tp) and (ep < tp or ep % tp):
        raise FlagError("--ep", f"must be 1, equal to --tp ({tp}) or a multiple of it (wide EP across VMs)")
    engine = engine_for(load_engine(), engine_name, vm.gpu.usable_memory_bytes, engine_version)
    mxfp4_moe_kernel = "" if mxfp4_moe_kernel in (None, "", "default") else mxfp4_moe_kernel
    if mxfp4_moe_kernel:
        if engine_name != "vllm" or vm.gpu.vendor != "nvidia":
            raise FlagError("--mxfp4-moe-kernel", "marlin is vLLM's Marlin MoE kernel (VLLM_MXFP4_USE_MARLIN=1), on NVIDIA GPUs only")
        if (model.checkpoint_quant is None or model.checkpoint_quant.format != "mxfp4") or (quant or model.default_quant) != "checkpoint":
            raise FlagError("--mxfp4-moe-kernel", f"{model.name} is not served from MXFP4 experts (its checkpoint's format with --quant checkpoint)")
        engine = dataclasses.replace(engine, mxfp4_moe_kernel=mxfp4_moe_kernel)
    dep = Deployment(model, vm, n_vms, tp, ep, pp, quant or model.default_quant, kv_dtype, engine,
                     resolve_profile(vm.gpu, profile_path))
    if num_prompts is not None and load != CONCURRENCY:
        raise FlagError("--num-prompts", "--num-prompts goes with --max-concurrency (or a concurrency sweep)", usage=True)
    if num_prompts is not None and num_prompts < max(values):
        raise FlagError("--num-prompts", f"{num_prompts} prompts cannot keep {max(values):g} requests in flight: give "
                                         "--num-prompts at least the concurrency")
    if fixed_lengths and load != CONCURRENCY:
        raise FlagError("--fixed-lengths", "--fixed-lengths goes with --max-concurrency (or a concurrency sweep): Poisson "
                                           "arrivals do not come in waves", usage=True)
    kind = "concurrency" if load == CONCURRENCY else "qps"
    rows = run_evaluate(dep, kind, values, input_tokens, output_tokens, percentile, num_prompts=num_prompts,
                        fixed_lengths=fixed_lengths)
    band = error_band_for(vm.gpu.key, vm.gpu.vendor, dep.profile)
    out = []
    for r in rows:
        r["bands"] = evaluate_bands(r, band)
        out.append({load: r.pop(kind), **r} if kind != load else r)
    head = {"model": model.name, "gpu": vm.gpu.key, "gpus": dep.gpus, "sku": sku, "tp": tp, "ep": ep, "pp": pp,
            "quant": dep.quant, "kv_dtype": kv_dtype, "engine": f"{engine.engine} {engine.engine_version}",
            "input_tokens": input_tokens, "output_tokens": output_tokens, "fixed_lengths": bool(fixed_lengths), "percentile": percentile,
            "mxfp4_moe_kernel": mxfp4_moe_kernel or None,
            "calibration": dep.profile.label if dep.profile is not None else "datasheet x published efficiencies",
            "error_band": band.to_json()}
    known = regression_for(engine.engine, engine.engine_version, vm.gpu.key, model.hf_id or "")
    if known is not None:  # published runs of this release measured what the model does not represent
        head["warning"] = (f"{engine.engine} {engine.engine_version} has a {known.label()} on {vm.gpu.key} for {model.hf_id}: "
                           f"{known.what}; ended by {known.ended_by} ({', '.join(known.evidence[:2])})")
    return EvaluateRun(head, out, load, sweep is not None, dep, band)
