"""Text from plans and configs can never add YAML keys, spreadsheet formulas or a different
model to what moeprof writes."""

import json

import pytest
import yaml

from moeprof.export import export_azureml, export_vllm
from moeprof.report.tables import rows_to_csv
from moeprof.yaml_out import dump

NEL = "\u0085"
INJECT = f"x{NEL}instance_type: Standard_Evil{NEL}evil_key: 1"


def write_json(path, obj):
    path.write_text(json.dumps(obj))
    return path


@pytest.mark.parametrize("text", [INJECT, "a\nb: 1", "a\u2028b: 1", "a # c", "---\nx", "'q'", '"d"', "- 1"])
def test_every_string_round_trips_through_the_yaml_writer(text):
    body = {"name": text, "nested": {"k": [text]}, "n": 3}
    assert yaml.safe_load(dump(body)) == body


def test_azureml_export_keeps_injected_text_inside_values(small_plan):
    doc = json.loads(json.dumps(small_plan))
    doc["recommended"]["gpu"] = INJECT
    doc["inputs"]["model"] = INJECT
    doc["inputs"]["model_name"] = INJECT
    doc["inputs"]["hf_id"] = "org/name"
    text = export_azureml(doc)
    parsed = yaml.safe_load(text)
    assert "evil_key" not in parsed and parsed["instance_type"] == "Standard_ND96isr_H200_v5", parsed
    assert parsed["environment_variables"]["MODEL_NAME"] == "org/name"
    comments = [line for line in text.splitlines() if line.startswith("#")]
    assert all(NEL not in c for c in comments)


@pytest.mark.parametrize("field", ["recommended.gpu", "inputs.model", "inputs.hf_id"])
def test_a_plan_with_line_breaks_in_identifiers_is_refused(run, tmp_path, small_plan, field):
    doc = json.loads(json.dumps(small_plan))
    part, key = field.split(".")
    doc[part][key] = INJECT
    r = run("export", write_json(tmp_path / "plan.json", doc), "--format", "azureml")
    assert r.rc == 1 and r.one_line and field in r.err, r


def test_a_config_hf_id_with_nel_is_refused_at_load(run, tmp_path, mixtral_cfg):
    p = write_json(tmp_path / "c.json", {**mixtral_cfg, "_moeprof": {"hf_id": INJECT}})
    r = run("models", "show", p)
    assert r.rc == 1 and r.one_line and "_moeprof.hf_id" in r.err and "line-break" in r.err, r


def test_csv_neutralises_every_formula_prefix_but_keeps_negative_numbers():
    evil = "-2+3+cmd|' /C calc'!A0"
    rows = [{"sku": evil, "a": "=1", "b": "+1", "c": "@x", "d": "\tx", "e": "\rx", "delta": -2.5, "n": -3}]
    import csv
    import io

    cells = list(csv.reader(io.StringIO(rows_to_csv(rows))))[1]
    assert cells == ["'" + evil, "'=1", "'+1", "'@x", "'\tx", "'\nx", "-2.5", "-3"]


def test_plan_csv_from_a_vm_file_sku_is_neutralised(run, tmp_path):
    sku = "-2+3+cmd"
    p = write_json(tmp_path / "vms.json", {"vms": {sku: {
        "azure_name": "Standard_X", "gpu": "h200-sxm-141gb", "gpus_per_vm": 8, "vcpus": 96, "ram_bytes": 1.9e12,
        "scale_out_bytes_per_s_per_gpu": 5e10, "price": {"usd_per_hour": 50.0, "estimate": True}}}})
    r = run("plan", "--model", "scout", "--vm-file", p, "--sku", sku, "--max-vms", "1", "--csv")
    assert r.rc in (0, 1) and r.out, r
    body = r.out.splitlines()[1:]
    assert body and all(line.startswith("'-2+3+cmd") for line in body), r.out[:500]


def test_a_config_named_like_a_builtin_exports_its_own_checkpoint(run, tmp_path, mixtral_cfg):
    cfg = {**mixtral_cfg, "_moeprof": {"name": "maverick", "hf_id": "mistralai/Mixtral-8x7B-Instruct-v0.1"}}
    p = write_json(tmp_path / "config.json", cfg)
    r = run("plan", "--model", p, "--sku", "nd-h200-v5", "--max-vms", "1", "--context", "8192", "--qps", "1", "--json")
    assert r.rc == 0, r
    doc = json.loads(r.out)
    assert doc["inputs"]["model"] == str(p) and doc["inputs"]["model_name"] == "maverick"
    text = export_vllm(doc)
    assert "mistralai/Mixtral-8x7B-Instruct-v0.1" in text and "Llama-4" not in text, text
    # the file gone, the plan still names what it planned
    p.unlink()
    assert "mistralai/Mixtral-8x7B-Instruct-v0.1" in export_vllm(doc)
