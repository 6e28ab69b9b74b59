"""Stage 3 of the search: the serving model on every row that fits in memory (moeprof.serving).

Per row: the replica's QPS capacity within the latency targets, the latency a lone request
sees (telling TTFT / TPOT misses from QPS misses), then every replica count from 1 to what
max_vms allows, with the latency and load at the target QPS split over the replicas.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import serving
from .document import LAYOUT_KEYS
from .targets import Targets

STEP_COLUMNS = ["prefill_s", "prefill_j", "decode_s_grid", "decode_j_grid", "calibration"]


def _with_latency(mem: pd.DataFrame, lat: pd.DataFrame | None) -> pd.DataFrame:
    keys = list(LAYOUT_KEYS)
    if lat is not None and len(lat):
        return mem.merge(lat[keys + STEP_COLUMNS], on=keys, how="left")
    return mem.assign(prefill_s=np.nan, prefill_j=np.nan, decode_s_grid=None, decode_j_grid=None, calibration="")


def replica_counts(gpus_per_replica: np.ndarray, vms_per_replica: np.ndarray, gpus_per_vm: np.ndarray, max_vms: int):
    """(replicas per VM (0 when a replica spans VMs), the most replicas max_vms VMs hold)."""
    per_vm = np.where(gpus_per_replica <= gpus_per_vm, gpus_per_vm // np.maximum(gpus_per_replica, 1), 0)
    r_max = np.where(per_vm > 0, per_vm * max_vms, max_vms // np.maximum(vms_per_replica, 1))
    return per_vm, np.maximum(r_max, 1)


def vm_count(replicas: np.ndarray, per_vm: np.ndarray, vms_per_replica: np.ndarray) -> np.ndarray:
    """VMs that `replicas` replicas need: shared VMs when several fit one, else whole VMs each."""
    return np.where(per_vm > 0, np.ceil(replicas / np.maximum(per_vm, 1)), replicas * vms_per_replica).astype(int)


def serve_rows(mem: pd.DataFrame, lat: pd.DataFrame | None, vms, targets: Targets, max_vms: int) -> pd.DataFrame:
    """One row per (memory row, replica count) with the serving columns; rows that do not fit
    in memory keep infinite latency. Keeps `_j_step`, `_lam` and `_rho_prefill` for the cost stage."""
    df = _with_latency(mem, lat)
    ok = (df.memory_kind == "").to_numpy()
    n_grid = len(serving.BATCH_GRID)
    s_grid = np.ones((len(df), n_grid))
    j_grid = np.zeros((len(df), n_grid))
    if ok.any():
        s_grid[ok] = np.stack(df.loc[ok, "decode_s_grid"].to_list())
        j_grid[ok] = np.stack(df.loc[ok, "decode_j_grid"].to_list())
    prefill = np.where(ok, df.prefill_s.fillna(1.0).to_numpy(), 1.0)
    B = df.max_batch.to_numpy(dtype=float)
    O = float(targets.output_tokens)
    cap_r = serving.capacity_qps(prefill, O, s_grid, B, targets.ttft_ms / 1e3, targets.tpot_ms / 1e3, targets.percentile)
    cap_r = np.where(ok, cap_r, 0.0)
    ttft0, tpot0, _, _ = serving.latency_at(np.full(len(df), 1e-9), prefill, O, s_grid, B, targets.percentile)

    gpv = df.sku.map({k: v.gpus_per_vm for k, v in vms.items()}).to_numpy()
    per_vm, r_max = replica_counts(df.gpus_per_replica.to_numpy(), df.vms_per_replica.to_numpy(), gpv, max_vms)
    idx = np.repeat(np.arange(len(df)), r_max)
    starts = np.repeat(np.cumsum(r_max) - r_max, r_max)
    r = np.arange(len(idx)) - starts + 1  # 1..r_max for each row
    rows = df.iloc[idx].reset_index(drop=True)
    rows["replicas"] = r
    rows["vms"] = vm_count(r, per_vm[idx], rows.vms_per_replica.to_numpy())
    rows["gpus"] = rows.replicas * rows.gpus_per_replica
    rows["qps_capacity"] = cap_r[idx] * r

    lam = targets.qps / r
    live = ok[idx]
    ttft, tpot = np.full(len(idx), np.inf), np.full(len(idx), np.inf)
    b, rho = np.ones(len(idx)), np.full(len(idx), np.inf)
    if live.any():
        li = idx[live]
        # The uncapped running batch depends on the layout and the replica count, not on the
        # max batch: solve it once per (layout, replicas) and share it across max batches.
        layout_id = df.groupby(list(LAYOUT_KEYS), sort=False).ngroup().to_numpy()
        pair = layout_id[li].astype(np.int64) * (int(r.max()) + 1) + r[live]
        _, first, inv = np.unique(pair, return_index=True, return_inverse=True)
        bf = serving.free_batch(lam[live][first], O, prefill[li][first], s_grid[li][first])
        ttft[live], tpot[live], b[live], rho[live] = serving.latency_at(
            lam[live], prefill[li], O, s_grid[li], B[li], targets.percentile, b_free=bf[inv]
        )
    rows["ttft_ms"] = ttft * 1e3
    rows["tpot_ms"] = tpot * 1e3
    rows["running_batch"] = b
    rows["utilization"] = rho
    rows["ttft_idle_ms"] = ttft0[idx] * 1e3
    rows["tpot_idle_ms"] = tpot0[idx] * 1e3
    rows["tokens_per_s"] = targets.qps * (targets.input_tokens + O) * (rho < 1)
    rows["output_tokens_per_s"] = targets.qps * O * (rho < 1)
    rows["_j_step"] = serving.interp_step(j_grid[idx], b)
    rows["_lam"] = lam
    rows["_rho_prefill"] = lam * prefill[idx]
    return rows.drop(columns=["decode_s_grid", "decode_j_grid"])
