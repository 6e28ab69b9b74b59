"""The replica / VM arithmetic of a deployment, in one place (numpy arrays or plain ints alike).

A replica of g GPUs on VMs of v GPUs: when g <= v, floor(v / g) replicas share one VM; when g > v,
one replica spans ceil(g / v) whole VMs. r replicas then need ceil(r / per_vm) VMs, or
r x vms_per_replica. The unit (what a deployment buys, sizes and scales by) is one VM with every
replica that fits on it, or the VMs one replica spans: a deployment is a whole number of units,
u units run u x replicas_per_unit replicas on u x vms_per_unit VMs, and carry u x the unit's
capacity (a VM that holds 4 replicas of TP 2 carries 4 x one replica's req/s).
"""

from __future__ import annotations

import numpy as np


def vms_per_replica(gpus_per_replica, gpus_per_vm):
    """VMs one replica spans (a replica smaller than a VM shares it with others): ceil(g / v), >= 1."""
    g, v = np.asarray(gpus_per_replica), np.asarray(gpus_per_vm)
    out = np.maximum(1, -(-g // np.maximum(v, 1)))
    return int(out) if out.ndim == 0 else out


def replicas_per_vm(gpus_per_replica, gpus_per_vm):
    """Replicas one VM holds: floor(v / g) when g <= v, else 0 (the replica spans VMs)."""
    g, v = np.asarray(gpus_per_replica), np.asarray(gpus_per_vm)
    out = np.where(g <= v, v // np.maximum(g, 1), 0)
    return int(out) if out.ndim == 0 else out


def replica_counts(gpus_per_replica: np.ndarray, vms_per_replica_: np.ndarray, gpus_per_vm: np.ndarray, max_vms: int):
    """(replicas per VM (0 when a replica spans VMs), the most replicas max_vms VMs hold, >= 1)."""
    per_vm = replicas_per_vm(gpus_per_replica, gpus_per_vm)
    r_max = np.where(per_vm > 0, per_vm * max_vms, max_vms // np.maximum(vms_per_replica_, 1))
    return per_vm, np.maximum(r_max, 1)


def vm_count(replicas, per_vm, vms_per_replica_):
    """VMs that `replicas` replicas need: shared VMs when several fit one, else whole VMs each."""
    out = np.where(np.asarray(per_vm) > 0, np.ceil(np.asarray(replicas) / np.maximum(per_vm, 1)),
                   np.asarray(replicas) * np.asarray(vms_per_replica_)).astype(int)
    return int(out) if out.ndim == 0 else out


def scaling_unit(gpus_per_replica: int, gpus_per_vm: int) -> tuple[int, int]:
    """(VMs, replicas) of the autoscaling unit: one VM with every replica that fits, or the VMs one
    replica spans."""
    n = replicas_per_vm(gpus_per_replica, gpus_per_vm)
    if n > 0:
        return 1, int(n)
    return int(vms_per_replica(gpus_per_replica, gpus_per_vm)), 1


def unit_shape(gpus_per_replica, gpus_per_vm):
    """(VMs, replicas) of one unit for each row (numpy arrays or plain ints): (1, floor(v / g)) when a
    replica fits a VM, else (ceil(g / v), 1)."""
    per_vm = replicas_per_vm(gpus_per_replica, gpus_per_vm)
    vms = np.where(np.asarray(per_vm) > 0, 1, vms_per_replica(gpus_per_replica, gpus_per_vm))
    reps = np.maximum(np.asarray(per_vm), 1)
    if np.ndim(vms) == 0:
        return int(vms), int(reps)
    return vms.astype(int), reps.astype(int)


def max_units(unit_vms, max_vms: int):
    """The most units max_vms VMs hold (>= 1: a unit wider than max_vms is still one unit)."""
    out = np.maximum(max_vms // np.maximum(np.asarray(unit_vms), 1), 1)
    return int(out) if out.ndim == 0 else out


def units_for(qps: float, qps_per_unit, spare_units: int = 0):
    """Units that carry `qps` at `qps_per_unit` with `spare_units` more on top (N + K: losing K still
    carries it); NaN where the unit's capacity is 0 or not finite."""
    cap = np.asarray(qps_per_unit, dtype=float)
    ok = np.isfinite(cap) & (cap > 0)
    need = np.full(cap.shape, np.nan)
    # 1e-9: a QPS that is an exact multiple of the capacity needs no extra unit for rounding
    need[ok] = np.maximum(1.0, np.ceil(qps / cap[ok] - 1e-9)) + spare_units
    return float(need) if need.ndim == 0 else need
