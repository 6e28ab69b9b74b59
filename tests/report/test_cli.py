"""`moeprof report` and `moeprof export` as a user runs them: exit codes, one-line errors, files."""

import json
import os

import pytest
import yaml

from moeprof.cli import main


def run(capsys, *args):
    rc = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return rc, out, err


def one_line_error(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.slow  # a full plan and two reports
def test_report_of_a_plan_and_of_a_profile(tmp_path, capsys, plan_file, profile_doc):
    out = tmp_path / "r.html"
    rc, o, _ = run(capsys, "report", plan_file, "-o", out, "--json")
    assert rc == 0 and json.loads(o) == {"kind": "plan", "output": str(out), "bytes": out.stat().st_size}
    assert out.read_text().count('class="moeprof-plot"') == 6
    prof = tmp_path / "p.json"
    prof.write_text(json.dumps(profile_doc))
    rc, o, _ = run(capsys, "report", prof, "-o", tmp_path / "p.html")
    assert rc == 0 and "profile report written" in o


def test_report_with_validation(tmp_path, capsys, plan_file):
    v = tmp_path / "v.json"
    v.write_text(json.dumps({"rows": [{"case": "decode", "predicted_step_ms": 10.0, "measured_step_ms": 11.0}]}))
    out = tmp_path / "r.html"
    rc, _, _ = run(capsys, "report", plan_file, "-o", out, "--validation", v)
    assert rc == 0 and '<section id="validation">' in out.read_text()


@pytest.mark.parametrize(
    "content, expect",
    [
        ("{not json", "field '<json>': not valid JSON"),
        ('{"schema": "moeprof.profile", "schema_version": 1, "gpu": "h100-sxm-80gb", "source": "guess"}', "field 'source'"),
        (
            '{"schema": "moeprof.plan", "schema_version": 2, "inputs": {"model": "maverick", "input_tokens": 1}, "recommended": null}',
            "field 'inputs.output_tokens'",
        ),
        ('{"inputs": {"model": "maverick"}, "recommended": null}', "schema version 1"),
        ("[1, 2]", "field '<root>'"),
    ],
)
def test_malformed_input_is_one_line_naming_file_and_field(tmp_path, capsys, content, expect):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    out = tmp_path / "r.html"
    rc, _, err = run(capsys, "report", bad, "-o", out)
    line = one_line_error(err)
    assert rc == 1 and str(bad) in line and expect in line
    assert not out.exists() and os.listdir(tmp_path) == ["bad.json"]


def test_missing_file_and_unwritable_output(tmp_path, capsys, plan_file):
    rc, _, err = run(capsys, "report", tmp_path / "nope.json")
    assert rc == 1 and "cannot read" in one_line_error(err)
    rc, _, err = run(capsys, "report", plan_file, "-o", tmp_path / "no" / "r.html")
    assert rc == 1 and "does not exist" in one_line_error(err)


def test_export_formats(tmp_path, capsys, plan_file, plan_doc):
    rc, o, _ = run(capsys, "export", plan_file, "--format", "vllm")
    assert rc == 0 and o.startswith("#!/usr/bin/env bash") and "vllm serve" in o
    out = tmp_path / "deploy.yaml"
    rc, o, err = run(capsys, "export", plan_file, "--format", "azureml", "-o", out)
    assert rc == 0 and "vLLM 0.11" in err
    assert yaml.safe_load(out.read_text())["instance_count"] == plan_doc["recommended"]["vms"]
    sh = tmp_path / "serve.sh"
    rc, o, _ = run(capsys, "export", plan_file, "--format", "sglang", "-o", sh, "--json")
    assert rc == 0 and json.loads(o)["engine"].startswith("SGLang") and os.access(sh, os.X_OK)


def test_export_usage_and_value_errors(tmp_path, capsys, plan_file, plan_doc):
    rc, _, err = run(capsys, "export", plan_file)
    assert rc == 2 and "--format" in one_line_error(err)
    rc, _, err = run(capsys, "export", plan_file, "--format", "tgi")
    assert rc == 1 and "tgi" in one_line_error(err)
    d = dict(plan_doc, recommended=None)
    p = tmp_path / "none.json"
    p.write_text(json.dumps(d))
    rc, _, err = run(capsys, "export", p, "--format", "vllm")
    assert rc == 1 and "nothing to export" in one_line_error(err)


def test_help(capsys):
    for cmd in ("report", "export"):
        rc, o, _ = run(capsys, cmd, "-h")
        assert rc == 0 and "Usage: moeprof " + cmd in o
