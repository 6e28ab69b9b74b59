"""Page shell of the HTML reports: escaping, the offline plotly bundle, figures, atomic write.

A report is one self-contained file: plotly.js is embedded once in a <script>, every figure's
data sits in a <script type="application/json"> block, and a strict Content-Security-Policy
(no network source of any kind) keeps the page from fetching anything. Text from the user or a
config file reaches the page only through `esc` (HTML) or `script_json` (JSON inside <script>);
text inside plotly figures goes through `plot_text`, since plotly renders a subset of HTML tags.

After the figures are drawn the page writes a hidden element #moeprof-render-check listing how
many plots rendered and any script error or blocked request, so a headless browser can check it.
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import math
from dataclasses import dataclass, field

from ..fileio import json_safe
from ..fileio import write_atomic as _write_atomic

CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; font-src data:"

PLOT_CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["sendDataToCloud"]}

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2329;background:#fafbfc}
header{background:#1f3a5f;color:#fff;padding:18px 32px}
header h1{margin:0 0 4px;font-size:1.45em}
header p{margin:0;opacity:.85;font-size:.92em}
nav{padding:8px 32px;background:#e8eef5;font-size:.9em}
nav a{margin-right:14px;color:#1f3a5f;text-decoration:none}
main{padding:8px 32px 40px;max-width:1280px}
section{margin:26px 0;padding:4px 20px 16px;background:#fff;border:1px solid #dde3ea;border-radius:6px}
h2{font-size:1.2em;color:#1f3a5f;border-bottom:1px solid #dde3ea;padding-bottom:6px}
h3{font-size:1.02em;margin:18px 0 6px}
table{border-collapse:collapse;font-size:.86em;margin:8px 0}
th,td{border:1px solid #dde3ea;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f0f3f7}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.kpis{display:flex;flex-wrap:wrap;gap:10px;margin:10px 0}
.kpi{border:1px solid #dde3ea;border-radius:6px;padding:8px 14px;min-width:140px;background:#f7f9fb}
.kpi b{display:block;font-size:1.25em;color:#1f3a5f}
.kpi span{font-size:.8em;color:#566}
.rec{font-size:1.05em;background:#eef6ee;border-left:4px solid #3a8a3a;padding:8px 12px}
.bad{background:#fbeeee;border-left:4px solid #b33;padding:8px 12px}
.warn{background:#fff8e5;border-left:4px solid #d9a400;padding:6px 12px;margin:6px 0;font-size:.9em}
figure{margin:12px 0}
figcaption{font-size:.82em;color:#445;margin-top:4px;line-height:1.45}
.na{color:#845;font-style:italic}
details{margin:6px 0}
summary{cursor:pointer;font-weight:600}
code{background:#f0f3f7;padding:1px 4px;border-radius:3px}
small{color:#667}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px;-webkit-print-color-adjust:exact;print-color-adjust:exact}
.pick{font-size:.78em;border:1.5px solid #000;border-radius:9px;padding:0 5px;margin-left:6px}
.status.api{color:#2a6b2a}
.status.reported{color:#8a6300}
.status.estimate,.status.stale{color:#b33;font-weight:600}
.src{border-bottom:1px dotted #889;cursor:help}
a.csv{display:inline-block;margin:4px 0 6px;padding:3px 10px;border:1px solid #1f3a5f;border-radius:4px;color:#1f3a5f;text-decoration:none;font-size:.88em}
.print-only{display:none}
table.procurement{width:100%}
table.procurement td.num small{white-space:normal;display:inline-block;max-width:9em;text-align:right}
@media print{
@page{size:A4;margin:12mm}
body{background:#fff;font-size:9pt}
header{background:none;color:#000;padding:0 0 4px;border-bottom:2px solid #1f3a5f}
header h1{font-size:1.3em}
nav,.noprint,details,figure .moeprof-plot{display:none !important}
main{padding:0;max-width:none}
section{border:0;margin:6px 0;padding:0}
h2{margin:8px 0 4px;break-after:avoid}
.print-only{display:block;width:60%;height:auto;margin:0 auto}
figure{margin:4px 0;break-inside:avoid}
figcaption{font-size:.85em;line-height:1.3}
table{font-size:.95em;margin:4px 0}
th,td{padding:2px 4px}
tr{break-inside:avoid}
.kpis{gap:6px;margin:6px 0}
.kpi{min-width:0;padding:3px 8px}
.kpi b{font-size:1.1em}
.rec,.warn,.bad{padding:3px 8px;margin:3px 0}
}
"""

# Collects script errors and blocked requests from the first moment the page runs.
_WATCH_JS = """
window.__moeprofErrors = [];
window.addEventListener('error', function (e) {
  window.__moeprofErrors.push('error: ' + (e.message || (e.target && e.target.tagName) || 'unknown'));
}, true);
window.addEventListener('unhandledrejection', function (e) {
  window.__moeprofErrors.push('unhandled rejection: ' + String(e.reason));
});
document.addEventListener('securitypolicyviolation', function (e) {
  window.__moeprofErrors.push('blocked by CSP: ' + e.violatedDirective + ' ' + e.blockedURI);
});
"""

# Draws every figure from its JSON block, then writes #moeprof-render-check.
_RENDER_JS = """
(function () {
  var divs = document.querySelectorAll('div.moeprof-plot');
  var jobs = [];
  function printImage(div, fig) {  // a still of the figure at A4 width, shown only when printed
    var h = (fig.layout && fig.layout.height) || 440;
    return Plotly.toImage(div, {format: 'svg', width: 720, height: h}).then(function (url) {
      var img = document.createElement('img');
      img.className = 'print-only';
      img.alt = div.getAttribute('aria-label') || 'chart';
      img.src = url;
      div.parentNode.insertBefore(img, div.nextSibling);
    });
  }
  divs.forEach(function (div) {
    try {
      var fig = JSON.parse(document.getElementById(div.id + '-data').textContent);
      jobs.push(Plotly.newPlot(div, fig.data, fig.layout, fig.config).then(function () {
        if (div.hasAttribute('data-print')) return printImage(div, fig);
      }).catch(function (e) {
        window.__moeprofErrors.push('plot ' + div.id + ': ' + e);
      }));
    } catch (e) {
      window.__moeprofErrors.push('plot ' + div.id + ': ' + e);
    }
  });
  function report() {
    var out = document.createElement('div');
    out.id = 'moeprof-render-check';
    out.hidden = true;
    out.setAttribute('data-expected', String(divs.length));
    var rendered = 0;
    divs.forEach(function (d) {
      if (d.classList.contains('js-plotly-plot') && d.querySelector('svg.main-svg')) rendered++;
    });
    out.setAttribute('data-rendered', String(rendered));
    out.setAttribute('data-errors', JSON.stringify(window.__moeprofErrors));
    document.body.appendChild(out);
  }
  var loaded = new Promise(function (ok) {
    if (document.readyState === 'complete') ok(); else window.addEventListener('load', ok);
  });
  function later() { setTimeout(report, 100); }
  Promise.all([Promise.all(jobs), loaded]).then(later, later);
})();
"""


def esc(value) -> str:
    """Text for HTML content or a quoted attribute."""
    return html.escape("" if value is None else str(value), quote=True)


def plot_text(value) -> str:
    """Text for a plotly label, title or hover: plotly renders some HTML tags and decodes
    entities, so user text is entity-escaped to show as typed."""
    return html.escape("" if value is None else str(value), quote=False)


def script_json(obj) -> str:
    """JSON safe inside a <script> element: no '</script', '<!--' or HTML-significant characters."""
    s = json.dumps(json_safe(obj), allow_nan=False, separators=(",", ":"))
    return (
        s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    )


def plotly_js() -> str:
    """The plotly.js bundle shipped with the plotly Python package (no CDN)."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def figure_json(fig) -> dict:
    """A plotly Figure as plain JSON (numpy arrays become lists), numbers to 6 significant digits."""
    import plotly.io as pio

    return _rounded(json.loads(pio.to_json(fig, validate=False)))


def _rounded(o, digits: int = 6):
    if isinstance(o, float):
        return float(f"{o:.{digits}g}") if math.isfinite(o) else None
    if isinstance(o, dict):
        return {k: _rounded(v, digits) for k, v in o.items()}
    if isinstance(o, list):
        return [_rounded(v, digits) for v in o]
    return o


@dataclass
class Page:
    """An HTML report under construction: sections of HTML, figures drawn after load."""

    title: str
    subtitle: str = ""
    sections: list[tuple[str, str, str]] = field(default_factory=list)  # (anchor, heading, html)
    print_sections: tuple[str, ...] = ()  # anchors kept when printed; empty: every section
    _figures: int = 0

    def figure(self, fig, caption_html: str = "", height_px: int | None = None, printed: bool = False) -> str:
        """HTML for one plotly figure with its caption (source and calibration); a `printed` figure
        gets a still image at A4 width that only the print shows (the interactive plot does not print)."""
        self._figures += 1
        fid = f"fig{self._figures}"
        doc = figure_json(fig)
        doc["config"] = PLOT_CONFIG
        h = height_px or int(doc.get("layout", {}).get("height") or 440)
        cap = f"<figcaption>{caption_html}</figcaption>" if caption_html else ""
        return (
            f'<figure><div id="{fid}" class="moeprof-plot"{" data-print" if printed else ""} style="min-height:{h}px"></div>'
            f'<script type="application/json" id="{fid}-data">{script_json(doc)}</script>{cap}</figure>'
        )

    @property
    def figure_count(self) -> int:
        return self._figures

    def add(self, anchor: str, heading: str, body_html: str) -> None:
        self.sections.append((anchor, heading, body_html))

    def render(self) -> str:
        nav = "".join(f'<a href="#{esc(a)}">{esc(h)}</a>' for a, h, _ in self.sections)
        body = "".join(f'<section id="{esc(a)}"><h2>{esc(h)}</h2>{b}</section>' for a, h, b in self.sections)
        style = STYLE
        if self.print_sections:  # sections left out of the printed page
            keep = "".join(f":not(#{_css_id(a)})" for a in self.print_sections)
            style += f"@media print{{section{keep}{{display:none}}}}\n"
        from .. import __version__

        made = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d")
        return (
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(self.title)}</title><style>{style}</style>"
            f"<script>{_WATCH_JS}</script>"
            f"<script>{_safe_script(plotly_js())}</script>"
            "</head><body>"
            f"<header><h1>{esc(self.title)}</h1><p>{esc(self.subtitle)}</p></header>"
            f"<nav>{nav}</nav><main>{body}"
            f"<p><small>Generated by moeprof {esc(__version__)} on {made} (UTC). Self-contained: "
            "no network access is needed or allowed to view this file.</small></p></main>"
            f"<script>{_RENDER_JS}</script></body></html>\n"
        )


def _css_id(anchor: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in anchor)


def _safe_script(js: str) -> str:
    # A literal '</script' inside the bundle would end the element early.
    return js.replace("</script", "<\\/script")


# ---------------------------------------------------------------------------------------
# Small HTML helpers
# ---------------------------------------------------------------------------------------
def table(headers: list[str], rows: list[list], num_cols: set[int] | None = None) -> str:
    """An HTML table; every cell is escaped."""
    num_cols = num_cols or set()
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = []
    for r in rows:
        cells = []
        for i, v in enumerate(r):
            cls = ' class="num"' if i in num_cols else ""
            cells.append(f"<td{cls}>{esc(v)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def not_available(what: str, why: str) -> str:
    return f'<p class="na">{esc(what)}: not available ({esc(why)}).</p>'


def write_atomic(path, text: str) -> None:
    """Write the report atomically (no partial file on failure)."""
    _write_atomic(path, text, what="report")


