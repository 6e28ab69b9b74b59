"""Collective communication cost: latency + bytes on the wire / bus bandwidth.

NCCL's bus bandwidth (busBW) already folds in the algorithm's traffic factor, so for a message
of m bytes per rank over n ranks:

    all-reduce   t = latency + m * 2(n-1)/n / busbw(m)
    all-to-all   t = latency + m * (n-1)/n  / busbw(m)   (m = bytes a rank holds for all peers)
    send/recv    t = latency + m / bw

Bus bandwidth inside a VM (NVLink / Infinity Fabric), in order of preference: the profile's
`allreduce` / `alltoall` curve; the VM's published all-reduce curve (measured at 8 GPUs); the
GPU's per-direction scale-up bandwidth. All-to-all without its own curve uses the all-reduce
bus bandwidth at the same size (an assumption, see efficiency.json), capped at the per-direction
link bandwidth. NVSwitch systems give every group size the same bus bandwidth; the MI300X full
mesh gives a group of n GPUs n - 1 of its 7 links, so busbw scales by (n - 1) / 7.
A measured time already contains the fixed latency, so the curve is first reduced to its
bandwidth part: at each measured size x_i (time t_i = x_i * f / y_i, f the all-reduce factor of
the VM's GPU count) the bandwidth part is y'_i = x_i * f / (t_i - latency) = y_i * t_i / (t_i -
latency); then t = latency + m * f / y'(m) reproduces every measured point exactly, and below
the smallest measured message (y' clamped) the latency (a published one-shot all-reduce latency,
or the profile's collective_latency_s) carries the small-message cost. A profile's kernel table
`allreduce` (message bytes x GPUs, measured inside one node) gives the all-reduce inside a VM
directly. Across VMs each GPU has its own InfiniBand NIC: bus bandwidth is limited to
(GPUs of the group per VM) x NIC bandwidth x efficiency, with a larger fixed latency; an
all-to-all across VMs sends the (n - g) / n of each rank's bytes bound for the other VMs' ranks
over its own NIC (at the published DeepEP internode efficiency) while the rest moves over the
scale-up links, the slower of the two setting the time.
Inside a VM, an all-reduce up to the engines' custom all-reduce size limit costs that kernel's
published time (moeprof/data/custom_allreduce.json, moeprof/perf/custom_allreduce.py) where the
GPU has one: the engines do not use the library's ring algorithm for those messages.
All functions take numpy arrays and return seconds of the broadcast shape.
"""

from __future__ import annotations

import numpy as np

from ..catalog.hardware.vms import GpuSpec, VmSpec
from ..profile import Curve, Profile
from .custom_allreduce import custom_allreduce
from .efficiency import Efficiencies
from .rates import curve_at


def default_vm_for(gpu: GpuSpec) -> VmSpec | None:
    """The catalog VM with this GPU (its published all-reduce curve is the per-SKU default)."""
    from ..catalog.hardware.vms import load_vms

    for vm in load_vms().values():
        if vm.gpu.key == gpu.key:
            return vm
    return None


def _measured_ranks(profile: Profile | None, probe: str) -> int | None:
    """World size of a profile's collective rows (the largest, if several), or None."""
    if profile is None:
        return None
    sizes = [int(r["world_size"]) for r in profile.rows if r.get("probe") == probe and r.get("world_size")]
    return max(sizes) if sizes else None


class Interconnect:
    def __init__(self, gpu: GpuSpec, vm: VmSpec | None, profile: Profile | None, eff: Efficiencies, latency_s: float,
                 table_use: dict | None = None):
        """table_use: where kernel-table lookups are counted (Rates.table_use), if anywhere."""
        self.gpu, self.vm, self.eff = gpu, vm, eff
        self.table_use = table_use if table_use is not None else {}
        self.latency_s = float(latency_s)
        self.cross_vm_latency_s = eff.cross_vm_latency_s
        self.link_bytes_per_s = gpu.scale_up_bytes_per_s
        if vm is None and (profile is None or profile.curve("allreduce") is None):
            vm = default_vm_for(gpu)  # for its published all-reduce curve and NIC bandwidth
        self.vm = vm
        self.gpus_per_vm = vm.gpus_per_vm if vm is not None else 8
        self.mesh = gpu.scale_up == "infinity_fabric"
        nic = vm.scale_out_bytes_per_s_per_gpu if vm is not None else 50e9
        self.nic_bytes_per_s = nic * eff.infiniband_efficiency
        self.alltoall_nic_bytes_per_s = nic * eff.alltoall_infiniband_efficiency  # dispatch / combine (DeepEP)
        self.sources: dict[str, str] = {}
        tables = profile.kernel_tables if profile is not None else None
        self.allreduce_table = tables.find("allreduce", dtype="bf16") if tables is not None else None
        if self.allreduce_table is not None:
            self.sources["allreduce_table"] = f"{profile.label}: kernel table allreduce (inside a VM, 2-8 GPUs)"
        self.allreduce_curve: Curve | None = profile.curve("allreduce") if profile is not None else None
        self.alltoall_curve: Curve | None = profile.curve("alltoall") if profile is not None else None
        if self.allreduce_curve is not None:
            self.sources["allreduce"] = f"{profile.label}: curve allreduce"
        elif vm is not None and vm.allreduce_curve:
            c = vm.allreduce_curve
            self.allreduce_curve = Curve(tuple(map(float, c["x"])), tuple(map(float, c["y"])), str(c.get("source", "")))
            self.sources["allreduce"] = f"VM {vm.key} published all-reduce curve: {self.allreduce_curve.source}"
        else:
            self.sources["allreduce"] = f"datasheet scale-up {gpu.scale_up_bytes_per_s / 1e9:.0f} GB/s per direction (no curve)"
        # busBW -> time needs the rank count the curve was measured at: the profile's rows
        # say it; the VM's published curves were measured over all its GPUs.
        n_ar = _measured_ranks(profile, "allreduce") if "curve allreduce" in self.sources["allreduce"] else self.gpus_per_vm
        n_a2a = _measured_ranks(profile, "alltoall") or self.gpus_per_vm
        n_ar = n_ar or self.gpus_per_vm
        n_ar, n_a2a = max(n_ar, 2), max(n_a2a, 2)  # one GPU runs no collective: keep the curve (no 0 / 0)
        self.allreduce_curve = self._bandwidth_part(self.allreduce_curve, 2.0 * (n_ar - 1) / n_ar)
        self.alltoall_curve = self._bandwidth_part(self.alltoall_curve, (n_a2a - 1) / n_a2a)
        if self.alltoall_curve is not None:
            self.sources["alltoall"] = f"{profile.label}: curve alltoall"
        else:
            self.sources["alltoall"] = "all-reduce bus bandwidth at the same size, capped at the scale-up link (assumption)"
        self.custom_allreduce = custom_allreduce(gpu.key)
        if self.custom_allreduce is not None:
            self.sources["custom_allreduce"] = self.custom_allreduce.source
        if vm is None:
            self.sources["infiniband"] = "no VM given: 400 Gb/s NDR per GPU assumed"
        else:
            self.sources["infiniband"] = (f"VM {vm.key}: {vm.scale_out_bytes_per_s_per_gpu / 1e9:.0f} GB/s per GPU x "
                                          f"{eff.infiniband_efficiency} (all-to-all x {eff.alltoall_infiniband_efficiency})")

    def _bandwidth_part(self, curve: Curve | None, factor: float) -> Curve | None:
        """The curve with the fixed latency taken out of every measured time (see module doc);
        a point measured faster than 1.1 x the latency keeps a tenth of its time as bandwidth part."""
        if curve is None:
            return None
        ys = []
        for x, y in zip(curve.x, curve.y):
            t = x * factor / y
            ys.append(x * factor / max(t - self.latency_s, 0.1 * t))
        return Curve(curve.x, tuple(ys), curve.source)

    # ---- bus bandwidth inside a VM ---------------------------------------------------
    def intra_busbw(self, msg_bytes, n_ranks, kind: str = "allreduce") -> np.ndarray:
        """Bus bytes/s of a collective among n_ranks GPUs of one VM."""
        m = np.asarray(msg_bytes, dtype=float)
        n = np.asarray(n_ranks, dtype=float)
        if kind == "alltoall" and self.alltoall_curve is not None:
            bw = curve_at(self.alltoall_curve, m)
        elif self.allreduce_curve is not None:
            bw = curve_at(self.allreduce_curve, m)
            if kind != "allreduce":
                bw = np.minimum(bw * self.eff.alltoall_vs_allreduce, self.link_bytes_per_s)
        else:
            bw = np.full(m.shape, self.link_bytes_per_s)
        if self.mesh:
            bw = bw * np.clip(n - 1, 1, None) / max(self.gpus_per_vm - 1, 1)
        return np.broadcast_to(bw, np.broadcast(m, n).shape)

    # ---- collectives -------------------------------------------------------------------
    def allreduce_s(self, msg_bytes, n_ranks, cross_vm=False, gpus_per_vm_in_group=None) -> np.ndarray:
        """All-reduce of msg_bytes per rank over n_ranks; 0 when n_ranks <= 1."""
        m, n, cross = np.broadcast_arrays(
            np.asarray(msg_bytes, dtype=float), np.asarray(n_ranks, dtype=float), np.asarray(cross_vm, dtype=bool)
        )
        g = n if gpus_per_vm_in_group is None else np.broadcast_to(np.asarray(gpus_per_vm_in_group, dtype=float), n.shape)
        factor = 2.0 * (n - 1) / np.maximum(n, 1)
        bw_in = self.intra_busbw(m, np.minimum(n, g))
        t_in = self.latency_s + m * factor / bw_in
        car = self.custom_allreduce
        if self.allreduce_table is not None:  # measured, the engine's own all-reduce included
            ms, outside = self.allreduce_table.lookup(message_bytes=np.maximum(m, 1.0), gpus=np.maximum(n, 2.0))
            t_in = ms * 1e-3
            used = (n > 1) & ~cross
            if used.any():
                use = self.table_use.setdefault("allreduce(dtype=bf16)", {"lookups": 0, "extrapolated": 0})
                use["lookups"] += int(np.count_nonzero(used))
                use["extrapolated"] += int(np.count_nonzero(outside & used))
        elif car is not None:
            t_in = np.where(m <= car.max_bytes, car.time_s(m), t_in)
        bw_x = np.minimum(bw_in, np.maximum(g, 1) * self.nic_bytes_per_s)
        t_x = self.cross_vm_latency_s + m * factor / bw_x
        return np.where(n <= 1, 0.0, np.where(cross, t_x, t_in))

    def alltoall_s(self, msg_bytes, n_ranks, cross_vm=False, gpus_per_vm_in_group=None) -> np.ndarray:
        """All-to-all where each rank holds msg_bytes destined to all ranks (itself included)."""
        m, n, cross = np.broadcast_arrays(
            np.asarray(msg_bytes, dtype=float), np.asarray(n_ranks, dtype=float), np.asarray(cross_vm, dtype=bool)
        )
        g = n if gpus_per_vm_in_group is None else np.broadcast_to(np.asarray(gpus_per_vm_in_group, dtype=float), n.shape)
        nn = np.maximum(n, 1)
        bw_in = self.intra_busbw(m, np.minimum(n, g), kind="alltoall")
        t_in = self.latency_s + m * (n - 1) / nn / bw_in
        remote = m * np.clip(n - g, 0, None) / nn / self.alltoall_nic_bytes_per_s
        local = m * np.clip(g - 1, 0, None) / nn / bw_in
        t_x = self.cross_vm_latency_s + np.maximum(remote, local)
        return np.where(n <= 1, 0.0, np.where(cross, t_x, t_in))

    def p2p_s(self, msg_bytes, cross_vm=False) -> np.ndarray:
        """One send/recv of msg_bytes between two GPUs (pipeline stages)."""
        m, cross = np.broadcast_arrays(np.asarray(msg_bytes, dtype=float), np.asarray(cross_vm, dtype=bool))
        bw_in = self.intra_busbw(m, np.full(m.shape, 2.0), kind="p2p")
        t_in = self.latency_s + m / bw_in
        t_x = self.cross_vm_latency_s + m / self.nic_bytes_per_s
        return np.where(cross, t_x, t_in)
