"""The whole suite on the CPU, through the API and through the `moeprof` command."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from moeprof.probes import suite
from moeprof.probes.settings import PROBES, ProbeSettings
from moeprof.profile import CURVE_KINDS, load_profile, save_profile

ROOT = Path(__file__).resolve().parents[2]


def moeprof(*args, timeout=120):
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2")}
    return subprocess.run([sys.executable, "-m", "moeprof", *map(str, args)], capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)


@pytest.mark.slow
def test_suite_builds_a_valid_profile(tmp_path):
    lines = []
    s = ProbeSettings(device="cpu", quick=True, shape_scale=1 / 64, repeats=2, warmup=1, target_ms=0.2, energy_window_s=0.05,
                      probes=tuple(p for p in PROBES if p != "collectives"))
    prof = suite.run_suite(s, progress=lines.append)
    assert prof.source == "measured" and prof.gpu == "cpu"
    assert set(prof.curves) == set(CURVE_KINDS) - {"allreduce", "alltoall"}
    assert "kernel_overhead_s" in prof.scalars
    errors = [r for r in prof.rows if "error" in r]
    assert not errors, errors
    pv = prof.provenance
    for key in ("device_name", "driver", "torch", "cuda", "rocm", "host", "date", "moeprof_version", "probe_settings"):
        assert key in pv
    assert pv["probe_settings"]["shapes"]["hidden"] == 80 and pv["torch"].startswith("2.")
    measured = [r for r in prof.rows if r["probe"] != "telemetry"]
    assert len(lines) == len(measured) + 1 and lines[0].lstrip("[ 0123456789.s]").startswith("probing")
    tele = [r for r in prof.rows if r["probe"] == "telemetry"]
    assert tele and tele[-1]["phase"] == "end" and tele[0]["memory_total_bytes"] > 0
    # round trip through the file, and into pandas
    path = save_profile(prof, tmp_path / "p.json")
    back = load_profile(path)
    assert back.to_json()["rows"] == json.loads(json.dumps(prof.to_json()["rows"]))
    df = back.rows_frame()
    assert {"probe", "ms", "m_tokens"} <= set(df.columns) and len(df) == len(prof.rows)
    assert df[df.probe == "gemm"].flop_per_s.gt(0).all()


@pytest.mark.slow
def test_probe_json_summary(tmp_path):
    out = tmp_path / "k.json"
    p = moeprof("probe", "--device", "cpu", "--quick", "--only", "ceilings,kv_cache", "--scale", "0.015625", "--json", "--out", out)
    assert p.returncode == 0, p.stderr[-2000:]
    d = json.loads(p.stdout)
    assert d["path"] == str(out) and d["gpu"] == "cpu" and d["rows"] >= 5 and d["errors"] == {}
    assert "memory_copy" in d["curves"]


@pytest.mark.slow
def test_bad_values_are_one_line_errors(tmp_path):
    for args in (["probe", "--only", "gemm,warp"], ["probe", "--model", "nosuchmodel"], ["probe", "--budget-s", "-3"],
                 ["validate", "--profile", tmp_path / "missing.json"]):
        p = moeprof(*args)
        assert p.returncode == 1, (args, p.stderr)
        assert len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr, p.stderr
    p = moeprof("probe", "--device", "tpu")
    assert p.returncode == 1 and "'tpu' is not one of" in p.stderr
    p = moeprof("probe", "--no-such-option")
    assert p.returncode == 2 and "usage error" in p.stderr
    import torch

    if not torch.cuda.is_available():
        p = moeprof("probe", "--device", "cuda", "--quick")
        assert p.returncode == 1 and "sees no GPU" in p.stderr and len(p.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_interrupted_probe_leaves_no_file(tmp_path, monkeypatch):
    """Ctrl-C in the middle of the suite: no profile and no temp file."""
    out = tmp_path / "p.json"
    script = (
        "import sys\n"
        "from moeprof.probes import attention\n"
        "def stop(ctx): raise KeyboardInterrupt\n"
        "attention.run = stop\n"
        "from moeprof.cli import main\n"
        f"sys.exit(main(['probe', '--device', 'cpu', '--quick', '--scale', '0.015625', '--out', {str(out)!r}]))\n"
    )
    p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert p.returncode == 130 and ("interrupted" in p.stderr or "aborted" in p.stderr)
    assert list(tmp_path.iterdir()) == []


def test_importing_the_cli_never_imports_torch():
    code = (
        "import sys\n"
        "import moeprof.cli, moeprof.cli.probe_cmds, moeprof.probes, moeprof.validation, moeprof.telemetry\n"
        "from moeprof.cli import main\n"
        "rc = main(['validate', '--profile', 'h100', '--json'])\n"
        "rc2 = main(['telemetry', '--json'])\n"
        "assert rc == 0 and rc2 == 0, (rc, rc2)\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert p.returncode == 0, p.stderr[-2000:]


@pytest.mark.gpu
def test_gpu_quick_suite(tmp_path):
    out = tmp_path / "gpu.json"
    p = moeprof("probe", "--quick", "--budget-s", "45", "--out", out, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    prof = load_profile(out)
    assert prof.gpu != "cpu" and "gemm_bf16" in prof.curves
