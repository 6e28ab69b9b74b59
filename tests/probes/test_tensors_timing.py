import pytest
import torch

from moeprof.probes.device import resolve_device
from moeprof.probes.tensors import ProbeCheckError, check_close, generator, is_oom, rand_nonzero, to_fp8
from moeprof.probes.timing import time_op


def test_random_inputs_are_never_zero():
    g = generator(torch.device("cpu"), 3)
    for dt in (torch.float32, torch.bfloat16):
        x = rand_nonzero((4096,), dt, "cpu", g)
        assert (x != 0).all() and x.dtype == dt
        assert 0.8 < float(x.float().std()) < 1.2


def test_fp8_roundtrip_is_close():
    g = generator(torch.device("cpu"), 4)
    x = rand_nonzero((64, 64), torch.float32, "cpu", g)
    q, s = to_fp8(x, torch.float8_e4m3fn)
    assert q.dtype == torch.float8_e4m3fn and s.shape == ()
    assert float(((q.float() * s - x).abs() / x.abs()).max()) < 0.07


def test_check_close_detects_a_wrong_result():
    ref = torch.ones(4, 4, dtype=torch.float64)
    assert check_close(ref.float(), ref, 1.0, 1e-6, "same") == 0.0
    with pytest.raises(ProbeCheckError, match="relative error"):
        check_close(ref * 1.1, ref, 1.0, 1e-2, "off by 10%")
    with pytest.raises(ProbeCheckError, match="inf/nan"):
        check_close(ref * float("nan"), ref, 1.0, 1e-2, "nan")
    with pytest.raises(ProbeCheckError, match="shape"):
        check_close(ref[:2], ref, 1.0, 1e-2, "shape")


def test_oom_detection():
    assert is_oom(torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"))
    assert is_oom(RuntimeError("HIP out of memory"))
    assert not is_oom(RuntimeError("shape mismatch"))


def test_time_op_median_and_inner_loops():
    dev = resolve_device("cpu")
    calls = []
    t = time_op(lambda: calls.append(1), dev, warmup=2, repeats=3, target_ms=0.5)
    assert t.method == "perf_counter" and t.repeats == 3 and t.inner >= 1
    assert t.min_ms <= t.median_ms <= t.max_ms and t.median_ms > 0
    assert len(calls) == 2 + 1 + 3 * t.inner


def test_cpu_device_features():
    dev = resolve_device("cpu")
    assert dev.kind == "cpu" and not dev.is_gpu and dev.memory_total_bytes > 0
    assert dev.grouped_mm  # torch 2.13 has grouped_mm on the CPU
    assert dev.fp8_dtype == torch.float8_e4m3fn


def test_gpu_device_missing_is_a_clear_error():
    from moeprof.errors import MoeprofError

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(MoeprofError, match="sees no GPU"):
        resolve_device("cuda")
