import time

import pytest

from moeprof.telemetry.base import TelemetryBackend
from moeprof.telemetry.energy import EnergyMeter, PowerSampler
from moeprof.telemetry.nvidia import NvmlBackend

from .conftest import NVMLError_NotSupported, make_pynvml


class ClockedBackend(TelemetryBackend):
    """A device drawing `watts`: the energy counter follows wall time (what a real counter does)."""

    vendor = "nvidia"

    def __init__(self, watts=200.0, counter=True, power=True):
        super().__init__()
        self.available, self.watts, self.counter, self.power = True, watts, counter, power
        self.t0 = time.perf_counter()

    def device_count(self):
        return 1

    def _field(self, index, name):
        if name == "energy_j":
            return (time.perf_counter() - self.t0) * self.watts if self.counter else None
        if name == "power_w":
            return self.watts if self.power else None
        return None


def test_counter_delta_between_syncs():
    syncs = []
    with EnergyMeter(ClockedBackend(300.0), sync=lambda: syncs.append(1)) as m:
        time.sleep(0.05)
    r = m.result
    assert len(syncs) == 2 and r.method == "counter"
    assert r.energy_j == pytest.approx(300.0 * r.seconds, rel=0.05)
    assert r.mean_power_w == pytest.approx(300.0, rel=0.05)


def test_power_sampling_thread_without_a_counter():
    with EnergyMeter(ClockedBackend(150.0, counter=False), interval_s=0.005) as m:
        time.sleep(0.08)
    r = m.result
    assert r.method == "power_sampling" and r.samples >= 3
    assert r.energy_j == pytest.approx(150.0 * r.seconds, rel=0.05)
    assert any("sampled" in n for n in r.notes)


def test_nothing_to_read():
    with EnergyMeter(ClockedBackend(counter=False, power=False)) as m:
        pass
    assert m.result.energy_j is None and m.result.method is None and m.result.mean_power_w is None
    assert m.result.notes


def test_counter_that_does_not_advance_is_rejected():
    nv = make_pynvml({"energy_step_mj": 0})  # VM guest: constant counter
    with EnergyMeter(NvmlBackend(module=nv)) as m:
        time.sleep(0.01)
    assert m.result.energy_j is None and "did not advance" in m.result.notes[0]


def test_nvml_counter_window_and_power_fallback():
    nv = make_pynvml({"energy_step_mj": 500})
    with EnergyMeter(NvmlBackend(module=nv)) as m:
        pass
    assert m.result.energy_j == pytest.approx(0.5) and m.result.method == "counter"
    nv2 = make_pynvml({"fail": {"energy": NVMLError_NotSupported}, "power_mw": 100_000})
    with EnergyMeter(NvmlBackend(module=nv2), interval_s=0.005) as m:
        time.sleep(0.03)
    assert m.result.method == "power_sampling" and m.result.energy_j == pytest.approx(100 * m.result.seconds, rel=0.1)


def test_counter_lost_during_window():
    nv = make_pynvml({"energy_step_mj": 10})
    b = NvmlBackend(module=nv)
    with EnergyMeter(b) as m:
        nv.state["fail"] = {"energy": NVMLError_NotSupported}
    assert m.result.energy_j is None and "stopped answering" in m.result.notes[0]


def test_sampler_integral_holds_ends_flat():
    s = PowerSampler(ClockedBackend(), 0)
    s.points = [(1.0, 100.0), (2.0, 200.0)]
    # [0.5, 1]: 100 W flat; [1, 2]: trapezoid 150 W; [2, 3]: 200 W flat
    assert s.energy_j(0.5, 3.0) == pytest.approx(50 + 150 + 200)


def test_recorder_samples_over_time_with_phases():
    from moeprof.telemetry import TelemetryRecorder

    nv = make_pynvml({"energy_step_mj": 100})
    rec = TelemetryRecorder(NvmlBackend(module=nv), 0, interval_s=0.01).start()
    rec.phase = "gemm"
    time.sleep(0.06)
    rows = rec.stop()
    assert len(rows) >= 3 and rows[-1]["phase"] == "gemm"
    assert all(r["probe"] == "telemetry" and r["power_w"] == 350.0 for r in rows)
    ts = [r["timestamp_s"] for r in rows]
    assert ts == sorted(ts) and rows[-1]["energy_j"] > rows[0]["energy_j"]


def test_recorder_on_an_unavailable_backend_records_nothing():
    from moeprof.telemetry import TelemetryRecorder

    from .conftest import NVMLError_LibraryNotFound

    rec = TelemetryRecorder(NvmlBackend(module=make_pynvml({"init_error": NVMLError_LibraryNotFound})), 0, 0.01).start()
    assert rec.stop() == []
