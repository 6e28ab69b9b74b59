import pytest

from moeprof.catalog.hardware.vms import get_gpu, get_vm
from moeprof.catalog.models import load_model
from moeprof.catalog.models.quant import get_recipe
from moeprof.perf import make_context


@pytest.fixture(scope="session")
def models():
    return {n: load_model(n) for n in ("scout", "maverick", "behemoth")}


@pytest.fixture(scope="session")
def h100():
    return get_gpu("h100")


@pytest.fixture(scope="session")
def h100_vm():
    return get_vm("nd-h100-v5")


@pytest.fixture(scope="session")
def ctx_of(models, h100, h100_vm):
    """ctx_of(model_name, quant='bf16', kv='bf16', skew=0.0): an uncalibrated H100 context."""
    cache = {}

    def make(name, quant="bf16", kv="bf16", skew=0.0, vm=True):
        key = (name, quant, kv, skew, vm)
        if key not in cache:
            cache[key] = make_context(models[name], h100, get_recipe(quant), kv, None, h100_vm if vm else None, skew)
        return cache[key]

    return make
