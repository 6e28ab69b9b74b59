"""Step energies follow the serving calibration's time scale: the GPUs draw idle power through
the added time, the kernel energy (the same work) is unchanged."""

import numpy as np
import pytest

from moeprof.catalog.calibration.serving import ServingCalibration
from moeprof.catalog.hardware.vms import load_vms
from moeprof.catalog.models import load_model
from moeprof.deployment.steps import layout_steps
from moeprof.perf.energy import idle_power_w, time_scaled_energy_j


def test_time_scaled_energy_adds_idle_power_over_the_added_time():
    e = time_scaled_energy_j(np.array([10.0, 20.0]), 100.0, np.array([8, 4]), np.array([0.01, 0.02]), 1.5)
    assert e == pytest.approx([10.0 + 100 * 8 * 0.01 * 0.5, 20.0 + 100 * 4 * 0.02 * 0.5])
    assert time_scaled_energy_j(np.array([3.0]), 100.0, 8, 0.01, 1.0) == pytest.approx([3.0])


def _steps(scale: float, prefill_scale: float = 1.0) -> dict:
    vm = load_vms()["nd-h200-v5"]
    cal = ServingCalibration(vm.gpu.key, scale, 0.0, "test", prefill_scale)
    return layout_steps(load_model("scout"), vm, "bf16", "bf16", None, 0.0, [4], [1], [1], [1], 1024, 256, calibration=cal)


def test_layout_energies_grow_by_the_idle_draw_of_the_scaled_time():
    base, slow = _steps(1.0), _steps(2.0, 1.5)
    idle_w = idle_power_w(load_vms()["nd-h200-v5"].gpu)
    # prefill: scaled by step x prefill scale = 3, so 2 more unscaled prefill times at idle on 4 GPUs
    added = slow["prefill_j"] - base["prefill_j"]
    assert added == pytest.approx(idle_w * 4 * base["prefill_s"] * 2.0)
    # decode: more energy at every batch size, never less than the unscaled step's
    assert np.all(np.asarray(slow["decode_j_grid"]) > np.asarray(base["decode_j_grid"]))
