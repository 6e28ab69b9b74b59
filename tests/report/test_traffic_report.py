"""The plan report's traffic section: present only with a traffic plan, escaped, and laid out
without overlap at 900 and 1400 px in headless Chromium."""

import html
import json
import re
import subprocess
import tempfile
from pathlib import Path

import pytest

from moeprof.planner import PlanDocument
from moeprof.planner.analyses.traffic import VmRates, traffic_plan
from moeprof.planner.document.traffic_file import TrafficProfile
from moeprof.report import plan_report_html, write_plan_report

from .conftest import CHROMIUM_FLAGS, HOSTILE, chromium_path

ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def _with_traffic(plan_doc: dict, source: str = "synthetic test week") -> dict:
    doc = PlanDocument.from_json(plan_doc)
    r = doc.recommended
    qps = [doc.inputs.qps * (3 if 100 <= h < 110 else 0.3 + 0.7 * (h % 24) / 23) for h in range(168)]
    rates = VmRates({"payg": r.usd_per_hour / r.vms, "reserved-3y": 0.45 * r.usd_per_hour / r.vms},
                    {"payg": "test price", "reserved-3y": "test price"}, {"reserved-1y": "not listed in the test"})
    doc.traffic = traffic_plan(TrafficProfile(tuple(qps), source, f"week-{HOSTILE}.csv"), r, 8, rates, doc.inputs.qps)
    return json.loads(json.dumps(doc.to_json()))


def _section(text: str) -> str:
    return text.split('<section id="traffic">', 1)[1].split("</section>", 1)[0]


def test_section_only_with_traffic(plan_doc, plan_html):
    without = plan_html
    assert '<section id="traffic">' not in without
    d = _with_traffic(plan_doc, HOSTILE)
    text = plan_report_html(d)
    s = _section(text)
    assert text.count('class="moeprof-plot"') == without.count('class="moeprof-plot"') + 1 and 'class="moeprof-plot"' in s
    for h in ("option", "reserved units", "$/week", "$/month", "saving vs static"):
        assert f"<th>{h}</th>" in s
    t = d["traffic"]
    for o in t["options"]:
        assert f"{o['usd_per_month']:,.0f}" in s
    assert "reserved-1y: no price (not listed in the test)" in s
    assert "above the 10 req/s the pick was sized for" in s  # the busy hours run 3x the plan's QPS
    assert HOSTILE not in text and ESCAPED in s  # the file name and source are text


def _layout(path: Path, width: int, css: str = "") -> dict:
    """Load the report at `width` px and measure the traffic section once its plot has rendered."""
    probe = """<script>(function () {
      function box(el) { var r = el.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; }
      function hit(a, b) { return a[0] < b[2] - 1 && b[0] < a[2] - 1 && a[1] < b[3] - 1 && b[1] < a[3] - 1; }
      function check() {
        if (!document.getElementById('moeprof-render-check')) { setTimeout(check, 50); return; }
        var sec = document.getElementById('traffic'), s = box(sec), problems = [];
        var texts = [];
        sec.querySelectorAll('.xtick text, .ytick text, .y2tick text, .g-xtitle text, .g-ytitle text, .g-y2title text, .legendtext')
          .forEach(function (el) { var b = box(el); if (b[2] > b[0]) texts.push([el.textContent, b]); });
        for (var i = 0; i < texts.length; i++) {
          for (var j = i + 1; j < texts.length; j++) {
            if (hit(texts[i][1], texts[j][1])) problems.push('overlap: ' + texts[i][0] + ' / ' + texts[j][0]);
          }
          var b = texts[i][1];
          if (b[0] < s[0] || b[2] > s[2]) problems.push('outside the section: ' + texts[i][0]);
        }
        sec.querySelectorAll('table, figure, p, .warn').forEach(function (el) {
          var b = box(el); if (b[2] > s[2] + 1) problems.push('wider than the section: ' + el.tagName);
        });
        if (document.documentElement.scrollWidth > window.innerWidth + 1) problems.push('the page scrolls sideways');
        var out = document.createElement('div');
        out.id = 'traffic-layout';
        out.hidden = true;
        out.setAttribute('data-width', String(window.innerWidth));
        out.setAttribute('data-texts', String(texts.length));
        out.setAttribute('data-problems', JSON.stringify(problems));
        document.body.appendChild(out);
      }
      check();
    })();</script>"""
    page = path.with_name(f"probe-{width}.html")
    page.write_text(path.read_text().replace("</body>", f"<style>{css}</style>{probe}</body>", 1))
    with tempfile.TemporaryDirectory(prefix="moeprof-chromium-") as profile:
        p = subprocess.run([chromium_path(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={width},2000",
                            "--dump-dom", page.resolve().as_uri()], capture_output=True, text=True, timeout=180)
    m = re.search(r'<div id="traffic-layout"([^>]*)>', p.stdout)
    assert m, "the layout probe did not run"
    attrs = dict(re.findall(r'data-([a-z]+)="([^"]*)"', m.group(1)))
    return {"width": int(attrs["width"]), "texts": int(attrs["texts"]), "problems": json.loads(html.unescape(attrs["problems"]))}


@pytest.mark.slow
@pytest.mark.parametrize("width", [900, 1400])
def test_section_renders_without_overlap(tmp_path, plan_doc, width):
    if chromium_path() is None:
        pytest.skip("chromium is not installed (apt-get install chromium; .ci/run does this)")
    p = tmp_path / "traffic.html"
    write_plan_report(_with_traffic(plan_doc), p)
    got = _layout(p, width)
    assert got["width"] == width
    assert got["texts"] >= 15  # tick labels of three axes, three axis titles, the legend
    assert got["problems"] == []


@pytest.mark.slow
def test_the_probe_sees_an_overlap(tmp_path, plan_doc):
    """Negative control: tick labels blown up to 40 px run into each other and the axis titles."""
    if chromium_path() is None:
        pytest.skip("chromium is not installed (apt-get install chromium; .ci/run does this)")
    p = tmp_path / "traffic.html"
    write_plan_report(_with_traffic(plan_doc), p)
    got = _layout(p, 900, css="#traffic .ytick text, #traffic .xtick text{font-size:40px !important}")
    assert any(x.startswith("overlap") for x in got["problems"])
