"""Fake vendor libraries, faked only at the call boundary: module objects with the functions,
constants and exception classes of nvidia-ml-py (`pynvml`) and amdsmi, driven by a small
state dict so a test can make one field unsupported, 'N/A', or fail mid-run."""

import types

import pytest

from moeprof.telemetry import detect


class NVMLError(Exception):
    pass


class NVMLError_NotSupported(NVMLError):
    def __str__(self):
        return "Not Supported"


class NVMLError_LibraryNotFound(NVMLError):
    def __str__(self):
        return "NVML Shared Library Not Found"


class NVMLError_GpuIsLost(NVMLError):
    def __str__(self):
        return "GPU is lost"


def make_pynvml(state: dict | None = None):
    """A fake pynvml. state keys: init_error, count, names, fail (field -> exception class),
    energy_mj (list, advanced by energy_step_mj per call), power_mw, lost_after (calls)."""
    st = {
        "init_error": None,
        "count": 1,
        "names": [b"NVIDIA H100 80GB HBM3"],
        "uuids": ["GPU-5b1f0c2e-0000-1111-2222-333344445555"],
        "fail": {},
        "energy_mj": [1_000_000],
        "energy_step_mj": 0,
        "power_mw": 350_000,
        "calls": 0,
        "lost_after": None,
        "shutdown": 0,
    }
    st.update(state or {})
    m = types.ModuleType("pynvml")
    m.NVMLError = NVMLError
    m.NVMLError_NotSupported = NVMLError_NotSupported
    m.NVMLError_LibraryNotFound = NVMLError_LibraryNotFound
    m.NVMLError_GpuIsLost = NVMLError_GpuIsLost
    m.NVML_CLOCK_SM, m.NVML_CLOCK_MEM = 1, 2
    m.state = st

    def call(name):
        st["calls"] += 1
        if st["lost_after"] is not None and st["calls"] > st["lost_after"]:
            raise NVMLError_GpuIsLost()
        if name in st["fail"]:
            raise st["fail"][name]()

    def nvmlInit():
        if st["init_error"]:
            raise st["init_error"]()

    m.nvmlInit = nvmlInit
    m.nvmlShutdown = lambda: st.__setitem__("shutdown", st["shutdown"] + 1)
    m.nvmlDeviceGetCount = lambda: st["count"]
    m.nvmlSystemGetDriverVersion = lambda: "570.86.15"

    def handle(i):
        if i >= st["count"]:
            raise NVMLError("Invalid Argument")
        return ("handle", i)

    m.nvmlDeviceGetHandleByIndex = handle

    def name(h):
        call("name")
        return st["names"][h[1]]

    def uuid(h):
        return st["uuids"][h[1]]

    def mem(h):
        call("memory")
        return types.SimpleNamespace(total=85_520_809_984, used=1_234_567_168, free=0)

    def power(h):
        call("power")
        return st["power_mw"]

    def energy(h):
        call("energy")
        st["energy_mj"][0] += st["energy_step_mj"]
        return st["energy_mj"][0]

    def util(h):
        call("util")
        return types.SimpleNamespace(gpu=97, memory=41)

    def clock(h, kind):
        call("clock")
        return 1980 if kind == m.NVML_CLOCK_SM else 2619

    m.nvmlDeviceGetName = name
    m.nvmlDeviceGetUUID = uuid
    m.nvmlDeviceGetMemoryInfo = mem
    m.nvmlDeviceGetPowerUsage = power
    m.nvmlDeviceGetTotalEnergyConsumption = energy
    m.nvmlDeviceGetUtilizationRates = util
    m.nvmlDeviceGetClockInfo = clock
    return m


class AmdSmiException(Exception):
    pass


def make_amdsmi(state: dict | None = None):
    """A fake amdsmi (6.x / 7.x API names). state: handles, power (dict), energy (dict), fail."""
    st = {
        "handles": ["gpu0"],
        "init_error": None,
        "power": {"current_socket_power": 612, "average_socket_power": "N/A"},
        "energy": {"energy_accumulator": 1_000_000, "counter_resolution": 15.3, "timestamp": 1},
        "vram": {"vram_total": 196_592, "vram_used": 283},
        "fail": {},
        "init_flags": None,
    }
    st.update(state or {})
    m = types.ModuleType("amdsmi")
    m.AmdSmiException = AmdSmiException
    m.AmdSmiInitFlags = types.SimpleNamespace(INIT_AMD_GPUS=2)
    m.AmdSmiClkType = types.SimpleNamespace(GFX=0, MEM=1)
    m.state = st

    def check(name):
        if name in st["fail"]:
            raise st["fail"][name]("AMDSMI_STATUS_NOT_SUPPORTED")

    def init(flags):
        st["init_flags"] = flags
        if st["init_error"]:
            raise st["init_error"]("init failed")

    m.amdsmi_init = init
    m.amdsmi_shut_down = lambda: None
    m.amdsmi_get_processor_handles = lambda: list(st["handles"])
    m.amdsmi_get_gpu_driver_info = lambda h: {"driver_name": "amdgpu", "driver_version": "6.10.5"}

    def asic(h):
        check("name")
        return {"market_name": "AMD Instinct MI300X", "vendor_id": "0x1002"}

    m.amdsmi_get_gpu_asic_info = asic
    m.amdsmi_get_gpu_board_info = lambda h: {"product_name": "AMD Instinct MI300X OAM"}

    def vram(h):
        check("memory")
        return dict(st["vram"])

    def power(h):
        check("power")
        return dict(st["power"])

    def energy(h):
        check("energy")
        return dict(st["energy"])

    def activity(h):
        check("util")
        return {"gfx_activity": 88, "umc_activity": 35, "mm_activity": "N/A"}

    def clock(h, kind):
        check("clock")
        return {"clk": 2100 if kind == 0 else 1300, "min_clk": 500, "max_clk": 2100}

    m.amdsmi_get_gpu_vram_usage = vram
    m.amdsmi_get_power_info = power
    m.amdsmi_get_energy_count = energy
    m.amdsmi_get_gpu_activity = activity
    m.amdsmi_get_clock_info = clock
    return m


@pytest.fixture(autouse=True)
def fresh_detection():
    """Each test sees availability checked afresh (the cache is per process)."""
    detect.reset()
    yield
    detect.reset()
