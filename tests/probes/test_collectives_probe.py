import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from moeprof.probes import collectives
from moeprof.profile import load_profile


def test_bus_factors():
    assert collectives.bus_factor("allreduce", 8) == pytest.approx(1.75)
    assert collectives.bus_factor("alltoall", 8) == pytest.approx(0.875)
    assert collectives.bus_factor("allreduce", 2) == 1.0


@pytest.mark.slow
def test_torchrun_entry_point_writes_a_profile(tmp_path):
    torchrun = shutil.which("torchrun", path=os.path.dirname(sys.executable))
    if torchrun is None:
        pytest.skip("torchrun not installed")
    out = tmp_path / "coll.json"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    p = subprocess.run(
        [torchrun, "--nproc-per-node", "2", "--master-port", str(collectives.free_port()), "-m", "moeprof.probes.collectives",
         "--out", str(out), "--sizes", "8192,131072", "--repeats", "2"],
        capture_output=True, text=True, timeout=180, env=env, cwd=Path(__file__).resolve().parents[2],
    )
    assert p.returncode == 0, p.stderr[-3000:]
    prof = load_profile(out)
    assert prof.source == "measured" and prof.gpu == "cpu"
    assert set(prof.curves) >= {"allreduce", "alltoall"} and "collective_latency_s" in prof.scalars
    assert len(prof.rows) == 4 and {r["message_bytes"] for r in prof.rows} == {8192, 131072}
    assert "GB/s bus" in p.stdout and "wrote" in p.stdout


def test_write_profile_merges_into_an_existing_profile(tmp_path):
    import torch

    out = tmp_path / "p.json"
    row = {"probe": "allreduce", "message_bytes": 4096, "world_size": 2, "nodes": 1, "backend": "gloo", "ms": 0.5, "bus_bytes_per_s": 8.192e6}
    collectives.write_profile([row], out, torch.device("cpu"), {"sizes": [4096]})
    prof = load_profile(out)
    prof.rows.append({"probe": "gemm", "m_tokens": 1, "ms": 1.0})
    from moeprof.inputs import forget_input
    from moeprof.profile import save_profile

    forget_input(out)  # this process read it; updating it in place is the point here
    save_profile(prof, out)
    collectives.write_profile([dict(row, ms=0.25, bus_bytes_per_s=1.6384e7)], out, torch.device("cpu"), {})
    merged = load_profile(out)
    assert [r["probe"] for r in merged.rows] == ["gemm", "allreduce"]  # replaced, not duplicated
    assert merged.curves["allreduce"].y == (1.6384e7,)


def test_torchrun_entry_needs_two_ranks(capsys):
    assert collectives.main(["--out", "/nonexistent/x.json"]) == 2
    assert "torchrun" in capsys.readouterr().err


@pytest.mark.slow
def test_two_gloo_processes_in_the_suite_step(ctx):
    ctx.settings.collective_procs = 2
    collectives.run(ctx)
    rows = ctx.rows
    assert {r["probe"] for r in rows} == {"allreduce", "alltoall"}
    assert not [r for r in rows if "error" in r], rows
    for r in rows:
        assert r["backend"] == "gloo" and r["world_size"] == 2 and r["nodes"] == 1
        assert r["bus_bytes_per_s"] == pytest.approx(r["algo_bytes_per_s"] * collectives.bus_factor(r["probe"], 2))
    assert sorted({r["message_bytes"] for r in rows}) == collectives.default_sizes(False, True)
