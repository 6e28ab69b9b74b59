"""Fixtures of the report tests: plan documents, a profile, and a headless Chromium that loads a
report offline and returns what the page wrote about its own rendering."""

from __future__ import annotations

import copy
import html as _html
import json
import math
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from moeprof.catalog.hardware import load_vms
from moeprof.catalog.models import load_model
from moeprof.catalog.quant import get_recipe
from moeprof.memory import Parallelism, load_engine, memory_per_gpu

HOSTILE = "<script>alert(1)</script>"


def synthetic_plan(model_name: str = "maverick", context: int = 131072) -> dict:
    """A plan document in PlanResult.to_json() form whose memory fields come from the real memory
    model and whose latency and cost fields follow a simple made-up formula: tests of the report
    and exports, independent of the performance model. Not a prediction of anything."""
    from dataclasses import replace

    model = load_model(model_name)
    vms = load_vms()
    inputs = dict(model=model_name, input_tokens=2048, output_tokens=512, context_tokens=context, qps=10.0,
                  ttft_ms=450.0, tpot_ms=40.0, percentile=99.0, skus=None, quants=None, kv_dtypes=["bf16", "fp8"],
                  max_vms=32, routing_skew=0.0)
    feasible, rejected = [], []
    for sku, vm in vms.items():
        for tp in (4, 8):
            for ep in (1, tp):
                for quant in ("bf16", "fp8", "fp8-experts", "int4"):
                    q = get_recipe(quant)
                    if q.uses_fp8 and not vm.gpu.supports_fp8:
                        continue
                    for kv in ("bf16", "fp8"):
                        best_reason = None
                        for b in (64, 128, 256):
                            eng = replace(load_engine(), max_num_seqs=b)
                            m = memory_per_gpu(model, vm, 1, Parallelism(tp, ep, 1), q, kv, eng, context)
                            if not m.fits:
                                best_reason = f"memory: {m.reason}"
                                continue
                            tpot = 8.0 + 0.04 * b * (2 if quant == "bf16" else 1) / tp + (3.0 if ep == 1 else 0.0)
                            if tpot > inputs["tpot_ms"]:
                                best_reason = f"TPOT: {tpot:.1f} ms > 40 ms even at batch 1"
                                continue
                            cap = b / (tpot / 1e3) / 512 * 0.6
                            per_vm = 8 // tp
                            replicas = max(1, math.ceil(inputs["qps"] / cap))
                            nvm = math.ceil(replicas / per_vm)
                            usd_h = nvm * vm.price.usd_per_hour
                            feasible.append(dict(
                                sku=sku, gpu=vm.gpu.key, vms=nvm, gpus=replicas * tp, tp=tp, ep=ep, pp=1,
                                replicas=replicas, quant=quant, kv_dtype=kv, max_batch=b,
                                max_context_tokens=m.max_context_tokens, ttft_ms=120.0 + 2000.0 / tp / (1 + (quant != "bf16")),
                                tpot_ms=tpot, tokens_per_s=25600.0, output_tokens_per_s=5120.0,
                                qps_capacity=cap * replicas, running_batch=b * 0.4, utilization=0.55,
                                usd_per_hour=usd_h, usd_per_month=usd_h * 730,
                                usd_per_million_tokens=usd_h / (25600 * 3600) * 1e6,
                                usd_per_million_input_tokens=usd_h * 0.3 / (20480 * 3600) * 1e6,
                                usd_per_million_output_tokens=usd_h * 0.7 / (5120 * 3600) * 1e6,
                                joules_per_token=0.5 * tp / (1 + (quant != "bf16")),
                                weights_bytes_per_gpu=m.weights_bytes_per_gpu,
                                kv_budget_bytes_per_gpu=m.kv_budget_bytes_per_gpu,
                                overhead_bytes_per_gpu=m.overhead_bytes_per_gpu,
                                kv_bytes_per_token_per_gpu=m.kv_bytes_per_token_per_gpu,
                                price_estimate=vm.price.estimate, calibration="synthetic test plan: no calibration",
                            ))
                            best_reason = None
                        if best_reason and not any(
                            r["sku"] == sku and r["tp"] == tp and r["ep"] == ep and r["quant"] == quant and r["kv_dtype"] == kv
                            for r in feasible
                        ):
                            rejected.append(dict(sku=sku, tp=tp, ep=ep, pp=1, quant=quant, kv_dtype=kv, reason=best_reason))
    feasible.sort(key=lambda r: (r["usd_per_month"], r["tpot_ms"]))
    rec = copy.deepcopy(feasible[0]) if feasible else None
    seen, alts = set(), []
    for r in feasible[1:]:
        key = (r["sku"], r["tp"], r["ep"], r["pp"], r["quant"], r["kv_dtype"])
        if rec and key == (rec["sku"], rec["tp"], rec["ep"], rec["pp"], rec["quant"], rec["kv_dtype"]) or key in seen:
            continue
        seen.add(key)
        alts.append(r)
    counts: dict[str, int] = {}
    for r in rejected:
        counts[r["reason"].split(":")[0]] = counts.get(r["reason"].split(":")[0], 0) + 1
    sources = {
        "model": list(model.sources),
        "engine": load_engine().sources,
        "targets": {"qps": "assumption", "ttft_ms": "MLPerf", "tpot_ms": "MLPerf"},
    }
    for sku, vm in vms.items():
        sources[sku] = {"price": vm.price.source, "price_estimate": vm.price.estimate, "gpu": vm.gpu.sources,
                        "performance": "datasheet ceilings x published efficiencies"}
    if rec:
        rec["sources"] = sources
    return dict(inputs=inputs, recommended=rec, alternatives=alts[:10], rejected=rejected, rejected_counts=counts,
                closest=[], feasible=feasible, configs_evaluated=len(feasible) + len(rejected),
                warnings=["synthetic plan for tests"], sources=sources)


@pytest.fixture(scope="session")
def plan_doc() -> dict:
    return synthetic_plan()


@pytest.fixture
def plan_file(tmp_path, plan_doc) -> Path:
    p = tmp_path / "plan.json"
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
