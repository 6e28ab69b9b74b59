import sys

from moeprof.telemetry.nvidia import NvmlBackend

from .conftest import NVMLError_LibraryNotFound, NVMLError_NotSupported, make_pynvml


def test_reads_every_field_in_base_units():
    nv = make_pynvml()
    b = NvmlBackend(module=nv)
    assert b.available and b.device_count() == 1 and b.driver_version == "570.86.15"
    s = b.sample(0)
    assert s.vendor == "nvidia" and s.device_name == "NVIDIA H100 80GB HBM3"  # bytes decoded
    assert s.memory_total_bytes == 85_520_809_984 and s.memory_used_bytes == 1_234_567_168
    assert s.power_w == 350.0  # mW -> W
    assert s.energy_j == 1000.0  # mJ -> J
    assert (s.gpu_util_pct, s.memory_util_pct) == (97, 41)
    assert (s.sm_clock_mhz, s.memory_clock_mhz) == (1980, 2619)
    assert s.notes == []


def test_imports_pynvml_through_sys_modules(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", make_pynvml({"names": ["NVIDIA H200"]}))
    assert NvmlBackend().sample(0).device_name == "NVIDIA H200"


def test_missing_library_is_a_note_not_a_crash(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import raises ImportError
    b = NvmlBackend()
    assert not b.available and "not importable" in b.notes[0]
    s = b.sample(0)
    assert s.memory_total_bytes is None and s.notes
    assert b.energy_j(0) is None and b.power_w(0) is None


def test_no_driver():
    b = NvmlBackend(module=make_pynvml({"init_error": NVMLError_LibraryNotFound}))
    assert not b.available
    assert b.notes == ["NVML unavailable: NVMLError_LibraryNotFound: NVML Shared Library Not Found"]
    assert b.samples() == []


def test_unsupported_fields_give_none_with_a_note():
    # VM guests: no power reading and no energy counter
    nv = make_pynvml({"fail": {"power": NVMLError_NotSupported, "energy": NVMLError_NotSupported}})
    b = NvmlBackend(module=nv)
    s = b.sample(0)
    assert s.power_w is None and s.energy_j is None
    assert s.memory_total_bytes == 85_520_809_984
    assert "power_w: unavailable (NVMLError_NotSupported: Not Supported)" in s.notes
    assert any(n.startswith("energy_j:") for n in s.notes)


def test_gpu_lost_mid_run():
    nv = make_pynvml({"lost_after": 3})
    b = NvmlBackend(module=nv)
    assert b.energy_j(0) == 1000.0
    s = b.sample(0)  # fails part way through
    assert s.device_name is not None
    assert s.sm_clock_mhz is None
    assert any("GpuIsLost" in n for n in s.notes)
    assert b.power_w(0) is None  # keeps answering None, never raises


def test_uuid_mapping_for_cuda_visible_devices():
    nv = make_pynvml({"count": 2, "names": [b"a", b"b"], "uuids": ["GPU-aaaa-0001", "GPU-bbbb-0002"]})
    b = NvmlBackend(module=nv)
    assert b.index_for_uuid("bbbb-0002", fallback=0) == 1
    assert b.index_for_uuid("unknown", fallback=0) == 0
    assert b.index_for_uuid(None, fallback=1) == 1


def test_out_of_range_index_is_none():
    b = NvmlBackend(module=make_pynvml())
    assert b.read(5, "power_w") is None
    assert b.sample(5).notes
