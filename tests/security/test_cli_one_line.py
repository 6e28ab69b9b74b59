"""Every failure is one clean line and a meaningful exit code; output is flushed and checked."""

import errno
import io
import json
import sys

import pytest

from moeprof.cli import main


class _FailingStdout(io.TextIOWrapper):
    """A stdout whose writes fail like a full disk (or a closed pipe)."""

    def __init__(self, exc):
        super().__init__(io.BytesIO(), encoding="utf-8")
        self.exc = exc

    def write(self, s):
        raise self.exc

    def flush(self):
        raise self.exc


def _main_with_stdout(monkeypatch, capsys, stdout, *args):
    monkeypatch.setattr(sys, "stdout", stdout)
    rc = main(list(args))
    monkeypatch.undo()
    return rc, capsys.readouterr().err


def test_stdout_on_a_full_disk_is_one_error_line(monkeypatch, capsys):
    rc, err = _main_with_stdout(monkeypatch, capsys, _FailingStdout(OSError(errno.ENOSPC, "No space left on device")), "models", "show", "maverick")
    assert rc == 1 and err.count("\n") == 1 and "No space left on device" in err and "internal error" not in err, err


def test_stdout_past_the_file_size_limit_is_one_error_line(monkeypatch, capsys):
    rc, err = _main_with_stdout(
        monkeypatch,
        capsys,
        _FailingStdout(OSError(errno.EFBIG, "File too large")),
        "plan",
        "--model",
        "scout",
        "--sku",
        "nd-h200-v5",
        "--max-vms",
        "1",
        "--json",
    )
    assert rc == 1 and err.count("\n") == 1 and "File too large" in err, err


class _BufferedThenFull(io.StringIO):
    """Writes succeed, the final flush fails: what a buffered stdout on a full disk does."""

    def flush(self):
        raise OSError(errno.ENOSPC, "No space left on device")


def test_a_failing_final_flush_is_an_error(monkeypatch, capsys):
    rc, err = _main_with_stdout(monkeypatch, capsys, _BufferedThenFull(), "models", "show", "maverick")
    assert rc == 1 and "No space left on device" in err, err


def test_a_closed_pipe_is_a_quiet_normal_end(monkeypatch, capsys):
    rc, err = _main_with_stdout(monkeypatch, capsys, _FailingStdout(BrokenPipeError(errno.EPIPE, "Broken pipe")), "models", "show", "maverick")
    assert rc == 0 and err == "", err


def test_a_newline_in_model_is_one_line(run):
    r = run("plan", "--model", "scout\nmoeprof: error: forged second line")
    assert r.rc == 1 and r.err.count("\n") == 1 and "\\n" in r.err, r


def test_probe_only_without_a_name_is_a_usage_error(run):
    r = run("probe", "--only", ",,,")
    assert r.rc == 2 and r.one_line and "--only" in r.err, r


def test_memory_error_is_one_line(run, monkeypatch):
    import moeprof.api.workflows.plan as plan_workflow

    def boom(*a, **k):
        raise MemoryError

    monkeypatch.setattr(plan_workflow, "search_plan", boom)
    r = run("plan", "--model", "scout")
    assert r.rc == 1 and r.one_line and "out of memory" in r.err, r


def test_numpy_warnings_never_reach_stderr(run, monkeypatch):
    import warnings

    import moeprof.api.workflows.plan as plan_workflow

    real = plan_workflow.search_plan

    def noisy(*a, **k):
        import numpy as np

        for _ in range(30):
            warnings.warn("overflow encountered in divide", RuntimeWarning, stacklevel=2)
        np.float64(1e308) * np.float64(1e308)
        return real(*a, **k)

    monkeypatch.setattr(plan_workflow, "search_plan", noisy)
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        r = run("plan", "--model", "scout", "--sku", "nd-h200-v5", "--max-vms", "1")
    assert r.rc in (0, 1) and "RuntimeWarning" not in r.err and r.one_line, r


@pytest.mark.slow  # a full plan and report of its own
def test_plan_of_a_config_file_keeps_its_report_charts(run, tmp_path, copy_data):
    cfg = copy_data("mixtral-8x7b.json")
    html = tmp_path / "r.html"
    r = run("plan", "--model", cfg, "--sku", "nd-h200-v5", "--max-vms", "1", "--context", "8192", "--qps", "1", "--json", "--report", html)
    assert r.rc == 0, r
    doc = json.loads(r.out)
    assert doc["inputs"]["model"] == str(cfg) and doc["inputs"]["model_name"] == cfg.parent.name
    text = html.read_text()
    assert 'class="na"' not in text, [line for line in text.split("<p") if 'class="na"' in line][:3]


@pytest.mark.slow
def test_world_size_not_an_integer(monkeypatch, capsys, tmp_path):
    from moeprof.probes import collectives

    monkeypatch.setenv("WORLD_SIZE", "abc")
    assert collectives.main(["--out", str(tmp_path / "p.json")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "WORLD_SIZE" in err and "Traceback" not in err
