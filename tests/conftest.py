import contextlib
import fcntl
import functools
import glob
import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


def run_cli_subprocess(*args, check_rc=None):
    """Run `python -m moeprof` in a subprocess: what a user sees (stdout, stderr, exit code).
    For the few end-to-end smoke tests; everything else runs in process (run_cli)."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    p = subprocess.run([sys.executable, "-m", "moeprof", *map(str, args)], capture_output=True, text=True, env=env, timeout=300)
    if check_rc is not None:
        assert p.returncode == check_rc, (p.returncode, p.stdout[-2000:], p.stderr[-2000:])
    return p


def run_cli(*args, check_rc=None):
    """Run the moeprof command line in this process (moeprof.cli.main): its stdout, stderr and exit
    code, as a CompletedProcess."""
    from moeprof.cli import main

    out, err = io.StringIO(), io.StringIO()
    argv = [str(a) for a in args]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main(argv)
        except SystemExit as e:  # a command that ends with SystemExit(code)
            rc = e.code if isinstance(e.code, int) else 1
    p = subprocess.CompletedProcess(["moeprof", *argv], rc, out.getvalue(), err.getvalue())
    if check_rc is not None:
        assert p.returncode == check_rc, (p.returncode, p.stdout[-2000:], p.stderr[-2000:])
    return p


# Commands whose output depends only on their arguments and the shipped catalog: a test that checks
# their text, CSV or JSON takes them from run_cli_once, which runs each argument list once per
# test session (per xdist worker) instead of once per test; and `plan` / `compare` of the same
# targets share one search (the CLI's _run), whatever their output format.
_ONCE_COMMANDS = {"plan", "compare"}
_NOT_ONCE = {"--report", "-o", "--out", "--traffic", "--min-units"}  # writes a file, or adds to the plan after the search


@functools.cache
def _search_once(*args):
    """plan_cmd._run (the search, with the CLI's notes added to the plan's warnings) once per
    argument list; plan and compare only read the document it returns."""
    return _REAL_RUN[0](*args)


_REAL_RUN: list = []


@contextlib.contextmanager
def _shared_searches():
    from moeprof.cli import compare_cmd, plan_cmd

    if not _REAL_RUN:
        _REAL_RUN.append(plan_cmd._run)
    saved = plan_cmd._run, compare_cmd._run
    plan_cmd._run = compare_cmd._run = _search_once
    try:
        yield
    finally:
        plan_cmd._run, compare_cmd._run = saved


# Under pytest-xdist, the folder this run's workers share (set by the cli_once fixture): the first worker
# to need an argument list runs it and stores its output there, the other reads it (one lock per list).
_SHARED_DIR: list[Path] = []


def _run_here(argv: tuple[str, ...]) -> subprocess.CompletedProcess:
    with _shared_searches():
        return run_cli(*argv)


@functools.cache
def _run_once(argv: tuple[str, ...]) -> subprocess.CompletedProcess:
    if not _SHARED_DIR:
        return _run_here(argv)
    folder = _SHARED_DIR[0]
    folder.mkdir(exist_ok=True)
    key = hashlib.sha256("\0".join(argv).encode()).hexdigest()[:32]
    stored = folder / f"{key}.json"
    with open(folder / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stored.exists():
            d = json.loads(stored.read_text())
            assert d["argv"] == list(argv), (d["argv"], argv)
            return subprocess.CompletedProcess(["moeprof", *argv], d["returncode"], d["stdout"], d["stderr"])
        p = _run_here(argv)
        tmp = stored.with_suffix(".tmp")
        tmp.write_text(json.dumps({"argv": list(argv), "returncode": p.returncode, "stdout": p.stdout, "stderr": p.stderr}))
        os.replace(tmp, stored)
        return p


def run_cli_once(*args, check_rc=None):
    """run_cli of a read-only `plan` / `compare`, computed once per test run for the same arguments (under
    pytest-xdist, by one worker for all) (files it reads must not change during the run: the shipped
    data, files under tests/)."""
    argv = tuple(str(a) for a in args)
    if argv[0] not in _ONCE_COMMANDS or any(a.split("=")[0] in _NOT_ONCE for a in argv):
        raise ValueError(f"run_cli_once takes read-only plan / compare commands, not {argv}")
    p = _run_once(argv)
    if check_rc is not None:
        assert p.returncode == check_rc, (p.returncode, p.stdout[-2000:], p.stderr[-2000:])
    return p


_SPACE = ("quants", "skus", "kv_dtypes", "max_vms", "allow_requantize")


@functools.cache
def _plan_once(model: str, space: tuple, targets: tuple):
    from moeprof.catalog.models import load_model
    from moeprof.planner import SearchSpace, Targets, plan

    return plan(load_model(model), Targets.defaults(model, **dict(targets)), SearchSpace(**dict(space)))


def planned(model: str = "maverick", **kw):
    """plan() of a built-in model, computed once per session for the same arguments: SearchSpace
    fields (quants, skus, kv_dtypes, max_vms, allow_requantize) and overrides of the model's Targets.defaults (qps=..., headroom=...).
    The document is shared by every test that asks for it: read it, do not change it."""
    space = tuple(sorted((k, tuple(v) if isinstance(v, (list, tuple)) else v) for k, v in kw.items() if k in _SPACE))
    targets = tuple(sorted((k, v) for k, v in kw.items() if k not in _SPACE))
    return _plan_once(model, space, targets)


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture(scope="session")
def cli_once(tmp_path_factory):
    if os.environ.get("PYTEST_XDIST_WORKER") and not _SHARED_DIR:  # basetemp is <run's folder>/<worker id>
        _SHARED_DIR.append(tmp_path_factory.getbasetemp().parent / "cli-once")
    return run_cli_once


@pytest.fixture(scope="session")
def plans():
    return planned


@pytest.fixture
def cli_subprocess():
    return run_cli_subprocess


def _has_gpu() -> bool:
    """A CUDA or ROCm device torch can use; torch (about 1.3 s to import) is only asked where the
    machine has a GPU device node (/dev/nvidia*, /dev/kfd)."""
    if not (glob.glob("/dev/nvidia[0-9]*") or os.path.exists("/dev/kfd")):
        return False
    try:
        import torch

        return bool(torch.cuda.is_available())
    except Exception:
        return False


def pytest_collection_modifyitems(config, items):
    """Skip tests marked gpu when no CUDA/ROCm device is present."""
    if not any("gpu" in item.keywords for item in items) or _has_gpu():
        return
    skip = pytest.mark.skip(reason="needs a CUDA or ROCm GPU")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
