import contextlib
import io
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


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def cli_subprocess():
    return run_cli_subprocess


def pytest_collection_modifyitems(config, items):
    """Skip tests marked gpu when no CUDA/ROCm device is present."""
    has_gpu = False
    try:
        import torch  # noqa: F401

        has_gpu = torch.cuda.is_available()
    except Exception:
        has_gpu = False
    if has_gpu:
        return
    skip = pytest.mark.skip(reason="needs a CUDA or ROCm GPU")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
