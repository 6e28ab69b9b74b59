"""Host CPU telemetry, the fallback when no GPU library answers (and what CPU probes use).

Linux only, from files: /proc/cpuinfo (name, clock), /proc/meminfo (memory), and the RAPL
package energy counter /sys/class/powercap/intel-rapl:0/energy_uj when readable (often root
only, absent in VMs). Power and utilisation are not read: None with a note."""

from __future__ import annotations

import platform
from pathlib import Path

from .base import TelemetryBackend
from .sample import as_number


class HostBackend(TelemetryBackend):
    vendor = "cpu"

    def __init__(self, proc_root: str = "/proc", sys_root: str = "/sys"):
        super().__init__()
        self.proc = Path(proc_root)
        self.rapl = Path(sys_root) / "class" / "powercap" / "intel-rapl:0"
        self.available = True
        self.driver_version = platform.release() or None
        self._rapl_max_uj: float | None = None
        self._rapl_last_uj: float | None = None
        self._rapl_wraps = 0

    def device_count(self) -> int:
        return 1

    def _cpuinfo(self, key: str) -> str | None:
        try:
            for line in (self.proc / "cpuinfo").read_text().splitlines():
                k, sep, v = line.partition(":")
                if sep and k.strip() == key:
                    return v.strip()
        except OSError:
            pass
        return None

    def _meminfo_bytes(self, key: str) -> int | None:
        try:
            for line in (self.proc / "meminfo").read_text().splitlines():
                k, sep, v = line.partition(":")
                if sep and k.strip() == key:
                    kib = as_number(v)
                    return None if kib is None else int(kib * 1024)
        except OSError:
            pass
        return None

    def _energy_j(self) -> float | None:
        """RAPL package counter in J, unwrapped across its max_energy_range_uj wrap-around."""
        try:
            uj = float((self.rapl / "energy_uj").read_text())
        except (OSError, ValueError):
            return None
        if self._rapl_max_uj is None:
            try:
                self._rapl_max_uj = float((self.rapl / "max_energy_range_uj").read_text())
            except (OSError, ValueError):
                self._rapl_max_uj = 0.0
        if self._rapl_last_uj is not None and uj < self._rapl_last_uj and self._rapl_max_uj:
            self._rapl_wraps += 1
        self._rapl_last_uj = uj
        return (uj + self._rapl_wraps * (self._rapl_max_uj or 0.0)) * 1e-6

    def _field(self, index: int, name: str):
        if name == "device_name":
            return self._cpuinfo("model name") or platform.processor() or platform.machine() or None
        if name == "memory_total_bytes":
            return self._meminfo_bytes("MemTotal")
        if name == "memory_used_bytes":
            total, avail = self._meminfo_bytes("MemTotal"), self._meminfo_bytes("MemAvailable")
            return None if total is None or avail is None else total - avail
        if name == "energy_j":
            return self._energy_j()
        if name == "sm_clock_mhz":
            return as_number(self._cpuinfo("cpu MHz"))
        if name in ("power_w", "gpu_util_pct", "memory_util_pct", "memory_clock_mhz"):
            return None
        raise KeyError(name)


def process_rss_bytes(proc_root: str = "/proc") -> int | None:
    """Resident memory of this process (what the CPU 'allocator' really touched)."""
    try:
        for line in (Path(proc_root) / "self" / "status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                kib = as_number(line.split(":", 1)[1])
                return None if kib is None else int(kib * 1024)
    except OSError:
        pass
    return None
