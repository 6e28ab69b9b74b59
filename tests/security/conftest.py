"""Helpers for the hardening tests: run the CLI in process, as a user sees it."""

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, settings

DATA = Path(__file__).parent.parent / "data"


# MOEPROF_FUZZ_EXAMPLES=500 explores further (random seeds, slow); by default the fuzz tests are derandomized.
FUZZ_EXAMPLES = int(os.environ.get("MOEPROF_FUZZ_EXAMPLES", "0")) or None


def fuzz_sizes(full: int, fast: int = 3):
    """Parametrize a fuzz test's `examples`: a few derandomized examples in the fast loop and `full`
    marked slow (the full suite runs both); MOEPROF_FUZZ_EXAMPLES=N runs N random ones instead."""
    if FUZZ_EXAMPLES:
        return pytest.mark.parametrize("examples", [pytest.param(FUZZ_EXAMPLES, id=f"{FUZZ_EXAMPLES}-random")])
    return pytest.mark.parametrize("examples", [pytest.param(fast, id=f"{fast}-examples"),
                                                pytest.param(full, id=f"{full}-examples", marks=pytest.mark.slow)])


def fuzz_settings(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, derandomize=FUZZ_EXAMPLES is None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


class Result:
    def __init__(self, rc, out, err):
        self.rc, self.out, self.err = rc, out, err

    @property
    def one_line(self) -> bool:
        """At most one stderr line and no traceback."""
        return self.err.count("\n") <= 1 and "Traceback" not in self.err

    def __repr__(self):
        return f"Result(rc={self.rc}, out={self.out[-300:]!r}, err={self.err[-600:]!r})"


def run_main(*args, input=None) -> Result:
    """moeprof.cli.main in process: exit code, stdout and stderr text."""
    from moeprof.cli import main

    with CliRunner().isolation(input=input) as (out, err, _):
        rc = main([str(a) for a in args])
    return Result(rc, out.getvalue().decode(errors="replace"), err.getvalue().decode(errors="replace"))


@pytest.fixture
def run():
    return run_main


def write_json(path: Path, obj) -> Path:
    path.write_text(json.dumps(obj))
    return path


@pytest.fixture
def mixtral_cfg():
    return json.loads((DATA / "mixtral-8x7b.json").read_text())


@pytest.fixture(scope="session")
def small_plan(cli_once):
    """A real plan document (scout on one H200 VM), computed once per test run: read it, do not change it."""
    return json.loads(cli_once("plan", "--model", "scout", "--sku", "nd-h200-v5", "--max-vms", "1", "--json", check_rc=0).stdout)


@pytest.fixture
def copy_data(tmp_path):
    def cp(name):
        return Path(shutil.copy(DATA / name, tmp_path / name))

    return cp
