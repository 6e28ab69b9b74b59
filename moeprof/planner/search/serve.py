"""Stage 3 of the search: the serving model on every row that fits in memory (moeprof.serving).

Per row: the replica's QPS capacity within the latency targets, the latency a lone request
sees (telling TTFT / TPOT misses from QPS misses), then every count of units (deployment.replicas:
one VM with every replica that fits on it, or the VMs one replica spans) from 1 to what max_vms
allows, with the latency and load at the target QPS split over the units' replicas. A VM is
never bought half used: 1 replica of TP 2 on an 8-GPU VM is 4 replicas.
A wide-EP replica (ep > tp) is dp = ep / tp attention groups, each scheduling its own sequences
(max batch, token budget and KV per group): the serving model runs on one group at 1 / dp of
the replica's load; capacity, running batch and step energy are the replica's (x dp).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ... import serving
from ...deployment.replicas import max_units, unit_shape
from ...deployment.steps import step_costs, workload
from ..document.plan import LAYOUT_KEYS
from ..document.targets import Targets

STEP_COLUMNS = ["prefill_s", "prefill_j", "decode_s_grid", "decode_j_grid", "token_s_grid", "prompt_attention_s", "host_s",
                "calibration"]


@dataclass(frozen=True)
class ServeLoad:
    """What the serving model hands the cost stage (planner.search.cost) per row of serve_rows, in
    its row order: `j_step` the joules of one decode step at the row's running batch (x dp: the
    replica's), `lam` the arrival rate at one replica (req/s: target QPS / replicas),
    `prefill_share` the prompts' share of GPU time at that load (0.5 where the row serves nothing)."""

    j_step: np.ndarray
    lam: np.ndarray
    prefill_share: np.ndarray


def _with_latency(mem: pd.DataFrame, lat: pd.DataFrame | None) -> pd.DataFrame:
    keys = list(LAYOUT_KEYS)
    if lat is not None and len(lat):
        return mem.merge(lat[keys + STEP_COLUMNS], on=keys, how="left")
    return mem.assign(**{k: None for k in STEP_COLUMNS})


def serve_rows(mem: pd.DataFrame, lat: pd.DataFrame | None, vms, targets: Targets, max_vms: int, engine,
               edges: dict | None = None) -> tuple[pd.DataFrame, ServeLoad]:
    """(One row per (memory row, replica count) with the serving columns, the ServeLoad of each row
    for the cost stage); rows that do not fit in memory keep infinite latency.
    `edges`: GPU -> (1 + hi of TTFT, 1 + hi of TPOT) of its error band (planner.search.bands.latency_edges):
    the capacity is the most QPS whose TTFT and TPOT at the band's pessimistic edge meet the targets."""
    df = _with_latency(mem, lat)
    ok = (df.memory_kind == "").to_numpy()
    n = len(df)
    q = targets.percentile
    dp = np.maximum(df.ep.to_numpy() // df.tp.to_numpy(), 1)  # attention groups per replica
    cap_r = np.zeros(n)
    ttft0, tpot0 = np.full(n, np.inf), np.full(n, np.inf)
    okdf = df[ok]
    costs = step_costs(okdf, engine)  # once: the idle, capacity and at-load evaluations all take these rows
    if len(okdf):
        c = costs
        w = workload(len(okdf), targets.input_tokens, targets.output_tokens, engine, okdf.max_batch.to_numpy())
        e_ttft, e_tpot = (okdf.gpu.astype(str).map({g: e[i] for g, e in (edges or {}).items()}).fillna(1.0).to_numpy(dtype=float)
                          for i in (0, 1))
        cap_r[ok] = serving.capacity_qps(c, w, targets.ttft_ms / 1e3 / e_ttft, targets.tpot_ms / 1e3 / e_tpot, q) * dp[ok]
        idle = serving.open_loop(c, w, 1e-9, q)
        ttft0[ok], tpot0[ok] = idle.ttft_q_s, idle.tpot_s

    gpv = df.sku.map({k: v.gpus_per_vm for k, v in vms.items()}).to_numpy(dtype=int)
    unit_vms, unit_reps = unit_shape(df.gpus_per_replica.to_numpy(), gpv)
    u_max = max_units(unit_vms, max_vms)
    idx = np.repeat(np.arange(n), u_max)
    starts = np.repeat(np.cumsum(u_max) - u_max, u_max)
    u = np.arange(len(idx)) - starts + 1  # 1..u_max units for each row
    r = u * unit_reps[idx]
    rows = df.iloc[idx].reset_index(drop=True)
    rows["replicas"] = r
    rows["vms"] = u * unit_vms[idx]
    rows["gpus"] = rows.replicas * rows.gpus_per_replica
    rows["unit_vms"] = unit_vms[idx]
    rows["unit_replicas"] = unit_reps[idx]
    rows["qps_capacity"] = cap_r[idx] * r
    rows["qps_capacity_per_replica"] = cap_r[idx]
    rows["qps_capacity_per_unit"] = cap_r[idx] * unit_reps[idx]

    lam = targets.qps / r
    lam_g = lam / dp[idx]  # per attention group
    # Latency at the target load, for the rows with the capacity for it (the rest stay inf).
    live = ok[idx] & (cap_r[idx] * r >= targets.qps)
    ttft, tpot = np.full(len(idx), np.inf), np.full(len(idx), np.inf)
    b, rho, share = np.ones(len(idx)), np.full(len(idx), np.inf), np.full(len(idx), 0.5)
    if live.any():
        li = idx[live]
        ok_pos = np.cumsum(ok) - 1  # row of df -> row of okdf
        # The running batch at a rate depends on the layout and the replica count, not on the max
        # batch: solve it once per (layout, replicas), then evaluate each row at it.
        layout_id = df.groupby(list(LAYOUT_KEYS), sort=False).ngroup().to_numpy()
        pair = layout_id[li].astype(np.int64) * (int(r.max()) + 1) + r[live]
        _, first, inv = np.unique(pair, return_index=True, return_inverse=True)
        fi = ok_pos[li[first]]
        c_u = costs.take(fi)
        w_u = workload(len(fi), targets.input_tokens, targets.output_tokens, engine, np.full(len(fi), np.inf))
        b_free = serving.running_batch(c_u, w_u, lam_g[live][first])
        c = costs.take(ok_pos[li])
        w = workload(len(li), targets.input_tokens, targets.output_tokens, engine, df.max_batch.to_numpy()[li])
        pt = serving.point_at(c, w, b_free[inv], lam_g[live], q)
        ttft[live], tpot[live], b[live], share[live] = pt.ttft_q_s, pt.tpot_s, pt.b, pt.prefill_share
        rho[live] = pt.lam / np.maximum(serving.saturation_qps(c, w), 1e-12)
    rows["ttft_ms"] = ttft * 1e3
    rows["tpot_ms"] = tpot * 1e3
    rows["running_batch"] = b * dp[idx]
    rows["utilization"] = rho
    rows["ttft_idle_ms"] = ttft0[idx] * 1e3
    rows["tpot_idle_ms"] = tpot0[idx] * 1e3
    served = np.isfinite(tpot)
    rows["tokens_per_s"] = targets.qps * (targets.input_tokens + targets.output_tokens) * served
    rows["output_tokens_per_s"] = targets.qps * targets.output_tokens * served
    j_grid = np.zeros((n, len(serving.BATCH_GRID)))
    if ok.any():
        j_grid[ok] = np.stack(okdf.decode_j_grid.to_list())
    load = ServeLoad(j_step=serving.interp_step(j_grid[idx], b) * dp[idx], lam=lam, prefill_share=share)
    return rows.drop(columns=["decode_s_grid", "decode_j_grid", "token_s_grid"]), load
