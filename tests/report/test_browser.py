"""Reports loaded in real headless Chromium, offline: every plot renders, no script error, no
request leaves the page, and hostile names render as text. Skips when chromium is missing."""

import json

import pytest

from moeprof.report import write_plan_report, write_profile_report

HOSTILE = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
pytestmark = pytest.mark.slow  # headless Chromium: seconds per page


def _ok(r, plots):
    assert r.check, "the page wrote no render check (did its scripts run?)"
    assert r.errors == []
    assert r.console_problems == []
    assert r.expected == plots and r.rendered == plots


def test_plan_report_renders(tmp_path, plan_doc, browser):
    p = tmp_path / "plan.html"
    write_plan_report(plan_doc, p)
    r = browser(p)
    _ok(r, 6)
    for s in ("summary", "pareto", "memory", "kv", "latency", "procurement", "rejected", "sources"):
        assert f'<section id="{s}">' in r.dom
    assert r.dom.count('class="main-svg"') >= 8  # plotly drew its SVG layers


def test_hostile_names_render_as_text(tmp_path, plan_doc, browser):
    d = json.loads(json.dumps(plan_doc).replace("nd-h100-v5", HOSTILE))
    d["inputs"]["model"] = HOSTILE
    p = tmp_path / "hostile.html"
    write_plan_report(d, p)
    r = browser(p)
    _ok(r, 6)  # the charts come from the plan document: an unknown model name changes none of them
    assert HOSTILE not in r.dom  # no such element was ever created
    assert f"<h1>moeprof plan: {ESCAPED}</h1>" in r.dom
    assert f"<td>{ESCAPED}</td>" in r.dom  # a SKU name in the KV table
    assert f"</span>{ESCAPED}" in r.dom  # and in the procurement table, after its colour swatch
    assert f">{ESCAPED}</text>" in r.dom  # and in the plot's legend, as SVG text


def test_profile_report_renders(tmp_path, profile_doc, browser):
    p = tmp_path / "profile.html"
    write_profile_report(profile_doc, p)
    r = browser(p)
    _ok(r, 3)  # two curves and the telemetry
    assert HOSTILE not in r.dom and ESCAPED in r.dom


def test_a_network_request_would_be_caught(tmp_path, plan_doc, browser):
    """Negative control: the same page with one remote image reports the blocked request."""
    p = tmp_path / "leaky.html"
    write_plan_report(plan_doc, p)
    p.write_text(p.read_text().replace("<main>", '<main><img src="http://example.invalid/pixel.png">', 1))
    r = browser(p)
    assert any("blocked by CSP" in e for e in r.errors)
    assert any("Content Security Policy" in ln for ln in r.console_problems)


def test_plan_command_writes_a_report(tmp_path, cli, browser):
    """The issue's acceptance check: `moeprof plan --model maverick --report PATH`."""
    p = tmp_path / "maverick.html"
    res = cli("plan", "--model", "maverick", "--report", p)
    assert res.returncode in (0, 1), res.stderr[-2000:]
    assert f"report written to {p}" in res.stderr
    r = browser(p)
    if res.returncode == 0:  # a recommendation: throughput vs tokens/s per user, cost, memory, KV vs context, latency vs batch
        _ok(r, 6)
    else:  # nothing met the targets: no latency chart, the closest configurations' memory
        _ok(r, r.expected)
        assert "No configuration meets the targets" in r.dom
    for s in ("summary", "pareto", "memory", "kv", "latency", "procurement", "rejected", "sources"):
        assert f'<section id="{s}">' in r.dom
