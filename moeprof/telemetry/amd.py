"""AMD telemetry through amdsmi (ROCm's libamd_smi.so).

Without ROCm, `import amdsmi` prints to stdout and raises KeyError('libamd_smi.so'), not
ImportError: the import is guarded (any Exception) with stdout/stderr captured.
Units at the boundary: VRAM MiB -> bytes, power W, energy accumulator x counter_resolution (uJ)
-> J, activity %, clocks MHz. Fields read "N/A" on some parts and on VM guests -> None."""

from __future__ import annotations

import contextlib
import importlib
import io

from .base import TelemetryBackend
from .sample import as_number

MIB = 1024**2


def import_amdsmi():
    """(module, None) or (None, reason); never raises and never prints."""
    sink = io.StringIO()
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            return importlib.import_module("amdsmi"), None
    except BaseException as e:  # KeyError, OSError, SystemExit from a broken install, ...
        if isinstance(e, KeyboardInterrupt):
            raise
        return None, f"amdsmi not importable ({type(e).__name__}: {e})"


def _first(d: dict, *keys):
    for k in keys:
        v = as_number(d.get(k)) if isinstance(d, dict) else None
        if v is not None:
            return v
    return None


class AmdSmiBackend(TelemetryBackend):
    vendor = "amd"

    def __init__(self, module=None):
        super().__init__()
        self._handles: list = []
        sm = module
        if sm is None:
            sm, why = import_amdsmi()
            if sm is None:
                self.note(why)
                return
        self.sm = sm
        try:
            sm.amdsmi_init(sm.AmdSmiInitFlags.INIT_AMD_GPUS)
            self._handles = list(sm.amdsmi_get_processor_handles())
        except Exception as e:
            self.note(f"amdsmi unavailable: {type(e).__name__}: {e}")
            return
        if self._handles:
            try:
                self.driver_version = str(sm.amdsmi_get_gpu_driver_info(self._handles[0]).get("driver_version"))
            except Exception as e:
                self.note(f"driver version unavailable: {type(e).__name__}: {e}")
        self.available = bool(self._handles)
        if not self.available:
            self.note("amdsmi found no AMD GPU")

    def device_count(self) -> int:
        return len(self._handles)

    def _field(self, index: int, name: str):
        sm, h = self.sm, self._handles[index]
        if name == "device_name":
            name_ = None
            try:
                name_ = sm.amdsmi_get_gpu_asic_info(h).get("market_name")
            except Exception:
                pass
            if not name_ or name_ == "N/A":
                name_ = sm.amdsmi_get_gpu_board_info(h).get("product_name")
            return None if not name_ or name_ == "N/A" else str(name_)
        if name in ("memory_total_bytes", "memory_used_bytes"):
            vram = sm.amdsmi_get_gpu_vram_usage(h)
            v = _first(vram, "vram_total" if name == "memory_total_bytes" else "vram_used")
            return None if v is None else int(v * MIB)
        if name == "power_w":
            return _first(sm.amdsmi_get_power_info(h), "socket_power", "current_socket_power", "average_socket_power")
        if name == "energy_j":
            e = sm.amdsmi_get_energy_count(h)
            acc = _first(e, "energy_accumulator", "power")  # 'power' is the pre-6.2 key name
            res_uj = _first(e, "counter_resolution")
            if acc is None or res_uj is None:
                return None
            return acc * res_uj * 1e-6
        if name in ("gpu_util_pct", "memory_util_pct"):
            return _first(sm.amdsmi_get_gpu_activity(h), "gfx_activity" if name == "gpu_util_pct" else "umc_activity")
        if name in ("sm_clock_mhz", "memory_clock_mhz"):
            kind = sm.AmdSmiClkType.GFX if name == "sm_clock_mhz" else sm.AmdSmiClkType.MEM
            return _first(sm.amdsmi_get_clock_info(h, kind), "clk", "cur_clk")
        raise KeyError(name)

    def close(self) -> None:
        if self.available:
            try:
                self.sm.amdsmi_shut_down()
            except Exception:
                pass
