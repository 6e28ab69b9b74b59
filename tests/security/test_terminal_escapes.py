"""Text read from files (record ids, names, sources, file names) reaches a terminal printable: no
escape sequence survives, on a real pty or through a pipe."""

import json
import os
import pty
import re
import select
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from moeprof.errors import printable, printable_lines

ROOT = Path(__file__).resolve().parents[2]
DATASET = ROOT / "moeprof" / "data" / "benchmarks" / "inferencex_2025-12.json"
VLLM_RESULT = ROOT / "tests" / "data" / "bench" / "vllm_scout_h200_c16.json"
# set the window title, clear the screen, home the cursor, print forged text, reorder it, CSI in C1 form
EVIL = "x\x1b]0;PWNED\x07\x1b[2J\x1b[Hforged\r\u202egnp.\u2066\x9b31m\x85\u2028"
# what a terminal acts on: C0 controls except the line ends a pty makes, DEL, C1, separators, bidi
ACTIVE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f]")


def _pty_run(args, cwd) -> str:
    """Run the console entry point on a pseudo-terminal; everything the terminal received."""
    master, slave = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TERM": "xterm", "COLUMNS": "200"}
    p = subprocess.Popen([sys.executable, "-m", "moeprof", *map(str, args)], stdin=slave, stdout=slave, stderr=slave,
                         cwd=cwd, env=env, close_fds=True)
    os.close(slave)
    out = b""
    while True:
        r, _, _ = select.select([master], [], [], 60)
        if not r:
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    p.wait(timeout=60)
    os.close(master)
    return out.decode("utf-8", errors="replace").replace("\r\n", "\n")


@pytest.fixture
def evil_dataset(tmp_path):
    d = json.loads(DATASET.read_text())
    d["records"] = d["records"][:2]
    d["records"][0]["id"] = EVIL
    d["records"][1]["engine_version"] = EVIL
    d["source"]["title"] = EVIL
    p = tmp_path / f"data{EVIL}.json"
    p.write_text(json.dumps(d))
    return p


@pytest.mark.slow  # a real `python -m moeprof` subprocess on a pty or pipe
def test_validate_bench_on_a_pty_prints_no_escape_sequence(evil_dataset, tmp_path):
    out = _pty_run(["validate", "--bench", evil_dataset.name], tmp_path)
    assert "tok/s/GPU" in out and "\\x1b]0;PWNED" in out, out  # the id is shown, escaped
    assert not ACTIVE.search(out), repr(out)


@pytest.mark.slow  # a real `python -m moeprof` subprocess on a pty or pipe
def test_a_hostile_file_name_on_a_pty_is_shown_escaped(tmp_path):
    name = f"r{EVIL}.json"
    shutil.copy(VLLM_RESULT, tmp_path / name)
    out = _pty_run(["validate", "--bench", name, "--gpu", "h200", "--tp", "4"], tmp_path)
    assert not ACTIVE.search(out), repr(out)


@pytest.mark.slow  # a calibration in a subprocess
def test_a_hostile_file_name_given_to_calibrate_on_a_pty_is_shown_escaped(tmp_path):
    name = f"r{EVIL}.json"
    shutil.copy(VLLM_RESULT, tmp_path / name)
    (tmp_path / "empty").mkdir()
    out = _pty_run(["calibrate", "--bench", name, "--gpu", "h200", "--tp", "4", "--out", "empty/" + name], tmp_path)
    assert not ACTIVE.search(out), repr(out)


@pytest.mark.slow  # a real `python -m moeprof` subprocess on a pty or pipe
def test_the_title_sequence_does_not_pass_a_pipe(evil_dataset, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-m", "moeprof", "validate", "--bench", evil_dataset.name], cwd=tmp_path, env=env,
                       capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr
    for stream in (r.stdout, r.stderr):
        assert not ACTIVE.search(stream.decode()), stream


@pytest.mark.slow  # a real `python -m moeprof` subprocess on a pty or pipe
def test_models_show_of_a_hostile_config_on_a_pty(tmp_path, mixtral_cfg):
    cfg = {**mixtral_cfg, "_moeprof": {"sources": [EVIL], "notes": [EVIL], "estimate_method": EVIL}}
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    out = _pty_run(["models", "show", "config.json"], tmp_path)
    assert "source:" in out and not ACTIVE.search(out), repr(out)


@pytest.mark.parametrize("text", [EVIL, "\x1b[31mred", "a\u202eb", "\x00\x7f\x9b", "ok é 中 🙂"])
def test_printable_leaves_nothing_a_terminal_acts_on(text):
    assert not ACTIVE.search(printable(text)) and not ACTIVE.search(printable_lines(text))
    assert "\n" not in printable(text + "\n")
    if text.isprintable():
        assert printable(text) == text
