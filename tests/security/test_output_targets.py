"""What moeprof writes goes to a regular file it may write, through a temp file and a rename,
or to standard output with `-`: never over a device, through a symlink, or by chmod-ing a
read-only file."""

import json
import os
import stat

import pytest

from moeprof.errors import MoeprofError
from moeprof.fileio import write_atomic


def _char_device(tmp_path):
    """A copy of /dev/full (root only)."""
    dev = tmp_path / "full"
    try:
        os.mknod(dev, stat.S_IFCHR | 0o666, os.makedev(1, 7))
    except (PermissionError, OSError):
        pytest.skip("creating a device node needs root")
    return dev


def _symlink_to_stdout(tmp_path):
    link = tmp_path / "stdout"
    link.symlink_to("/proc/self/fd/1")
    return link


def _read_only(tmp_path):
    f = tmp_path / "ro.html"
    f.write_text("keep me")
    f.chmod(0o444)
    return f


@pytest.mark.parametrize("make, words", [
    (_char_device, "not a regular file"),
    (_symlink_to_stdout, "symbolic link"),
    (_read_only, "read-only"),
])
def test_write_atomic_refuses(tmp_path, make, words):
    target = make(tmp_path)
    before = os.lstat(target)
    with pytest.raises(MoeprofError, match=words):
        write_atomic(target, "new text", what="report")
    after = os.lstat(target)
    assert (stat.S_IFMT(after.st_mode), stat.S_IMODE(after.st_mode)) == (stat.S_IFMT(before.st_mode), stat.S_IMODE(before.st_mode))
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    if make is _read_only:
        assert target.read_text() == "keep me"


def test_write_atomic_keeps_the_mode_of_a_file_it_replaces(tmp_path):
    f = tmp_path / "out.txt"
    f.write_text("old")
    f.chmod(0o600)
    write_atomic(f, "new")
    assert f.read_text() == "new" and stat.S_IMODE(f.stat().st_mode) == 0o600


def test_dash_writes_to_stdout(capsys):
    assert write_atomic("-", "hello\n") is None
    assert capsys.readouterr().out == "hello\n"


def test_plan_report_refuses_a_device_before_planning(run, tmp_path):
    r = run("plan", "--model", "scout", "--report", _char_device(tmp_path))
    assert r.rc == 1 and r.one_line and "not a regular file" in r.err, r


def test_report_refuses_a_symlink_to_stdout(run, tmp_path, small_plan):
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(small_plan))
    r = run("report", plan, "-o", _symlink_to_stdout(tmp_path))
    assert r.rc == 1 and r.one_line and "symbolic link" in r.err, r


def test_report_dash_is_stdout(run, tmp_path, small_plan):
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(small_plan))
    r = run("report", plan, "-o", "-")
    assert r.rc == 0 and r.out.lstrip().lower().startswith("<!doctype html"), r


def test_probe_out_refuses_a_read_only_file(run, tmp_path):
    ro = _read_only(tmp_path)
    r = run("probe", "--quick", "--device", "cpu", "--out", ro)
    assert r.rc == 1 and r.one_line and "read-only" in r.err, r
    assert ro.read_text() == "keep me" and stat.S_IMODE(ro.stat().st_mode) == 0o444


def test_probe_out_below_a_regular_file(run, tmp_path):
    f = tmp_path / "afile"
    f.write_text("x")
    r = run("probe", "--quick", "--device", "cpu", "--out", f / "p.json")
    assert r.rc == 1 and r.one_line and "is not a folder" in r.err, r


def test_save_profile_below_a_regular_file(tmp_path):
    from moeprof.profile import save_profile, shipped_profiles

    f = tmp_path / "afile"
    f.write_text("x")
    with pytest.raises(MoeprofError, match="cannot write profile"):
        save_profile(shipped_profiles()["h100-sxm-80gb.published"], f / "p.json")


def test_export_output_refuses_a_read_only_file(run, tmp_path, small_plan):
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(small_plan))
    ro = _read_only(tmp_path)
    r = run("export", plan, "--format", "vllm", "-o", ro)
    assert r.rc == 1 and r.one_line and "read-only" in r.err, r
    assert stat.S_IMODE(ro.stat().st_mode) == 0o444
