"""Work and memory bounded by the inputs: every command finishes a hostile input inside
`ulimit -v 1.5 GB` and 60 s, refusing what is too large with a limit that names the input."""

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MIB = 2**20
LIMIT_AS = int(1.5 * 2**30)


def _limits():
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT_AS, LIMIT_AS))


def run_limited(args, cwd, timeout=60):
    """The real CLI under a 1.5 GB address-space limit and a 60 s wall clock."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1"}
    env.pop("MOEPROF_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "moeprof", *map(str, args)], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout, preexec_fn=_limits)


def _one_line(r):
    return r.stderr.count("\n") <= 1 and "Traceback" not in r.stderr and "internal error" not in r.stderr


# 60 MiB files, inside the 64 MiB limit on a file: one long string, one long run of escapes, many values
HUGE = {
    "string": lambda n: '{"a": "' + "x" * (n - 20) + '"}',
    "escapes": lambda n: '{"a": "' + "\\u001b" * ((n - 20) // 6) + '"}',
    "quotes": lambda n: '{"a": "' + '\\"' * ((n - 20) // 2) + '"}',
    "lists": lambda n: "[" + "[]," * ((n - 10) // 3) + "[]]",
    "floats": lambda n: "[" + "1.5," * ((n - 10) // 4) + "1]",
    "deep": lambda n: "[" * (n // 2) + "]" * (n // 2),
}


# Every file with `validate --bench`; the other commands that read JSON (report, models show) go through
# the same reader (moeprof.inputs.read_json_file), so each gets the longest string and the deepest nesting.
_HUGE_CASES = ([(["validate", "--bench"], k) for k in sorted(HUGE)]
               + [(c, k) for c in (["report"], ["models", "show"]) for k in ("deep", "string")])


@pytest.mark.parametrize(("command", "kind"), _HUGE_CASES, ids=[f"{c[0]}-{k}" for c, k in _HUGE_CASES])
@pytest.mark.slow  # a real `python -m moeprof` subprocess under memory limits
def test_a_60_mib_json_file_is_read_in_bounded_memory_and_time(tmp_path, kind, command):
    p = tmp_path / "big.json"
    p.write_text(HUGE[kind](60 * MIB))
    r = run_limited([*command, p.name] + (["-o", "r.html"] if command == ["report"] else []), tmp_path)
    assert r.returncode == 1 and _one_line(r), r.stderr[-500:]
    assert "memory" not in r.stderr, r.stderr


def test_the_structure_check_is_linear_and_small_in_memory():
    """The reader's own checks on a 60 MiB string use a few copies of it, not ~120 bytes a character."""
    code = ("import resource; from moeprof.inputs import parse_json_text\n"
            "t = '{\"a\": \"' + 'x' * (60 * 2**20) + '\"}'\n"
            "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            "parse_json_text(t, 'x')\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)\n")
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True,
                         text=True, timeout=60, check=True).stdout
    assert int(out) < 400 * 1024, out  # KiB: under 400 MB for a 60 MB string (was 7.6 GB)


@pytest.mark.slow  # a real `python -m moeprof` subprocess under memory limits
def test_limits_name_the_file(tmp_path):
    p = tmp_path / "many.json"
    p.write_text(json.dumps([{} for _ in range(1_100_000)]))
    r = run_limited(["report", p.name], tmp_path)
    assert r.returncode == 1 and "many.json" in r.stderr and "objects and lists" in r.stderr, r.stderr


# ---- each command's work is bounded by its inputs, under 1.5 GB and 60 s ---------------------------------
VLLM = ROOT / "tests" / "data" / "bench" / "vllm_scout_h200_c16.json"
DATASET = ROOT / "moeprof" / "data" / "benchmarks" / "inferencex_2025-12.json"


@pytest.mark.slow
def test_a_60_mib_jsonl_of_many_records_is_refused_quickly(tmp_path):
    line = json.dumps(json.loads(VLLM.read_text())) + "\n"
    p = tmp_path / "many.jsonl"
    p.write_text(line * (60 * MIB // len(line)))
    r = run_limited(["validate", "--bench", p.name, "--gpu", "h200", "--tp", "4"], tmp_path)
    assert r.returncode == 1 and _one_line(r) and "many.jsonl" in r.stderr and "at most 2,000" in r.stderr, r.stderr


@pytest.mark.slow
def test_a_dataset_of_10000_records_is_refused_quickly(tmp_path):
    d = json.loads(DATASET.read_text())
    d["records"] = [dict(d["records"][0], id=f"r{i}") for i in range(10_000)]
    (tmp_path / "d.json").write_text(json.dumps(d))
    r = run_limited(["validate", "--bench", "d.json"], tmp_path)
    assert r.returncode == 1 and _one_line(r) and "d.json" in r.stderr and "records" in r.stderr, r.stderr


@pytest.mark.slow
def test_calibrate_over_1000_files_is_refused_before_fitting(tmp_path):
    base = json.loads(VLLM.read_text())
    names = []
    for i in range(1000):
        (tmp_path / f"r{i}.json").write_text(json.dumps({**base, "max_concurrency": i + 1}))
        names.append(f"r{i}.json")
    r = run_limited(["calibrate", "--bench", *names, "--gpu", "h200", "--tp", "4", "--out", "p.json"], tmp_path)
    assert r.returncode == 1 and "at most 80 in one calibration" in r.stderr, r.stderr[-500:]


@pytest.mark.slow  # a real `python -m moeprof` subprocess under memory limits
def test_a_65000_point_sweep_is_refused(tmp_path):
    pts = ",".join(["1"] * 65000)  # one argument of 130 kB (the kernel's limit is 128 KiB)
    r = run_limited(["evaluate", "--model", "scout", "--gpu", "h200", "--gpus", "4", "--tp", "4", "--input-tokens", "512",
                     "--output-tokens", "64", "--sweep", f"concurrency={pts}"], tmp_path)
    assert r.returncode == 1 and _one_line(r) and "at most 256" in r.stderr, r.stderr


@pytest.mark.slow  # a real `python -m moeprof` subprocess under memory limits
@pytest.mark.parametrize("cells", [10**7, 3 * 10**6])
def test_a_kernel_table_of_millions_of_cells_is_refused_in_bounded_memory(tmp_path, cells):
    from moeprof.profile import shipped_profiles

    d = shipped_profiles()["h200-sxm-141gb.published"].to_json()
    n = cells // 10
    d["kernel_tables"] = {"allreduce_bf16": {"op": "allreduce", "key": {"dtype": "bf16"},
                                             "axes": {"message_bytes": list(range(1, n + 1)), "gpus": list(range(1, 11))},
                                             "ms": [0.01] * cells if cells <= 3 * 10**6 else [], "extensive": []}}
    (tmp_path / "p.json").write_text(json.dumps(d))
    r = run_limited(["evaluate", "--model", "scout", "--gpu", "h200", "--gpus", "4", "--tp", "4", "--input-tokens", "512",
                     "--output-tokens", "64", "--concurrency", "4", "--profile", "p.json"], tmp_path)
    assert r.returncode == 1 and _one_line(r) and "p.json" in r.stderr, r.stderr
    assert "memory" not in r.stderr
