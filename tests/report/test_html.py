import json
import os

import pytest

from moeprof import fileio
from moeprof.errors import MoeprofError
from moeprof.report import html as H

HOSTILE = "<script>alert(1)</script>"


def test_esc_and_plot_text():
    assert H.esc(HOSTILE) == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert H.esc('a"b') == "a&quot;b"
    assert H.plot_text("<b>x</b> & y") == "&lt;b&gt;x&lt;/b&gt; &amp; y"


def test_script_json_cannot_close_its_element_and_round_trips():
    obj = {"name": "</script><script>alert(1)</script>", "c": "<!-- & \u2028", "x": [1.5, float("nan")]}
    s = H.script_json(obj)
    assert "</" not in s and "<" not in s and ">" not in s and "&" not in s
    back = json.loads(s)
    assert back["name"] == obj["name"] and back["c"] == obj["c"] and back["x"] == [1.5, None]


def test_table_escapes_every_cell():
    t = H.table([HOSTILE], [[HOSTILE]])
    assert HOSTILE not in t and t.count("&lt;script&gt;") == 2


def test_page_embeds_plotly_once_and_sets_a_strict_csp():
    import plotly.graph_objects as go

    page = H.Page(title=HOSTILE)
    page.add("a", "A", page.figure(go.Figure(go.Scatter(x=[1], y=[2]))) + page.figure(go.Figure(go.Bar(x=[1], y=[2]))))
    text = page.render()
    bundle_marker = H.plotly_js()[:200]
    assert text.count(bundle_marker) == 1
    assert f'content="{H.CSP}"' in text and "default-src 'none'" in H.CSP
    assert "<script src" not in text and "<link" not in text
    assert text.count('class="moeprof-plot"') == 2
    assert HOSTILE not in text


def test_write_atomic_replaces_whole_file(tmp_path):
    p = tmp_path / "r.html"
    H.write_atomic(p, "one")
    H.write_atomic(p, "two")
    assert p.read_text() == "two"
    assert os.listdir(tmp_path) == ["r.html"]


def test_write_atomic_failure_leaves_no_partial_file(tmp_path, monkeypatch):
    p = tmp_path / "r.html"
    p.write_text("old")

    def boom(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fileio.os, "replace", boom)  # the report writes through moeprof.fileio
    with pytest.raises(MoeprofError, match="No space left"):
        H.write_atomic(p, "new" * 1000)
    assert p.read_text() == "old"
    assert os.listdir(tmp_path) == ["r.html"]


def test_write_atomic_interrupted_leaves_no_file(tmp_path, monkeypatch):
    p = tmp_path / "r.html"

    def interrupted(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(fileio.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        H.write_atomic(p, "x")
    assert os.listdir(tmp_path) == []


def test_write_atomic_missing_folder(tmp_path):
    with pytest.raises(MoeprofError, match="does not exist"):
        H.write_atomic(tmp_path / "no" / "r.html", "x")
