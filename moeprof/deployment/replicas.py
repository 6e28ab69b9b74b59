"""The replica / VM arithmetic of a deployment, in one place (numpy arrays or plain ints alike).

A replica of g GPUs on VMs of v GPUs: when g <= v, floor(v / g) replicas share one VM; when g > v,
one replica spans ceil(g / v) whole VMs. r replicas then need ceil(r / per_vm) VMs, or
r x vms_per_replica. The autoscaling unit is one VM with every replica that fits on it, or the
VMs one replica spans.
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
