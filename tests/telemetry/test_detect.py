import sys

from moeprof.telemetry import backend, detect, open_backend, unavailable_notes

from .conftest import NVMLError_LibraryNotFound, make_amdsmi, make_pynvml


def test_auto_prefers_nvidia(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", make_pynvml())
    assert open_backend().vendor == "nvidia"


def test_auto_falls_back_to_amd_then_cpu(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", make_pynvml({"init_error": NVMLError_LibraryNotFound}))
    monkeypatch.setitem(sys.modules, "amdsmi", make_amdsmi())
    assert open_backend().vendor == "amd"
    detect.reset()
    monkeypatch.setitem(sys.modules, "amdsmi", None)
    b = open_backend()
    assert b.vendor == "cpu" and b.available
    notes = unavailable_notes()
    assert any(n.startswith("nvidia: NVML unavailable") for n in notes)
    assert any(n.startswith("amd: amdsmi not importable") for n in notes)


def test_availability_checked_once(monkeypatch):
    nv = make_pynvml()
    inits = []
    real = nv.nvmlInit
    nv.nvmlInit = lambda: (inits.append(1), real())
    monkeypatch.setitem(sys.modules, "pynvml", nv)
    a, b = backend("nvidia"), open_backend("auto")
    assert a is b and len(inits) == 1
    detect.reset()
    assert nv.state["shutdown"] == 1
