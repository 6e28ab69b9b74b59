import pytest

from moeprof.telemetry.host import HostBackend, process_rss_bytes


def _fake_root(tmp_path, rapl_uj=None, rapl_max=None):
    proc = tmp_path / "proc"
    (proc / "self").mkdir(parents=True)
    (proc / "cpuinfo").write_text("processor\t: 0\nmodel name\t: Test CPU 9000\ncpu MHz\t\t: 2450.5\n")
    (proc / "meminfo").write_text("MemTotal:       16000000 kB\nMemFree:         1000000 kB\nMemAvailable:   12000000 kB\n")
    (proc / "self" / "status").write_text("Name:\tpython\nVmRSS:\t  204800 kB\n")
    sysr = tmp_path / "sys"
    if rapl_uj is not None:
        rapl = sysr / "class" / "powercap" / "intel-rapl:0"
        rapl.mkdir(parents=True)
        (rapl / "energy_uj").write_text(str(rapl_uj))
        (rapl / "max_energy_range_uj").write_text(str(rapl_max))
    return str(proc), str(sysr)


def test_cpu_fields_from_proc(tmp_path):
    proc, sysr = _fake_root(tmp_path)
    s = HostBackend(proc, sysr).sample(0)
    assert s.vendor == "cpu" and s.device_name == "Test CPU 9000"
    assert s.memory_total_bytes == 16_000_000 * 1024
    assert s.memory_used_bytes == (16_000_000 - 12_000_000) * 1024
    assert s.sm_clock_mhz == pytest.approx(2450.5)
    assert s.energy_j is None and s.power_w is None
    assert any(n.startswith("energy_j:") for n in s.notes)
    assert process_rss_bytes(proc) == 204800 * 1024


def test_rapl_counter_unwraps(tmp_path):
    proc, sysr = _fake_root(tmp_path, rapl_uj=900_000, rapl_max=1_000_000)
    b = HostBackend(proc, sysr)
    assert b.energy_j(0) == pytest.approx(0.9)
    (tmp_path / "sys/class/powercap/intel-rapl:0/energy_uj").write_text("100000")  # wrapped
    assert b.energy_j(0) == pytest.approx(1.1)


def test_missing_files_give_none(tmp_path):
    b = HostBackend(str(tmp_path / "nope"), str(tmp_path / "nope"))
    s = b.sample(0)
    assert s.memory_total_bytes is None and s.energy_j is None
    assert process_rss_bytes(str(tmp_path / "nope")) is None


def test_real_host_never_raises():
    s = HostBackend().sample(0)
    assert s.vendor == "cpu" and s.memory_total_bytes and s.memory_total_bytes > 0
