"""Fixtures of the report tests: plan documents, a profile, and a headless Chromium that loads a
report offline and returns what the page wrote about its own rendering."""

from __future__ import annotations

import html as _html
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

HOSTILE = "<script>alert(1)</script>"


@pytest.fixture(scope="session")
def plan_obj(plans):
    """A real plan of Maverick over every SKU, one recipe (fp8) to keep it quick: the report of a
    plan renders every feasible row, so its time grows with them; TTFT <= 2000 ms, a target every
    SKU's TTFT band high edge can meet (MI300X: +557 %), so that each SKU has a row."""
    return plans("maverick", quants=("fp8",), ttft_ms=2000.0)


@pytest.fixture(scope="session")
def plan_doc(plan_obj) -> dict:
    """The plan as `moeprof plan --json` writes it."""
    return json.loads(json.dumps(plan_obj.to_json()))


@pytest.fixture(scope="session")
def plan_html(plan_doc) -> str:
    """The plan's HTML report (moeprof.report.plan_report_html), rendered once per session."""
    from moeprof.report import plan_report_html

    return plan_report_html(plan_doc)


@pytest.fixture(scope="session")
def plan_file(tmp_path_factory, plan_doc) -> Path:
    """The plan as a file, written once per session: tests read it, never change it."""
    p = tmp_path_factory.mktemp("plan") / "plan.json"
    p.write_text(json.dumps(plan_doc))
    return p


def sample_profile() -> dict:
    return {
        "schema": "moeprof.profile", "schema_version": 1, "gpu": "h100-sxm-80gb", "source": "measured",
        "note": f"test profile {HOSTILE}",
        "provenance": {"device_name": HOSTILE, "driver": "550.54", "torch": "2.13.0", "date": "2026-01-02", "host": "h1"},
        "curves": {
            "gemm_bf16": {"x": [16, 256, 4096], "y": [1.0e14, 5.0e14, 7.9e14], "source": "measured"},
            "memory_copy": {"x": [1e6, 1e8, 1e9], "y": [1e12, 2.5e12, 3.0e12], "source": f"measured {HOSTILE}"},
        },
        "scalars": {"kernel_overhead_s": 4e-6, "idle_power_w": 70.0},
        "rows": [
            {"probe": "gemm", "m_tokens": 16, "ms": 0.2, "flop_per_s": 1e14},
            {"probe": "gemm", "m_tokens": 256, "ms": 0.5, "flop_per_s": 5e14},
        ] + [
            {"probe": "telemetry", "timestamp_s": 1000.0 + 0.5 * i, "phase": "gemm" if i < 3 else HOSTILE,
             "power_w": 100.0 + 40 * i, "gpu_util_pct": 10.0 * i,
             "memory_used_bytes": 1e9 * i, "sm_clock_mhz": 1980.0}
            for i in range(6)
        ],
    }


@pytest.fixture
def profile_doc() -> dict:
    return sample_profile()


# ---------------------------------------------------------------------------------------
# Headless Chromium
# ---------------------------------------------------------------------------------------
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic", "--disable-extensions", "--disable-default-apps",
    "--no-default-browser-check", "--mute-audio", "--disable-dev-shm-usage", "--enable-logging=stderr", "--v=0",
    # Any host name resolves nowhere: a request that slipped past the page's CSP would fail.
    "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=http://127.0.0.1:9", "--virtual-time-budget=20000",
]


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        p = shutil.which(name)
        if p:
            return p
    return None


class Rendered:
    def __init__(self, dom: str, stderr: str):
        self.dom, self.stderr = dom, stderr
        m = re.search(r'<div id="moeprof-render-check"([^>]*)>', dom)
        self.check = {} if not m else {k: _html.unescape(v) for k, v in re.findall(r'(data-[a-z]+)="([^"]*)"', m.group(1))}

    @property
    def expected(self) -> int:
        return int(self.check.get("data-expected", -1))

    @property
    def rendered(self) -> int:
        return int(self.check.get("data-rendered", -1))

    @property
    def errors(self) -> list[str]:
        return json.loads(self.check.get("data-errors", '["no render check element"]'))

    @property
    def console_problems(self) -> list[str]:
        """Console lines about errors or blocked loads (Chromium logs page console output)."""
        lines = [ln for ln in self.stderr.splitlines() if ":CONSOLE" in ln]
        bad = ("Uncaught", "Content Security Policy", "Failed to load", "net::ERR", "Refused")
        return [ln for ln in lines if any(b in ln for b in bad)]


def render(path: Path, screenshot: Path | None = None) -> Rendered:
    exe = chromium_path()
    if exe is None:
        pytest.skip("chromium is not installed (apt-get install chromium; .ci/run does this)")
    with tempfile.TemporaryDirectory(prefix="moeprof-chromium-") as profile:
        args = [exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}"]
        if screenshot is not None:
            args += [f"--screenshot={screenshot}", "--window-size=1400,4000", "--hide-scrollbars"]
        else:
            args += ["--dump-dom"]
        p = subprocess.run(args + [Path(path).resolve().as_uri()], capture_output=True, text=True, timeout=120)
    return Rendered(p.stdout, p.stderr)


@pytest.fixture
def browser():
    if chromium_path() is None:
        pytest.skip("chromium is not installed (apt-get install chromium; .ci/run does this)")
    return render
