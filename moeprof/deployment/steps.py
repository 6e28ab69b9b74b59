"""Stage 2 of the search: the performance model of each distinct layout (moeprof.perf), as the
serving model takes it (serving.StepCosts).

Per (SKU, TP x EP x PP, quantization, KV dtype):
    s_dec    decode step on serving.BATCH_GRID at the mean KV length a sequence has while decoding
             (input + output / 2); with PP, pp microbatches in flight and a sequence waiting for
             its microbatch to pass every stage
    g_tok    the token-proportional work of a step (every op but attention) for serving.TOKEN_GRID
             prompt tokens: a prefill of T tokens minus its attention
    attn     the attention of one whole prompt of input_tokens
    energies of a decode step (per step of b sequences) and of one prefill.
GPU times are scaled by the GPU's serving calibration (catalog.calibration: fitted on published
serving runs; a profile's own section, written by `moeprof calibrate`, wins over the shipped file),
the prompt work (token grid, prompt attention, prefill) also by its prefill_time_scale, and the host
time per step is the engine's calibrated one where it has one (the profile's own where it has one).
The energies follow the scaled times: the GPUs draw idle power through the time the calibration adds
(perf.energy.time_scaled_energy_j); the kernel energy is the same work and is not scaled.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import perf, serving
from ..catalog.calibration.serving import ServingCalibration
from ..catalog.models.quant import get_recipe
from ..perf.energy import idle_power_w, time_scaled_energy_j
from ..profile import shipped_profiles
from .calibration import choose_calibration

LAYOUT_COLUMNS = ["sku", "gpu", "tp", "ep", "pp", "quant", "kv_dtype", "gpus_per_replica", "vms_per_replica"]


def _attention_s(res) -> np.ndarray:
    """Seconds of attention in a StepResult (every layer kind's attention op x its layer count)."""
    total = 0.0
    for key, ops in res.ops.items():
        if "attention" in ops:
            total = total + res.layer_counts.get(key, 0) * np.asarray(ops["attention"], dtype=float)
    return np.asarray(total, dtype=float)


def prefill_profile(gpu_key: str, engine: str, profile):
    """The profile prefill is timed with: `profile` when it carries kernel tables, else the shipped
    measured kernel tables of the GPU and engine (<gpu>.aic-<engine>, aiconfigurator's silicon
    tables: GEMM, context attention and MoE at prefill shapes) where they exist, else `profile`."""
    if profile is not None and profile.kernel_tables_json:
        return profile
    return shipped_profiles().get(f"{gpu_key}.aic-{engine}", profile)


def layout_steps(model, vm, quant: str, kv_dtype: str, profile, routing_skew: float, tp, ep, pp, nv,
                 input_tokens: float, output_tokens: float, calibration: ServingCalibration | None = None,
                 engine: str = "vllm", engine_version: str | None = None, recipe=None, mxfp4_moe_kernel: str = "") -> dict:
    """Step costs of n layouts (arrays tp, ep, pp, nv of length n) of one (SKU, quant, KV dtype),
    the GPU times scaled by the GPU's serving calibration and the host time the engine's
    (catalog.calibration; a profile's own section first). `recipe`: the QuantRecipe named `quant`
    (None: looked up); `mxfp4_moe_kernel`: the MoE kernel of MXFP4 experts ("": the engine's default)."""
    cal = choose_calibration(vm.gpu.key, engine, profile, calibration, engine_version)
    k = cal.step_time_scale
    kp = k * cal.prefill_time_scale
    recipe = recipe if recipe is not None else get_recipe(quant, model)
    ctx = perf.make_context(model, vm.gpu, recipe, kv_dtype, profile, vm, routing_skew, mxfp4_moe_kernel)
    pre = prefill_profile(vm.gpu.key, engine, profile)
    pctx = ctx if pre is profile else perf.make_context(model, vm.gpu, recipe, kv_dtype, pre, vm, routing_skew, mxfp4_moe_kernel)
    tp, ep, pp, nv = (np.asarray(x, dtype=float) for x in (tp, ep, pp, nv))
    n = len(tp)
    grid, tok = serving.BATCH_GRID, serving.TOKEN_GRID
    ctx_tokens = input_tokens + output_tokens / 2.0  # mean KV length while decoding
    rep = lambda a, k: np.repeat(a, k)  # noqa: E731
    b = np.tile(grid, n)
    PP = rep(pp, len(grid))
    micro = np.maximum(b / PP, 1.0)  # pp microbatches in flight, b / pp sequences each
    d = perf.decode_step(ctx, micro, np.full_like(b, ctx_tokens), tp=rep(tp, len(grid)), ep=rep(ep, len(grid)), pp=PP,
                         num_vms=rep(nv, len(grid)))
    step_s = np.where(PP > 1, PP * np.asarray(d.stage_s, dtype=float), np.asarray(d.total_s, dtype=float))
    idle_w = idle_power_w(vm.gpu, profile)
    # every stage's GPUs draw for each microbatch, through the calibrated (scaled) step time
    step_j = time_scaled_energy_j(d.energy_j, idle_w, rep(tp, len(grid)) * PP, d.total_s, k) * PP
    # One prefill evaluation for both the token grid (n x len(tok) chunks) and the n whole prompts
    # of input_tokens (the last n entries): the step model is elementwise, so this is two calls' worth.
    nt = n * len(tok)
    T = np.concatenate([np.tile(tok, n), np.full(n, float(input_tokens))])
    cat = lambda a: np.concatenate([rep(a, len(tok)), a])  # noqa: E731
    g = perf.prefill_step(pctx, T, T, tp=cat(tp), ep=cat(ep), pp=cat(pp), num_vms=cat(nv))
    g_total = np.asarray(g.total_s, dtype=float) * np.ones(nt + n)
    g_attn = _attention_s(g) * np.ones(nt + n)
    g_tok = (g_total[:nt] - g_attn[:nt]).reshape(n, len(tok))
    return {
        "decode_s_grid": list(k * step_s.reshape(n, len(grid))),
        "decode_j_grid": list((step_j * micro / b).reshape(n, len(grid))),  # per microbatch-step -> per step of b
        "token_s_grid": list(kp * np.maximum.accumulate(g_tok, axis=1)),  # more tokens never cost less
        "prompt_attention_s": kp * g_attn[nt:],
        "prefill_s": kp * g_total[nt:],
        "host_s": np.full(n, np.nan if cal.host_overhead_s_per_step is None else cal.host_overhead_s_per_step),
        "prefill_j": time_scaled_energy_j(np.asarray(g.energy_j, dtype=float)[nt:] * np.ones(n), idle_w, tp * pp, g_total[nt:], kp),
        "calibration": perf.calibration_label(ctx),
    }


def layout_latency(model, vms, layouts: pd.DataFrame, targets, routing_skew: float, profiles, engine=None,
                   recipes: dict | None = None) -> pd.DataFrame:
    """`layouts` (LAYOUT_COLUMNS) with the step costs of layout_steps as columns; `recipes` the
    model's QuantRecipes by name (None: each looked up)."""
    out = []
    for (sku, qn, kv), g in layouts.groupby(["sku", "quant", "kv_dtype"], sort=False):
        vm = vms[sku]
        steps = layout_steps(model, vm, str(qn), str(kv), profiles.get(vm.gpu.key), routing_skew, g.tp.to_numpy(), g.ep.to_numpy(),
                             g.pp.to_numpy(), g.vms_per_replica.to_numpy(), targets.input_tokens, targets.output_tokens,
                             engine=getattr(engine, "engine", "vllm"), engine_version=getattr(engine, "engine_version", None),
                             recipe=(recipes or {}).get(str(qn)))
        h = g.copy()
        for k, v in steps.items():
            h[k] = v
        out.append(h)
    return pd.concat(out, ignore_index=True) if out else layouts.assign(prefill_s=[])


def workload(n: int, input_tokens: float, output_tokens: float, engine, max_seqs) -> serving.Workload:
    """n copies of one request shape under the engine's token budget, at most `max_seqs` sequences each."""
    return serving.Workload(
        input_tokens=np.full(n, float(input_tokens)),
        output_tokens=np.full(n, float(output_tokens)),
        budget_tokens=np.full(n, float(engine.max_num_batched_tokens)),
        max_seqs=np.asarray(max_seqs, dtype=float) * np.ones(n),
    )


def step_costs(rows: pd.DataFrame, engine) -> serving.StepCosts:
    """serving.StepCosts of rows that carry layout_steps' columns."""
    n = len(rows)
    return serving.StepCosts(
        s_dec=np.stack(rows.decode_s_grid.to_list()) if n else np.zeros((0, len(serving.BATCH_GRID))),
        g_tok=np.stack(rows.token_s_grid.to_list()) if n else np.zeros((0, len(serving.TOKEN_GRID))),
        attn_prompt_s=rows.prompt_attention_s.to_numpy(dtype=float),
        host_s=(np.where(np.isnan(rows.host_s.to_numpy(dtype=float)), engine.host_overhead_s_per_step, rows.host_s.to_numpy(dtype=float))
                if "host_s" in rows and n else np.full(n, engine.host_overhead_s_per_step)),
        capture_sizes=np.asarray(engine.cuda_graph_capture_sizes, dtype=float),
        frontend_s=engine.frontend_s, cpu_s_per_input_token=engine.cpu_s_per_input_token,
        output_delay_steps=engine.output_delay_steps, prefill_apart=float(engine.prefill_apart),
    )
