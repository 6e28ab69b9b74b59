import time

from moeprof.probes import energy
from moeprof.probes.fit import fit_scalars
from moeprof.telemetry.base import TelemetryBackend

from .conftest import make_ctx


class WorkMeter(TelemetryBackend):
    """A counter that draws 50 W at idle and 250 W while the process is busy (CPU time)."""

    vendor = "nvidia"

    def __init__(self):
        super().__init__()
        self.available = True
        self.w0, self.c0 = time.perf_counter(), time.process_time()

    def device_count(self):
        return 1

    def _field(self, index, name):
        if name == "energy_j":
            return 50.0 * (time.perf_counter() - self.w0) + 200.0 * (time.process_time() - self.c0)
        if name == "power_w":
            return 50.0
        return None


def test_energy_probe_with_a_counter():
    ctx = make_ctx(telemetry=WorkMeter(), energy_window_s=0.1)
    energy.run(ctx)
    rows = {r["burst"]: r for r in ctx.rows}
    assert set(rows) == {"idle", "compute", "memory"} and not [r for r in ctx.rows if "error" in r]
    assert rows["idle"]["energy_method"] == "counter"
    assert rows["idle"]["idle_power_w"] >= 49.0  # 50 W plus whatever CPU time idle threads spend
    assert rows["compute"]["flop"] > 0 and rows["compute"]["j_per_flop"] > 0
    assert rows["memory"]["bytes"] > 0 and rows["memory"]["j_per_byte"] > 0
    sc = fit_scalars(ctx.rows)
    assert {"idle_power_w", "joules_per_flop", "joules_per_byte"} <= set(sc)


def test_energy_probe_without_any_reading(ctx):
    energy.run(ctx)
    assert len(ctx.rows) == 3 and all(r["energy_j"] is None and r["notes"] for r in ctx.rows)
    assert not {"joules_per_flop", "joules_per_byte", "idle_power_w"} & set(fit_scalars(ctx.rows))
