import copy

import pytest

from moeprof.errors import ConfigError
from moeprof.report import profile_report_html

HOSTILE = "<script>alert(1)</script>"


def test_profile_report_plots_curves_and_telemetry(profile_doc):
    text = profile_report_html(profile_doc, "p.json")
    for s in ("summary", "curves", "telemetry", "rows"):
        assert f'<section id="{s}">' in text
    assert text.count('class="moeprof-plot"') == 3  # gemm_bf16, memory_copy, telemetry
    for axis in ("achieved TFLOP/s", "GEMM rows M (tokens)", "power (W)", "memory (GiB)", "time since first sample (s)"):
        assert axis in text
    assert "phase %{text}" in text
    assert HOSTILE not in text and "&lt;script&gt;" in text


def test_profile_without_telemetry_says_so(profile_doc):
    d = copy.deepcopy(profile_doc)
    d["rows"] = [r for r in d["rows"] if r["probe"] != "telemetry"]
    text = profile_report_html(d)
    assert text.count('class="moeprof-plot"') == 2 and "telemetry: not available" in text


def test_malformed_profile_names_the_field(profile_doc):
    d = copy.deepcopy(profile_doc)
    d["curves"]["gemm_bf16"]["x"] = [3, 2, 1]
    with pytest.raises(ConfigError, match="curves.gemm_bf16.x"):
        profile_report_html(d, "p.json")


def _traces(text):
    import json
    import re

    return [tr for b in re.findall(r'id="fig\d+-data">(.*?)</script>', text, re.S) for tr in json.loads(b)["data"]]


def test_telemetry_legend_in_words_and_the_axis_unit(profile_doc):
    names = {t["name"] for t in _traces(profile_report_html(profile_doc))}
    assert {"memory used (GiB)", "power (W)", "GPU utilisation (%)", "SM clock (MHz)"} <= names
    assert not any(n.endswith(("_bytes", "_w", "_pct", "_mhz")) for n in names)


def test_provenance_is_a_table_of_plain_values(profile_doc):
    from moeprof.report.probe_report import provenance_rows

    d = copy.deepcopy(profile_doc)
    d["provenance"]["device"] = {"memory_total_bytes": 85899345920, "l2_cache_bytes": 52428800, "fp8": True}
    d["provenance"]["probe_settings"] = {"shapes": {"gemm": {"qkv_proj": [5120, 7168]}}, "probes": ["gemm", "moe"]}
    rows = dict(provenance_rows(d["provenance"]))
    assert rows["device.memory_total_bytes"] == "80.00 GiB (85,899,345,920 bytes)"
    assert rows["device.l2_cache_bytes"] == "50.00 MiB (52,428,800 bytes)" and rows["device.fp8"] == "yes"
    assert rows["probe_settings.shapes.gemm.qkv_proj"] == "5120 x 7168" and rows["probe_settings.probes"] == "gemm, moe"
    text = profile_report_html(d)
    assert "<td>device.memory_total_bytes</td><td>80.00 GiB (85,899,345,920 bytes)</td>" in text
    assert "{&quot;" not in text.split('<section id="summary">', 1)[1].split("</section>", 1)[0]  # no raw JSON


def test_validation_section_scores_the_profile():
    import json
    from pathlib import Path

    from moeprof.profile import resolve_profile
    from moeprof.validation import validate_profile

    prof = resolve_profile("h200-sxm-141gb.measured")
    text = profile_report_html(json.loads(Path(prof.path).read_text()))
    sec = text.split('<section id="validation">', 1)[1].split("</section>", 1)[0]
    s = validate_profile(prof).summary()["time"]
    assert f"<td>time, all rows</td><td class=\"num\">{s['rows']}</td><td class=\"num\">{s['median_abs_pct']:.1f}</td>" in sec
    assert f"{s['worst_abs_pct']:.1f}" in sec and 'class="moeprof-plot"' in sec
    assert sec.count("<tr>") > s["rows"]  # the per-row table


def test_validation_says_why_when_nothing_is_predicted(profile_doc):
    text = profile_report_html(profile_doc)
    sec = text.split('<section id="validation">', 1)[1].split("</section>", 1)[0]
    assert 'class="na"' in sec and "validation: not available" in sec
