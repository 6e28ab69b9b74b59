"""Nothing from a config or a plan reaches an inference engine's argv as an option: every export
(vllm, sglang, azureml) is run through a stub engine that records its argv."""

import json
import os
import shlex
import subprocess

import pytest
import yaml

from moeprof.export import export

HOSTILE = ["--trust-remote-code", "--config=/tmp/evil.yaml", "-h", "org/name --trust-remote-code", "$(touch pwned)",
           "org/name;id", "a b/c", "org/../../etc", "org/name\u2028x", ".hidden/x", "~/x", "-/x"]
BENIGN = ["org/name", "Org-1/Model_2.5-FP8", "/models/ckpt", "./local/ckpt", "../up/ckpt"]

STUB = """#!/bin/sh
for a in "$@"; do printf '%s\\n' "$a"; done > "$ARGV_OUT.$$"
"""


@pytest.fixture
def stub_path(tmp_path):
    """A folder holding `vllm` and `python` stubs that write their argv, one per line."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("vllm", "python"):
        (bin_dir / name).write_text(STUB)
        (bin_dir / name).chmod(0o755)
    return bin_dir


def _argvs(tmp_path) -> list[list[str]]:
    return [p.read_text().splitlines() for p in sorted(tmp_path.glob("argv.*"))]


def _run_script(text: str, stub: str, tmp_path, env=None) -> subprocess.CompletedProcess:
    script = tmp_path / "run.sh"
    script.write_text(text)
    env = {**os.environ, "PATH": f"{stub}:{os.environ['PATH']}", "ARGV_OUT": str(tmp_path / "argv"), **(env or {})}
    return subprocess.run(["bash", str(script)], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=30)


def _run_azureml(text: str, stub, tmp_path) -> subprocess.CompletedProcess:
    """The Dockerfile's entrypoint, as the export's comment states it, with the YAML's variables."""
    env_vars = yaml.safe_load(text)["environment_variables"]
    env = {**os.environ, **env_vars, "PATH": f"{stub}:{os.environ['PATH']}", "ARGV_OUT": str(tmp_path / "argv")}
    return subprocess.run(["/bin/sh", "-c", 'exec vllm serve "$MODEL_NAME" $VLLM_ARGS --port 8000'], env=env,
                           cwd=tmp_path, capture_output=True, text=True, timeout=30)


def _plan_with(small_plan, hf_id):
    doc = json.loads(json.dumps(small_plan))
    doc["inputs"]["model"] = "./gone/config.json"  # a config-file model: the export uses the stored hf_id
    doc["inputs"]["hf_id"] = hf_id
    doc["recommended"]["quant"] = "bf16"
    return doc


@pytest.mark.parametrize("fmt", ["vllm", "sglang", "azureml"])
@pytest.mark.parametrize("hf_id", BENIGN)
def test_every_export_hands_the_engine_the_model_as_one_argument(small_plan, stub_path, tmp_path, fmt, hf_id):
    text = export(_plan_with(small_plan, hf_id), fmt)
    r = _run_azureml(text, stub_path, tmp_path) if fmt == "azureml" else _run_script(text, stub_path, tmp_path)
    assert r.returncode == 0, r
    argvs = _argvs(tmp_path)
    assert argvs
    for argv in argvs:
        if fmt == "sglang":
            assert argv[:4] == ["-m", "sglang.launch_server", "--model-path", hf_id], argv
        else:
            assert argv[:2] == ["serve", hf_id], argv
        assert "--trust-remote-code" not in argv


@pytest.mark.parametrize("fmt", ["vllm", "sglang", "azureml"])
@pytest.mark.parametrize("hf_id", HOSTILE)
def test_a_plan_whose_hf_id_is_not_an_id_is_refused_by_every_export(run, small_plan, tmp_path, fmt, hf_id):
    p = tmp_path / "plan.json"
    p.write_text(json.dumps(_plan_with(small_plan, hf_id)))
    r = run("export", p, "--format", fmt)
    assert r.rc == 1 and r.one_line and "inputs.hf_id" in r.err and not r.out, r


@pytest.mark.parametrize("hf_id", ["--trust-remote-code", "--config=x.yaml", "org/name --x"])
def test_a_config_whose_hf_id_is_an_option_is_refused_by_plan(run, tmp_path, mixtral_cfg, hf_id):
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({**mixtral_cfg, "_moeprof": {"hf_id": hf_id}}))
    r = run("plan", "--model", cfg, "--sku", "nd-h200-v5", "--max-vms", "1", "--json")
    assert r.rc == 1 and r.one_line and "_moeprof.hf_id" in r.err and not r.out, r


@pytest.mark.parametrize("fmt", ["vllm", "sglang"])
def test_a_user_supplied_model_that_is_an_option_stops_the_script(small_plan, stub_path, tmp_path, fmt):
    doc = _plan_with(small_plan, None)
    del doc["inputs"]["hf_id"]  # no checkpoint known: the script asks for MODEL
    text = export(doc, fmt)
    assert '"$MODEL"' in text
    r = _run_script(text, stub_path, tmp_path, env={"MODEL": "--trust-remote-code"})
    assert r.returncode == 2 and not _argvs(tmp_path), r
    r = _run_script(text, stub_path, tmp_path, env={"MODEL": "org/mine"})
    assert r.returncode == 0 and all("org/mine" in a for a in _argvs(tmp_path)), r


def test_the_shell_words_of_an_export_are_the_engine_argv(small_plan, stub_path, tmp_path):
    text = export(_plan_with(small_plan, "org/name"), "vllm")
    lines = [x for x in text.splitlines() if "vllm serve" in x and not x.lstrip().startswith("#")]
    assert lines, text
    for line in lines:  # each replica's line, after its CUDA_VISIBLE_DEVICES=... assignment when it has one
        words = shlex.split(line.rstrip(" &"))
        words = words[next(i for i, w in enumerate(words) if "=" not in w):]
        assert words[:3] == ["vllm", "serve", "${MODEL:-org/name}"], line  # bash expands it to org/name (above)
