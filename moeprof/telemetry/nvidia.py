"""NVIDIA telemetry through NVML (nvidia-ml-py, `import pynvml`).

Units at the boundary: memory bytes, power mW -> W, energy mJ -> J (GetTotalEnergyConsumption,
since driver load; Volta and later), utilisation %, clocks MHz. GetPowerUsage is a 1-second
average on Hopper, so short windows use the energy counter (telemetry.energy)."""

from __future__ import annotations

import importlib

from .base import TelemetryBackend
from .sample import as_number


def _text(v) -> str:
    return v.decode(errors="replace") if isinstance(v, bytes) else str(v)


class NvmlBackend(TelemetryBackend):
    vendor = "nvidia"

    def __init__(self, module=None):
        super().__init__()
        self._handles: dict[int, object] = {}
        self._count = 0
        nv = module
        if nv is None:
            try:
                nv = importlib.import_module("pynvml")
            except Exception as e:
                self.note(f"nvidia-ml-py not importable ({type(e).__name__}: {e})")
                return
        self.nv = nv
        try:
            nv.nvmlInit()
        except Exception as e:  # NVMLError_LibraryNotFound without a driver, DriverNotLoaded, ...
            self.note(f"NVML unavailable: {type(e).__name__}: {e}")
            return
        try:
            self._count = int(nv.nvmlDeviceGetCount())
        except Exception as e:
            self.note(f"NVML device count failed: {type(e).__name__}: {e}")
            return
        try:
            self.driver_version = _text(nv.nvmlSystemGetDriverVersion())
        except Exception as e:
            self.note(f"driver version unavailable: {type(e).__name__}: {e}")
        self.available = self._count > 0
        if not self.available:
            self.note("NVML found no NVIDIA GPU")

    def device_count(self) -> int:
        return self._count

    def _handle(self, index: int):
        if index not in self._handles:
            self._handles[index] = self.nv.nvmlDeviceGetHandleByIndex(index)
        return self._handles[index]

    def _field(self, index: int, name: str):
        nv, h = self.nv, self._handle(index)
        if name == "device_name":
            return _text(nv.nvmlDeviceGetName(h))
        if name in ("memory_total_bytes", "memory_used_bytes"):
            info = nv.nvmlDeviceGetMemoryInfo(h)
            v = as_number(info.total if name == "memory_total_bytes" else info.used)
            return None if v is None else int(v)
        if name == "power_w":
            v = as_number(nv.nvmlDeviceGetPowerUsage(h))
            return None if v is None else v / 1e3
        if name == "energy_j":
            v = as_number(nv.nvmlDeviceGetTotalEnergyConsumption(h))
            return None if v is None else v / 1e3
        if name in ("gpu_util_pct", "memory_util_pct"):
            u = nv.nvmlDeviceGetUtilizationRates(h)
            return as_number(u.gpu if name == "gpu_util_pct" else u.memory)
        if name == "sm_clock_mhz":
            return as_number(nv.nvmlDeviceGetClockInfo(h, nv.NVML_CLOCK_SM))
        if name == "memory_clock_mhz":
            return as_number(nv.nvmlDeviceGetClockInfo(h, nv.NVML_CLOCK_MEM))
        raise KeyError(name)

    def uuid(self, index: int) -> str | None:
        try:
            return _text(self.nv.nvmlDeviceGetUUID(self._handle(index)))
        except Exception:
            return None

    def index_for_uuid(self, uuid: str | None, fallback: int) -> int:
        """torch reports a UUID without NVML's 'GPU-' prefix; match on the hex digits."""
        if uuid and self.available:
            want = str(uuid).lower().replace("gpu-", "").replace("-", "")
            for i in range(self._count):
                got = (self.uuid(i) or "").lower().replace("gpu-", "").replace("-", "")
                if got and got == want:
                    return i
        return fallback

    def close(self) -> None:
        if self.available:
            try:
                self.nv.nvmlShutdown()
            except Exception:
                pass
