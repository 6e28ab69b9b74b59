"""The plan and profile reports in headless Chromium at 900 px: no text box of a chart overlaps
another, no text or table runs out of its box, legends sit outside the plot area; the procurement
CSV link carries the table; the printed plan is one or two A4 pages with the key chart as a still.
Skips when chromium is missing."""

import csv
import html
import io
import json
import re
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import unquote

import pytest

from moeprof.report import write_plan_report, write_profile_report

from .conftest import CHROMIUM_FLAGS, chromium_path

pytestmark = pytest.mark.slow  # headless Chromium: seconds per page

# Waits for the page's own render check, then measures every section's text boxes.
LAYOUT_JS = """
(function () {
  function boxes(root, sel) {
    return Array.from(root.querySelectorAll(sel)).filter(function (e) {
      return (e.textContent || '').trim() && getComputedStyle(e).visibility !== 'hidden';
    }).map(function (e) {
      var r = e.getBoundingClientRect();
      return {t: e.textContent.trim(), l: r.left, r: r.right, top: r.top, b: r.bottom};
    }).filter(function (b) { return b.r - b.l > 0 && b.b - b.top > 0; });
  }
  function hit(a, b, pad) {
    return a.l < b.r - pad && b.l < a.r - pad && a.top < b.b - pad && b.top < a.b - pad;
  }
  function check() {
    if (!document.getElementById('moeprof-render-check')) return setTimeout(check, 50);
    var out = {};
    document.querySelectorAll('section').forEach(function (sec) {
      var res = {overlaps: [], outside: [], legend_on_plot: [], plots: 0};
      var sb = sec.getBoundingClientRect();
      sec.querySelectorAll('div.moeprof-plot').forEach(function (div) {
        res.plots++;
        var db = div.getBoundingClientRect();
        var t = boxes(div, 'svg text');
        for (var i = 0; i < t.length; i++) {
          for (var j = i + 1; j < t.length; j++) if (hit(t[i], t[j], 1)) res.overlaps.push([t[i].t, t[j].t]);
          if (t[i].l < db.left - 1 || t[i].r > db.right + 1) res.outside.push(t[i].t);
        }
        var leg = div.querySelector('g.legend');
        if (leg) {
          var lb = leg.getBoundingClientRect();
          lb = {l: lb.left, r: lb.right, top: lb.top, b: lb.bottom};
          div.querySelectorAll('rect.nsewdrag').forEach(function (p) {
            var pb = p.getBoundingClientRect();
            if (hit(lb, {l: pb.left, r: pb.right, top: pb.top, b: pb.bottom}, 1)) res.legend_on_plot.push(div.id);
          });
        }
      });
      sec.querySelectorAll('table').forEach(function (tb) {
        if (tb.getBoundingClientRect().right > sb.right + 0.5) res.outside.push('a table');
      });
      out[sec.id] = res;
    });
    var pre = document.createElement('pre');
    pre.id = 'layout-check';
    pre.textContent = JSON.stringify(out);
    document.body.appendChild(pre);
  }
  check();
})();
"""


def _chromium(args: list[str], page: Path) -> subprocess.CompletedProcess:
    exe = chromium_path()
    if exe is None:
        pytest.skip("chromium is not installed (apt-get install chromium; .ci/run does this)")
    with tempfile.TemporaryDirectory(prefix="moeprof-chromium-") as profile:
        return subprocess.run([exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, page.resolve().as_uri()],
                              capture_output=True, text=True, timeout=120)


def layout_at(page: Path, width_px: int = 900) -> tuple[dict, str]:
    """({section id: overlaps, texts outside their box, legends on a plot area, plots}, DOM) at width_px."""
    probe = page.with_name(page.stem + "-layout.html")
    probe.write_text(page.read_text().replace("</body>", f"<script>{LAYOUT_JS}</script></body>", 1))
    p = _chromium([f"--window-size={width_px},3000", "--dump-dom"], probe)
    m = re.search(r'<pre id="layout-check">(.*?)</pre>', p.stdout, re.S)
    assert m, "the layout check did not run: " + p.stderr[-1500:]
    return json.loads(html.unescape(m.group(1))), p.stdout


def _clean(res: dict, sections) -> dict:
    return {s: {k: v for k, v in res[s].items() if k != "plots" and v} for s in sections if s in res}


def test_plan_report_at_900_px(tmp_path, plan_doc):
    page = tmp_path / "plan.html"
    write_plan_report(plan_doc, page)
    res, dom = layout_at(page)
    assert res["throughput"]["plots"] == 1 and res["procurement"]["plots"] == 0
    charts = ("throughput", "pareto", "memory", "kv", "latency")
    assert all(res[s]["plots"] == 1 for s in charts)
    bad = _clean(res, ("summary", "procurement") + charts)
    assert bad == {s: {} for s in bad}, bad
    # the throughput chart's legend names every SKU and the pick, outside the plot area
    sec = dom.split('<section id="throughput">', 1)[1].split("</section>", 1)[0]
    for sku in ("nd-h100-v5", "nd-h200-v5", "nd-mi300x-v5"):
        assert f">{sku}: total tokens/s per GPU</text>" in sec and f">{sku}: output tokens/s per GPU</text>" in sec
        assert f">{sku}: $/M tokens</text>" in sec
    assert "at its TPOT at the target QPS</text>" in sec
    # log axes labelled in plain numbers, $ on the right axis
    assert re.search(r'class="ytick"[^>]*>.*?>\$\d', sec) or ">$1</text>" in sec


def test_profile_report_at_900_px(tmp_path):
    from moeprof.profile import resolve_profile

    prof = resolve_profile("h200-sxm-141gb.measured")
    doc = json.loads(Path(prof.path).read_text())
    page = tmp_path / "profile.html"
    write_profile_report(doc, page)
    res, dom = layout_at(page)
    assert res["validation"]["plots"] == 1
    bad = _clean(res, ("summary", "validation", "telemetry", "curves"))
    assert bad == {s: {} for s in bad}, bad
    assert ">memory used (GiB)</text>" in dom and "memory_used_bytes</text>" not in dom  # legend in words and units


def test_csv_link_carries_the_procurement_table(tmp_path, plan_doc):
    page = tmp_path / "plan.html"
    write_plan_report(plan_doc, page)
    _, dom = layout_at(page)
    m = re.search(r'<a class="csv noprint" id="procurement-csv" download="([^"]+)" href="data:text/csv;charset=utf-8,([^"]+)"',
                  dom)
    assert m and m.group(1).endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(unquote(html.unescape(m.group(2))))))
    assert {"sku", "vm_count", "gpu_count", "usd_per_month", "usd_per_million_tokens", "headroom_fraction",
            "ttft_p99_ms", "tpot_ms", "price_usd_per_vm_hour", "price_date", "price_status", "price_source"} <= set(rows[0])
    months = [float(r["usd_per_month"]) for r in rows if r["usd_per_month"]]
    assert months == sorted(months) and len(rows) == 3
    best = {s["sku"]: s["row"] for s in plan_doc["per_sku"] if s["row"]}
    for r in rows:
        b = best[r["sku"]]
        # at the pessimistic edge of the error band, as the plan states it
        assert float(r["headroom_fraction"]) == pytest.approx(b["qps_capacity_low"] / plan_doc["inputs"]["qps"] - 1)
        assert b["qps_capacity_low"] <= b["qps_capacity_high"]  # a biased model's band need not contain its point
        assert int(r["gpu_count"]) == b["gpus"] and r["price_status"] in ("api", "reported", "estimate", "stale")
        assert r["price_date"] in r["price_source"]  # the short label's date is the full source's


def _pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))


def test_printed_plan_is_one_or_two_a4_pages(tmp_path, plan_doc):
    page = tmp_path / "plan.html"
    write_plan_report(plan_doc, page)
    _, dom = layout_at(page)
    assert dom.count('<img class="print-only"') == 1  # the throughput chart as a still for the print
    pdf = tmp_path / "plan.pdf"
    _chromium([f"--print-to-pdf={pdf}", "--no-pdf-header-footer"], page)
    n = _pdf_pages(pdf.read_bytes())
    assert 1 <= n <= 2, f"{n} pages"
    # negative control: the same page printed without the print stylesheet runs to many pages
    full = tmp_path / "full.html"
    full.write_text(page.read_text().replace("@media print{", "@media not all{"))
    pdf_full = tmp_path / "full.pdf"
    _chromium([f"--print-to-pdf={pdf_full}", "--no-pdf-header-footer"], full)
    assert _pdf_pages(pdf_full.read_bytes()) > 4


def test_the_layout_check_catches_a_legend_on_the_plot(tmp_path, plan_doc):
    """Negative control: the throughput chart with its legend moved into the plot area fails the check."""
    from moeprof.report.html import script_json

    page = tmp_path / "plan.html"
    write_plan_report(plan_doc, page)
    text = page.read_text()
    sec = text.split('<section id="throughput">', 1)[1].split("</section>", 1)[0]
    m = re.search(r'<script type="application/json" id="(fig\d+)-data">(.*?)</script>', sec, re.S)
    fig = json.loads(m.group(2))
    fig["layout"]["legend"] = {"x": 0.3, "y": 0.5, "orientation": "v"}
    page.write_text(text.replace(m.group(2), script_json(fig), 1))
    res, _ = layout_at(page)
    assert res["throughput"]["legend_on_plot"] == [m.group(1)]


@pytest.mark.parametrize("width_px", [900, 1400])
def test_break_even_and_build_or_buy_sections_lay_out(tmp_path, plan_doc, width_px):
    page = tmp_path / "plan.html"
    write_plan_report(plan_doc, page)
    res, dom = layout_at(page, width_px)
    assert res["breakeven"]["plots"] == 1 and res["buildbuy"]["plots"] == 0
    bad = _clean(res, ("breakeven", "buildbuy"))
    assert bad == {s: {} for s in bad}, bad
    sec = dom.split('<section id="breakeven">', 1)[1].split("</section>", 1)[0]
    for s in plan_doc["charts"]["price_sensitivity"]:  # a panel per SKU, titled, and the price status in the table
        assert f">{s['sku']}{' (pick)' if s['is_pick'] else ''}: {s['vms']} VM</text>" in sec
    assert sec.count('<span class="status reported"') == len(plan_doc["charts"]["price_sensitivity"])
    assert ">break-even (crossing)</text>" in sec
    buy = dom.split('<section id="buildbuy">', 1)[1].split("</section>", 1)[0]
    assert '<span class="status reported"' in buy and "self-hosting cheaper above" in buy
