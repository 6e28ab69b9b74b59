"""The engines' custom all-reduce replaces the ring all-reduce curve below its size limit."""

import numpy as np
import pytest

from moeprof.catalog.hardware.vms import get_gpu
from moeprof.perf.collectives import Interconnect
from moeprof.perf.custom_allreduce import custom_allreduce
from moeprof.perf.efficiency import load_efficiencies


def test_published_points_scaled_by_link_rate():
    car = custom_allreduce("mi300x-192gb")
    # smallest message: the measured time; above it the bandwidth part x 76.8 / 64
    assert car.time_s(24576) == pytest.approx(6.3e-6)
    assert car.time_s(1572864) == pytest.approx(6.3e-6 + (24.2e-6 - 6.3e-6) * 76.8 / 64)
    t = car.time_s(np.array([1e3, 5e4, 2e5, 1e6, 4e6]))
    assert np.all(np.diff(t) > 0) and t[0] == pytest.approx(6.3e-6)
    assert custom_allreduce("h100-sxm-80gb") is None


def _ic(gpu_key):
    gpu = get_gpu(gpu_key)
    eff = load_efficiencies(gpu_key)
    return Interconnect(gpu, None, None, eff, eff.collective_latency_s)


def test_allreduce_uses_it_below_the_limit_and_the_ring_curve_above():
    ic = _ic("mi300x-192gb")
    car = ic.custom_allreduce
    small, big = 1 << 20, 64 << 20
    assert float(ic.allreduce_s(small, 8)) == pytest.approx(float(car.time_s(small)))
    assert float(ic.allreduce_s(big, 8)) != pytest.approx(float(car.time_s(big)))  # RCCL curve
    assert float(ic.allreduce_s(small, 1)) == 0.0
    assert float(ic.allreduce_s(small, 8, cross_vm=True, gpus_per_vm_in_group=4)) > float(car.time_s(small))
    assert "custom_allreduce" in ic.sources
