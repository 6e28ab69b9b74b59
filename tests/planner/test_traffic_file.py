"""Reading a traffic file: CSV `hour,qps` or JSON {"qps_per_hour": [...]}, bounded, one-line errors."""

import json
import math
from importlib import resources

import pytest

from moeprof.catalog.targets import target_defaults
from moeprof.errors import MoeprofError
from moeprof.planner.document.traffic_file import MAX_HOURS, read_traffic


def _csv(tmp_path, rows, header="hour,qps", name="t.csv"):
    p = tmp_path / name
    p.write_text("\n".join([header] + [f"{h},{q}" for h, q in enumerate(rows)]) + "\n")
    return p


def test_shipped_week():
    p = resources.files("moeprof") / "data" / "traffic" / "diurnal_week.csv"
    t = read_traffic(str(p))
    assert t.hours == 168 and "synthetic" in t.source and "not measured" in t.source
    assert max(t.qps_per_hour) == target_defaults()["qps"]  # peaks at plan's --qps default
    assert max(t.qps_per_hour[120:]) < max(t.qps_per_hour[:120])  # the weekend is quieter


def test_csv_day_with_comments_and_blank_lines(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("# from our gateway logs, 2026-11\n\nhour, qps\n" + "".join(f"{h},{h / 2}\n" for h in range(24)))
    t = read_traffic(p)
    assert t.qps_per_hour == tuple(h / 2 for h in range(24)) and t.source == "from our gateway logs, 2026-11"


def test_json_week(tmp_path):
    p = tmp_path / "w.json"
    p.write_text(json.dumps({"qps_per_hour": [1] * 168, "source": "weekly export"}))
    t = read_traffic(p)
    assert t.hours == 168 and t.qps_per_hour[0] == 1.0 and t.source == "weekly export"


@pytest.mark.parametrize("rows,needle", [
    ([1.0] * 23 + [-2.0], "'line 25': -2 req/s is out of range"),
    ([1.0] * 5 + ["nan"] + [1.0] * 18, "'line 7': qps: 'nan' is not a number"),
    ([1.0] * 5 + ["inf"] + [1.0] * 18, "'line 7': qps: 'inf' is not a number"),
    ([1.0] * 5 + ["many"] + [1.0] * 18, "'line 7': qps: 'many' is not a number"),
    ([1.0] * 25, "25 hours is not a whole number of days"),
    ([], "no hours"),
    ([1.0] * 23 + [2e6], "out of range"),
])
def test_bad_csv_values(tmp_path, rows, needle):
    with pytest.raises(MoeprofError, match=needle.replace("(", r"\(")):
        read_traffic(_csv(tmp_path, rows))


def test_too_many_rows(tmp_path):
    with pytest.raises(MoeprofError, match=f"more than {MAX_HOURS:,} hours"):
        read_traffic(_csv(tmp_path, [1.0] * (MAX_HOURS + 24)))
    p = tmp_path / "big.json"
    p.write_text(json.dumps({"qps_per_hour": [1] * (MAX_HOURS + 24)}))
    with pytest.raises(MoeprofError, match=f"more than the {MAX_HOURS:,}"):
        read_traffic(p)


@pytest.mark.parametrize("text,needle", [
    ("qps,hour\n0,1\n", "expected the header 'hour,qps'"),
    ("hour,qps\n0,1,2\n", "expected 2 cells"),
    ("hour,qps\n1,1\n", "hour 1 out of order: expected hour 0"),
    ("# only a comment\n", "no header"),
    ("<html><body>not a table</body></html>\n", "expected the header"),
    ('{"qps_per_hour": [1, 2', "not valid JSON"),
    ('{"qps_per_hour": "1,2"}', "expected a list"),
    ('{"qps_per_hour": [NaN]}', "not a number JSON allows"),
    ('{"qps_per_hour": [1], "source": "a\\u2028b"}', "whole number of days"),
])
def test_not_a_traffic_file(tmp_path, text, needle):
    p = tmp_path / "x.csv"
    p.write_text(text)
    with pytest.raises(MoeprofError, match=needle):
        read_traffic(p)


def test_binary_folder_and_missing(tmp_path):
    b = tmp_path / "b.csv"
    b.write_bytes(b"\x80\x81\x00\xff" * 10)
    with pytest.raises(MoeprofError, match="not UTF-8"):
        read_traffic(b)
    with pytest.raises(MoeprofError, match="is a folder"):
        read_traffic(tmp_path)
    with pytest.raises(MoeprofError, match="cannot read traffic file"):
        read_traffic(tmp_path / "missing.csv")


def test_json_source_is_one_line_and_a_string(tmp_path):
    p = tmp_path / "s.json"
    p.write_text(json.dumps({"qps_per_hour": [1] * 24, "source": "a\u2028b\nc"}))
    assert read_traffic(p).source == "a b c"  # line breaks never reach a terminal or a report
    p.write_text(json.dumps({"qps_per_hour": [1] * 24, "source": "a\x00b"}))
    with pytest.raises(MoeprofError, match="control or line-break"):
        read_traffic(p)
    p.write_text(json.dumps({"qps_per_hour": [1] * 23 + [math.pi], "source": 3}))
    with pytest.raises(MoeprofError, match="source"):
        read_traffic(p)
