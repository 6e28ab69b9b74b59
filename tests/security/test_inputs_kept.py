"""No command replaces one of its own inputs, and no failure the process survives (nor a
SIGKILL, by the next write) leaves temp files or created folders behind."""

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from moeprof.fileio import remove_stale_temp_files, write_atomic

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "tests" / "data" / "bench" / "vllm_scout_h200_c16.json"
CAL = ["--gpu", "h200", "--tp", "4"]


@pytest.fixture
def plan_file(tmp_path, small_plan):
    p = tmp_path / "p.json"
    p.write_text(json.dumps(small_plan))
    return p


def _refused(r, path: Path, before: bytes):
    assert r.rc == 1 and r.one_line and "input of this command" in r.err, r
    assert path.read_bytes() == before


def test_calibrate_out_is_the_benchmark(run, tmp_path):
    b = Path(shutil.copy(BENCH, tmp_path / "b.json"))
    _refused(run("calibrate", "--bench", b, *CAL, "--out", b), b, BENCH.read_bytes())


def test_calibrate_out_is_a_hard_link_to_the_benchmark(run, tmp_path):
    b = Path(shutil.copy(BENCH, tmp_path / "b.json"))
    os.link(b, tmp_path / "h.json")
    _refused(run("calibrate", "--bench", b, *CAL, "--out", tmp_path / "h.json"), b, BENCH.read_bytes())


@pytest.mark.slow  # a full calibration
def test_calibrate_out_is_the_base_profile(run, tmp_path):
    r = run("calibrate", "--bench", BENCH, *CAL, "--out", tmp_path / "prof.json")
    assert r.rc == 0, r
    prof = tmp_path / "prof.json"
    before = prof.read_bytes()
    _refused(run("calibrate", "--bench", BENCH, *CAL, "--profile", prof, "--out", prof), prof, before)


def test_report_output_is_the_plan(run, plan_file):
    before = plan_file.read_bytes()
    _refused(run("report", plan_file, "-o", plan_file), plan_file, before)
    spelled = plan_file.parent / "." / plan_file.name
    _refused(run("report", plan_file, "-o", spelled), plan_file, before)


def test_report_output_is_the_validation_file(run, plan_file, tmp_path):
    v = tmp_path / "v.json"
    v.write_text("{}")
    _refused(run("report", plan_file, "--validation", v, "-o", v), v, b"{}")


@pytest.mark.parametrize("fmt", ["vllm", "sglang", "azureml"])
def test_export_output_is_the_plan(run, plan_file, fmt):
    before = plan_file.read_bytes()
    _refused(run("export", plan_file, "--format", fmt, "-o", plan_file), plan_file, before)


def test_plan_report_is_the_traffic_file(run, tmp_path):
    t = tmp_path / "t.csv"
    t.write_text("hour,qps\n0,1\n1,2\n")
    _refused(run("plan", "--model", "scout", "--sku", "nd-h200-v5", "--max-vms", "1", "--traffic", t, "--report", t), t,
             b"hour,qps\n0,1\n1,2\n")


def test_plan_report_is_the_vm_file(run, tmp_path):
    vm = tmp_path / "vms.json"
    vm.write_text('{"vms": {}}')
    _refused(run("plan", "--model", "scout", "--vm-file", vm, "--report", vm), vm, b'{"vms": {}}')


@pytest.mark.slow  # a full calibration
def test_calibrate_removes_the_folders_it_created_when_the_write_fails(run, tmp_path):
    out = tmp_path / "new" / "sub" / ("x" * 300 + ".json")  # a name no file system accepts
    r = run("calibrate", "--bench", BENCH, *CAL, "--out", out)
    assert r.rc == 1 and "File name too long" in r.err.splitlines()[-1] and "Traceback" not in r.err, r
    assert not (tmp_path / "new").exists()


def test_a_stale_temp_file_of_a_dead_writer_is_removed_by_the_next_write(tmp_path):
    target = tmp_path / "out.json"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout.strip()
    stale = tmp_path / f".out.json.{dead}.abc123.tmp"
    live = tmp_path / f".out.json.{os.getppid()}.def456.tmp"  # a writer still running: kept
    other = tmp_path / ".other.json.1.x.tmp"
    for f in (stale, live, other):
        f.write_text("partial")
    write_atomic(target, "{}")
    assert target.read_text() == "{}" and not stale.exists() and live.exists() and other.exists()
    assert remove_stale_temp_files(target) == []


@pytest.mark.slow  # a real `python -m moeprof` subprocess killed by a signal
def test_sigkill_during_a_write_leaves_the_target_and_the_next_write_cleans_up(tmp_path, plan_file):
    out = tmp_path / "r.html"
    out.write_text("previous")
    code = ("import os, sys, time\n"
            "def slow(fd):\n"
            "    sys.stderr.write('writing\\n'); sys.stderr.flush(); time.sleep(60)\n"
            "os.fsync = slow\n"
            "from moeprof.cli import entry\n"
            f"sys.argv = ['moeprof', 'report', {str(plan_file)!r}, '-o', {str(out)!r}]\n"
            "entry()\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    p = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True, env=env)
    assert p.stderr.readline() == "writing\n"
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=30)
    assert [f for f in tmp_path.iterdir() if f.name.endswith(".tmp")] and out.read_text() == "previous"
    r = subprocess.run([sys.executable, "-m", "moeprof", "report", plan_file, "-o", out], env=env, capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert not [f for f in tmp_path.iterdir() if f.name.endswith(".tmp")] and out.read_text().startswith("<!")
