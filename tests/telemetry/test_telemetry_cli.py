import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from moeprof.cli.probe_cmds import telemetry

from .conftest import NVMLError_LibraryNotFound, NVMLError_NotSupported, make_pynvml


def test_json_with_a_faked_nvidia_gpu(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", make_pynvml({"fail": {"energy": NVMLError_NotSupported}}))
    r = CliRunner().invoke(telemetry, ["--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["vendor"] == "nvidia" and d["driver_version"] == "570.86.15"
    dev = d["devices"][0]
    assert dev["power_w"] == 350.0 and dev["energy_j"] is None and dev["memory_total_bytes"] == 85_520_809_984
    assert any("energy_j" in n for n in dev["notes"])


def test_text_table_and_missing_fields(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", make_pynvml({"fail": {"power": NVMLError_NotSupported}}))
    r = CliRunner().invoke(telemetry, [])
    assert r.exit_code == 0
    assert "NVIDIA H100 80GB HBM3" in r.output and "note: power_w: unavailable" in r.output


def test_watch_prints_one_json_line_per_reading(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", make_pynvml({"energy_step_mj": 1000}))
    r = CliRunner().invoke(telemetry, ["--json", "--watch", "0.01", "--count", "3"])
    assert r.exit_code == 0, r.output
    lines = [json.loads(x) for x in r.output.strip().splitlines()]
    assert len(lines) == 3
    e = [x["devices"][0]["energy_j"] for x in lines]
    assert e[0] < e[1] < e[2]


def test_cpu_fallback_when_no_gpu_library(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", make_pynvml({"init_error": NVMLError_LibraryNotFound}))
    monkeypatch.setitem(sys.modules, "amdsmi", None)
    r = CliRunner().invoke(telemetry, ["--json"])
    d = json.loads(r.output)
    assert d["vendor"] == "cpu" and d["devices"][0]["memory_total_bytes"] > 0
    assert any("NVML unavailable" in n for n in d["notes"])


@pytest.mark.slow  # a real `python -m moeprof` subprocess
def test_real_cli_on_this_machine_never_tracebacks():
    p = subprocess.run([sys.executable, "-m", "moeprof", "telemetry", "--watch", "0.01", "--count", "2"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and "Traceback" not in p.stderr
    assert len([ln for ln in p.stdout.splitlines() if ln[:2].isdigit()]) >= 2
    bad = subprocess.run([sys.executable, "-m", "moeprof", "telemetry", "--watch", "-1"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and len(bad.stderr.strip().splitlines()) == 1
