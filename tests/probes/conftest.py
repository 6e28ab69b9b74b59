"""A real CPU probe context with tiny shapes: every probe runs for real in these tests."""

import pytest

torch = pytest.importorskip("torch")
# One intra-op thread, as the probe suite runs on a CPU (ProbeSettings.cpu_threads): these tests call the
# probes directly, and torch's default pool of one thread per core, spinning while it waits, makes each
# probe several times slower when the test workers share the cores (pytest-xdist).
torch.set_num_threads(1)

from moeprof.catalog.models import load_model  # noqa: E402
from moeprof.probes.context import ProbeContext  # noqa: E402
from moeprof.probes.device import resolve_device  # noqa: E402
from moeprof.probes.settings import ProbeSettings  # noqa: E402
from moeprof.probes.shapes import probe_shapes  # noqa: E402
from moeprof.telemetry.host import HostBackend  # noqa: E402

TINY_SCALE = 1 / 64


def make_ctx(model="scout", scale=TINY_SCALE, telemetry=None, lines=None, **kw):
    kw.setdefault("quick", True)
    kw.setdefault("repeats", 2)
    kw.setdefault("warmup", 1)
    kw.setdefault("target_ms", 0.2)
    kw.setdefault("energy_window_s", 0.05)
    settings = ProbeSettings(device="cpu", model=model, shape_scale=scale, **kw)
    dev = resolve_device("cpu")
    spec = load_model(model)
    shapes = probe_shapes(spec, scale, 2**28)
    return ProbeContext(settings, dev, spec, shapes, telemetry or HostBackend(), 0, (lines.append if lines is not None else None))


@pytest.fixture
def ctx():
    return make_ctx()


@pytest.fixture(scope="session")
def cpu_device():
    return resolve_device("cpu")
