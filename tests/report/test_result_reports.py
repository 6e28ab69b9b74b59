"""`moeprof report` of every JSON the tool writes, checked in headless Chromium: each renders, and
what it draws is what a reader looks at. The chart checks read the plotted traces back from the
rendered page (data and pixel positions), so they would have caught: the throughput chart plotting
output tok/s/GPU where InferenceX plots total; its recommended ring off its own curve; wide-EP
decode-step markers at a per-group batch on the per-replica batch axis."""

import html
import json
import re

import pytest

pytestmark = pytest.mark.slow  # headless Chromium: seconds per page

# Appended to a copy of a report: once the page has drawn, every plot's traces with their data
# and pixel positions go into <pre id="moeprof-probe">.
PROBE = """<script>(function () {
  function go() {
    if (!document.getElementById('moeprof-render-check')) { setTimeout(go, 50); return; }
    var out = [];
    document.querySelectorAll('div.js-plotly-plot').forEach(function (gd) {
      var L = gd._fullLayout, traces = [];
      gd._fullData.forEach(function (t) {
        var xa = L[(t.xaxis || 'x').replace('x', 'xaxis')], ya = L[(t.yaxis || 'y').replace('y', 'yaxis')];
        var x = Array.from(t.x || []), y = Array.from(t.y || []);
        traces.push({name: t.name, type: t.type, yaxis: t.yaxis || 'y', x: x, y: y,
                     px: x.map(function (v) { return xa.d2p(v); }), py: y.map(function (v) { return ya.d2p(v); })});
      });
      out.push({id: gd.id, ytitle: (L.yaxis.title || {}).text || '', traces: traces});
    });
    var pre = document.createElement('pre');
    pre.id = 'moeprof-probe';
    pre.textContent = JSON.stringify(out);
    document.body.appendChild(pre);
  }
  go();
})();</script>"""


def _probe(browser, path):
    p = path.with_name(path.stem + ".probe.html")
    p.write_text(path.read_text().replace("</body>", PROBE + "</body>", 1))
    r = browser(p)
    m = re.search(r'<pre id="moeprof-probe">(.*?)</pre>', r.dom, re.S)
    assert m, "the probe wrote nothing"
    return r, json.loads(html.unescape(m.group(1)))


def _ok(r, plots):
    assert r.errors == [] and r.console_problems == []
    assert r.expected == plots and r.rendered == plots


def _trace(plots, name_part):
    return [t for p in plots for t in p["traces"] if name_part in (t["name"] or "")]


def _distance_to_polyline(px, py, xs, ys) -> float:
    best = float("inf")
    for (x0, y0), (x1, y1) in zip(zip(xs, ys), list(zip(xs, ys))[1:]):
        dx, dy = x1 - x0, y1 - y0
        t = 0.0 if dx == dy == 0 else max(0.0, min(1.0, ((px - x0) * dx + (py - y0) * dy) / (dx * dx + dy * dy)))
        best = min(best, ((px - x0 - t * dx) ** 2 + (py - y0 - t * dy) ** 2) ** 0.5)
    return best


@pytest.fixture(scope="module")
def report_of(tmp_path_factory):
    from moeprof.cli import main

    folder = tmp_path_factory.mktemp("reports")

    def make(name: str, doc) -> "Path":  # noqa: F821
        src = folder / f"{name}.json"
        src.write_text(json.dumps(doc))
        out = folder / f"{name}.html"
        assert main(["report", str(src), "-o", str(out)]) == 0
        return out

    return make


def test_throughput_chart_plots_total_and_output_and_rings_the_pick_on_its_own_curve(plan_doc, report_of, browser):
    r, plots = _probe(browser, report_of("plan", plan_doc))
    _ok(r, r.expected)
    inp = plan_doc["inputs"]
    factor = (inp["input_tokens"] + inp["output_tokens"]) / inp["output_tokens"]
    curves = {c["sku"]: c for c in plan_doc["charts"]["throughput"]}
    for sku, c in curves.items():
        total = _trace(plots, f"{sku}: total tokens/s per GPU")
        output = _trace(plots, f"{sku}: output tokens/s per GPU")
        assert len(total) == len(output) == 1, sku
        assert total[0]["y"] == pytest.approx([v * factor for v in c["output_tokens_per_s_per_gpu"]], rel=1e-4)
        assert output[0]["y"] == pytest.approx(c["output_tokens_per_s_per_gpu"], rel=1e-4)
    chart = next(p for p in plots if _trace([p], "total tokens/s per GPU"))
    assert "total" in chart["ytitle"] and "output" in chart["ytitle"]
    ring = _trace([chart], "recommended")
    assert len(ring) == 1
    rec_sku = next(c["sku"] for c in plan_doc["charts"]["throughput"] if c["recommended"])
    own = _trace([chart], f"{rec_sku}: total tokens/s per GPU")[0]
    px, py = ring[0]["px"][0], ring[0]["py"][0]
    assert _distance_to_polyline(px, py, own["px"], own["py"]) < 2.0  # on its own curve, in pixels
    assert ring[0]["x"][0] == pytest.approx(1000.0 / plan_doc["recommended"]["tpot_ms"], rel=1e-4)


def test_wide_ep_decode_steps_sit_on_the_replica_batch_axis(plans, report_of, browser):
    doc = json.loads(json.dumps(plans("kimi-k2", skus=("nd-h200-v5",)).to_json()))
    rec = doc["recommended"]
    assert rec["ep"] > rec["tp"], "kimi-k2 on nd-h200-v5 is the wide-EP case this test needs"
    groups = rec["ep"] // rec["tp"]
    r, plots = _probe(browser, report_of("kimi", doc))
    _ok(r, r.expected)
    steps = _trace(plots, "decode step, idle queue")[0]
    tpot = _trace(plots, "TPOT (ms)")[0]
    assert max(steps["x"]) == pytest.approx(rec["max_batch"] * groups)
    # a replica never runs more sequences than its groups' max batch: the TPOT line ends left of the last marker
    assert max(tpot["px"]) <= max(steps["px"]) + 1.0


def test_evaluate_sweep_and_single_point(cli, report_of, browser):
    args = ["evaluate", "--model", "scout", "--sku", "nd-h100-v5", "--tp", "8", "--isl", "1024", "--osl", "1024", "--json"]
    sweep = json.loads(cli(*args, "--sweep", "max_concurrency=1,8,64", check_rc=0).stdout)
    r, plots = _probe(browser, report_of("sweep", sweep))
    _ok(r, 1)
    total, output = _trace(plots, "total tokens/s per GPU")[0], _trace(plots, "output tokens/s per GPU")[0]
    assert total["y"] == pytest.approx([row["total_token_throughput_per_gpu"] for row in sweep["sweep"]], rel=1e-4)
    assert output["y"] == pytest.approx([row["output_throughput_per_gpu"] for row in sweep["sweep"]], rel=1e-4)
    assert total["x"] == pytest.approx([row["tokens_per_s_per_user"] for row in sweep["sweep"]], rel=1e-4)
    old = json.loads(json.dumps(sweep).replace('"max_concurrency"', '"concurrency"'))  # the key before vLLM's name
    _ok(browser(report_of("old-sweep", old)), 1)
    one = json.loads(cli(*args, "--concurrency", "8", check_rc=0).stdout)
    r = browser(report_of("one", one))
    _ok(r, 1)
    assert "max_concurrency 8" in r.dom


def test_compare_bars_carry_their_bands(cli_once, report_of, browser):
    doc = json.loads(cli_once("compare", "--model", "maverick", "--json", check_rc=0).stdout)
    r, plots = _probe(browser, report_of("compare", doc))
    _ok(r, 1)
    bars = [t for t in plots[0]["traces"] if t["type"] == "bar"]
    priced = [row for row in doc["rows"] if row.get("usd_per_million_tokens") is not None]
    assert len(bars) == 4 and all(len(b["x"]) == len(priced) for b in bars)
    cap = next(b for b in bars if "capacity" in b["name"])
    assert cap["y"] == pytest.approx([row["qps_capacity"] for row in priced], rel=1e-4)
    assert "pick" in r.dom


def test_validation_scatter(cli, report_of, browser):
    doc = json.loads(cli("validate", "--profile", "h100", "--json", check_rc=0).stdout)
    r, plots = _probe(browser, report_of("validate", doc))
    _ok(r, 1)
    pts = [t for t in plots[0]["traces"] if t["name"] and "ms" in t["name"]]
    measured = sorted(row["measured"] for row in doc["rows"] if row["quantity"] == "ms")
    assert sorted(x for t in pts for x in t["x"]) == pytest.approx(measured, rel=1e-4)


def test_unknown_json_is_one_line(tmp_path, cli):
    p = tmp_path / "x.json"
    p.write_text('{"a": 1}')
    r = cli("report", p, "-o", tmp_path / "x.html")
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "not a JSON moeprof writes" in r.stderr
