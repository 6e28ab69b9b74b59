import sys

import pytest

from moeprof.telemetry.amd import AmdSmiBackend, import_amdsmi

from .conftest import AmdSmiException, make_amdsmi


def test_reads_every_field_in_base_units():
    sm = make_amdsmi()
    b = AmdSmiBackend(module=sm)
    assert b.available and sm.state["init_flags"] == sm.AmdSmiInitFlags.INIT_AMD_GPUS
    s = b.sample(0)
    assert s.device_name == "AMD Instinct MI300X"
    assert s.memory_total_bytes == 196_592 * 1024**2 and s.memory_used_bytes == 283 * 1024**2
    assert s.power_w == 612  # current_socket_power; average is "N/A"
    assert s.energy_j == pytest.approx(1_000_000 * 15.3e-6)  # accumulator x resolution (uJ)
    assert (s.gpu_util_pct, s.memory_util_pct) == (88, 35)
    assert (s.sm_clock_mhz, s.memory_clock_mhz) == (2100, 1300)
    assert b.driver_version == "6.10.5"


def test_older_energy_key_and_all_power_na():
    sm = make_amdsmi({
        "energy": {"power": 2_000, "counter_resolution": 15.259, "timestamp": 9},  # amdsmi < 6.2
        "power": {"current_socket_power": "N/A", "average_socket_power": "N/A"},
    })
    s = AmdSmiBackend(module=sm).sample(0)
    assert s.energy_j == pytest.approx(2_000 * 15.259e-6)
    assert s.power_w is None
    assert "power_w: not reported by the device or driver" in s.notes


def test_rocm7_socket_power_preferred():
    sm = make_amdsmi({"power": {"socket_power": 700, "current_socket_power": 650}})
    assert AmdSmiBackend(module=sm).power_w(0) == 700


def test_unsupported_field_and_errors_mid_run():
    sm = make_amdsmi()
    b = AmdSmiBackend(module=sm)
    assert b.energy_j(0) is not None
    sm.state["fail"] = {"energy": AmdSmiException, "clock": RuntimeError}
    s = b.sample(0)
    assert s.energy_j is None and s.sm_clock_mhz is None and s.power_w == 612
    assert any(n.startswith("energy_j: unavailable (AmdSmiException") for n in s.notes)
    sm.state["fail"] = {}
    assert b.energy_j(0) is not None  # recovers; the note goes away
    assert "energy_j" not in b.field_notes


def test_init_failure_and_no_gpus():
    assert not AmdSmiBackend(module=make_amdsmi({"init_error": AmdSmiException})).available
    b = AmdSmiBackend(module=make_amdsmi({"handles": []}))
    assert not b.available and b.notes == ["amdsmi found no AMD GPU"]


def test_guarded_import_of_a_broken_install(tmp_path, monkeypatch, capsys):
    """Without ROCm, `import amdsmi` prints to stdout and raises KeyError: silence and note it."""
    (tmp_path / "amdsmi.py").write_text(
        "print('Unable to find libamd_smi.so, please install ROCm')\n"
        "raise KeyError('libamd_smi.so')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "amdsmi", raising=False)
    mod, why = import_amdsmi()
    assert mod is None and "KeyError" in why and "libamd_smi.so" in why
    b = AmdSmiBackend()
    assert not b.available and "KeyError" in b.notes[0]
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


def test_guarded_import_not_installed(monkeypatch):
    monkeypatch.setitem(sys.modules, "amdsmi", None)
    mod, why = import_amdsmi()
    assert mod is None and "not importable" in why
