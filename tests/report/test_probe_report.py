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
