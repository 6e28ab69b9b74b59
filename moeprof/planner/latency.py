"""Stage 2 of the search: the performance model of each distinct layout (moeprof.perf).

Per (SKU, TP x EP x PP, quantization, KV dtype): the decode step on the serving model's batch
grid at the mean KV length a sequence has while decoding, one prefill of the input, and the
energy of each.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import perf, serving
from ..catalog.quant import get_recipe
from .targets import Targets

LAYOUT_COLUMNS = ["sku", "gpu", "tp", "ep", "pp", "quant", "kv_dtype", "gpus_per_replica", "vms_per_replica"]


def layout_latency(model, vms, layouts: pd.DataFrame, targets: Targets, routing_skew: float, profiles) -> pd.DataFrame:
    """`layouts` (LAYOUT_COLUMNS) with prefill_s, prefill_j, decode_s_grid, decode_j_grid (one
    array per row over serving.BATCH_GRID) and calibration (where the rates come from)."""
    out = []
    ctx_tokens = targets.input_tokens + targets.output_tokens / 2.0  # mean KV length while decoding
    grid = serving.BATCH_GRID
    for (sku, qn, kv), g in layouts.groupby(["sku", "quant", "kv_dtype"], sort=False):
        vm = vms[sku]
        ctx = perf.make_context(model, vm.gpu, get_recipe(qn), kv, profiles.get(vm.gpu.key), vm, routing_skew)
        n = len(g)
        tp = np.repeat(g.tp.to_numpy(), len(grid))
        ep = np.repeat(g.ep.to_numpy(), len(grid))
        pp = np.repeat(g.pp.to_numpy(), len(grid))
        nv = np.repeat(g.vms_per_replica.to_numpy(), len(grid))
        b = np.tile(grid, n)
        micro = np.maximum(b / pp, 1.0)  # pp microbatches in flight, b / pp sequences each
        d = perf.decode_step(ctx, micro, np.full_like(b, ctx_tokens), tp=tp, ep=ep, pp=pp, num_vms=nv)
        # A sequence waits for its microbatch to pass all pp stages: pp x the slowest stage.
        step_s = np.where(pp > 1, pp * np.asarray(d.stage_s, dtype=float), np.asarray(d.total_s, dtype=float))
        step_j = np.asarray(d.energy_j, dtype=float) * pp  # every stage's GPUs draw for each microbatch
        p = perf.prefill_step(
            ctx,
            np.full(n, float(targets.input_tokens)),
            np.full(n, float(targets.input_tokens)),
            tp=g.tp.to_numpy(),
            ep=g.ep.to_numpy(),
            pp=g.pp.to_numpy(),
            num_vms=g.vms_per_replica.to_numpy(),
        )
        h = g.copy()
        h["prefill_s"] = np.asarray(p.total_s, dtype=float)
        h["prefill_j"] = np.asarray(p.energy_j, dtype=float)
        h["decode_s_grid"] = list(step_s.reshape(n, len(grid)))
        h["decode_j_grid"] = list((step_j * micro / b).reshape(n, len(grid)))  # per microbatch-step -> per step of b
        h["calibration"] = perf.calibration_label(ctx)
        out.append(h)
    return pd.concat(out, ignore_index=True) if out else layouts.assign(prefill_s=[])
