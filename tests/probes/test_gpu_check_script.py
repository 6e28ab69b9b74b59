"""scripts/gpu_check.sh runs the same flow on a CPU (DEVICE=cpu QUICK=1): probe, then validate."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from moeprof.profile import load_profile

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_gpu_check_flow_on_the_cpu(tmp_path):
    env = {**os.environ, "PYTHON": sys.executable, "DEVICE": "cpu", "QUICK": "1", "OUT": str(tmp_path), "BUDGET_S": "30"}
    p = subprocess.run(["bash", str(ROOT / "scripts" / "gpu_check.sh")], capture_output=True, text=True, timeout=240, env=env)
    assert p.returncode == 0, p.stderr[-3000:]
    assert "pip install" not in p.stderr  # moeprof importable: nothing installed
    prof = load_profile(tmp_path / "gpu_check.profile.json")
    assert prof.source == "measured" and prof.provenance["probe_settings"]["budget_s"] == 30
    assert "median |error|" in p.stdout
    v = json.loads((tmp_path / "gpu_check.validate.json").read_text())
    assert v["summary"]["time"]["rows"] > 20
    assert (tmp_path / "gpu_check.probe.log").read_text().count("\n") > 20
