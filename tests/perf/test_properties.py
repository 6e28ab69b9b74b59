"""Properties of the performance model over random configurations (hypothesis)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from moeprof.perf import decode_step, prefill_step
from moeprof.perf.moe import busiest_rank_load, inclusion_probabilities, total_touched
from moeprof.profile import Curve, Profile

MODELS = st.sampled_from(["scout", "maverick", "behemoth"])
QUANTS = st.sampled_from(["bf16", "fp8", "fp8-experts", "int4", "int4-experts"])
KV = st.sampled_from(["bf16", "fp8"])
SKEW = st.sampled_from([0.0, 0.0, 0.7, 1.5])
TP = st.sampled_from([1, 2, 4, 8])
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
TOL = 1e-12


def _layout(draw_tp, ep_whole):
    return draw_tp, (draw_tp if ep_whole else 1)


@SETTINGS
@given(MODELS, QUANTS, KV, SKEW, TP, st.booleans(), st.integers(1, 2048), st.integers(0, 2048), st.integers(1, 1 << 20))
def test_decode_latency_never_falls_when_batch_rises(ctx_of, name, quant, kv, skew, tp, whole, b, db, ctx_len):
    ctx = ctx_of(name, quant, kv, skew)
    tp, ep = _layout(tp, whole)
    r = decode_step(ctx, np.array([b, b + db]), ctx_len, tp=tp, ep=ep)
    assert r.total_s[1] >= r.total_s[0] * (1 - TOL)
    assert np.all(r.energy_j > 0) and np.all(np.isfinite(r.total_s))


@SETTINGS
@given(MODELS, QUANTS, KV, SKEW, TP, st.booleans(), st.integers(1, 512), st.integers(1, 1 << 20), st.integers(0, 1 << 20))
def test_decode_latency_never_falls_when_context_rises(ctx_of, name, quant, kv, skew, tp, whole, b, c, dc):
    ctx = ctx_of(name, quant, kv, skew)
    tp, ep = _layout(tp, whole)
    r = decode_step(ctx, b, np.array([c, c + dc]), tp=tp, ep=ep)
    assert r.total_s[1] >= r.total_s[0] * (1 - TOL)


@SETTINGS
@given(MODELS, QUANTS, TP, st.booleans(), st.integers(1, 65536), st.integers(0, 65536), st.integers(1, 4))
def test_prefill_latency_never_falls_when_prompt_or_batch_rises(ctx_of, name, quant, tp, whole, L, dL, seqs):
    ctx = ctx_of(name, quant)
    tp, ep = _layout(tp, whole)
    r = prefill_step(ctx, np.array([L, L + dL]) * seqs, np.array([L, L + dL]), tp=tp, ep=ep, sequences=seqs)
    assert r.total_s[1] >= r.total_s[0] * (1 - TOL)
    more = prefill_step(ctx, L * (seqs + 1), L, tp=tp, ep=ep, sequences=seqs + 1)
    assert float(more.total_s) >= r.total_s[0] * (1 - TOL)


@SETTINGS
@given(MODELS, QUANTS, st.booleans(), st.integers(1, 1024), st.integers(1, 1 << 18), st.sampled_from(["decode", "prefill"]))
def test_more_tp_never_increases_per_gpu_weight_bytes(ctx_of, name, quant, whole, b, c, phase):
    ctx = ctx_of(name, quant)
    tp = np.array([1, 2, 4, 8])
    ep = tp if whole else np.ones_like(tp)
    if phase == "decode":
        r = decode_step(ctx, b, c, tp=tp, ep=ep)
    else:
        r = prefill_step(ctx, b, max(b, c), tp=tp, ep=ep)
    assert np.all(np.diff(r.weight_bytes_per_gpu) <= 1e-6 * r.weight_bytes_per_gpu[:-1])
    assert np.all(np.diff(r.kv_bytes_per_gpu) <= 1e-6 * r.kv_bytes_per_gpu[:-1])


@SETTINGS
@given(MODELS, SKEW, st.lists(st.tuples(st.integers(1, 1024), st.integers(1, 200000), TP, st.booleans(), st.sampled_from([1, 2])), min_size=1, max_size=6))
def test_vectorised_equals_scalar_calls(ctx_of, name, skew, configs):
    ctx = ctx_of(name, skew=skew)
    b, c, tp, whole, pp = (np.array(v) for v in zip(*configs))
    ep = np.where(whole, tp, 1)
    nv = np.where(pp == 2, 2, 1)
    vec = decode_step(ctx, b, c, tp=tp, ep=ep, pp=pp, num_vms=nv)
    for i in range(len(b)):
        one = decode_step(ctx, int(b[i]), int(c[i]), tp=int(tp[i]), ep=int(ep[i]), pp=int(pp[i]), num_vms=int(nv[i]))
        assert float(one.total_s) == vec.total_s[i]
        assert float(one.stage_s) == vec.stage_s[i]
        assert float(one.energy_j) == vec.energy_j[i]


@SETTINGS
@given(MODELS, st.integers(1, 1024), st.integers(1, 1 << 17), TP)
def test_pipeline_and_quantisation_orderings(ctx_of, name, b, c, tp):
    bf16 = decode_step(ctx_of(name), b, c, tp=tp, pp=np.array([1, 2, 4]))
    # pp adds stage-to-stage sends to the latency and splits layers across stages
    assert np.all(np.diff(bf16.total_s) >= 0)
    assert np.all(bf16.stage_s <= bf16.total_s * (1 + TOL))
    assert bf16.stage_s[2] < bf16.stage_s[0]
    # narrower weights / KV never slow a step down, and never read more bytes
    fp8kv = decode_step(ctx_of(name, kv="fp8"), b, c, tp=tp)
    assert float(fp8kv.total_s) <= bf16.total_s[0] * (1 + TOL) and float(fp8kv.kv_bytes) < bf16.kv_bytes[0]
    int4 = decode_step(ctx_of(name, quant="int4"), b, c, tp=tp)
    assert float(int4.weight_bytes) < bf16.weight_bytes[0]
    assert float(int4.total_s) <= bf16.total_s[0] * (1 + TOL)


@SETTINGS
@given(st.integers(2, 256), st.integers(1, 8), st.floats(0, 3), st.integers(1, 100000), st.sampled_from([1, 2, 4, 8]))
def test_routing_statistics_bounds(E, k, s, T, ep):
    k = min(k, E)
    q = inclusion_probabilities(E, k, s)
    assert abs(q.sum() - k) < 1e-9 and np.all(q <= 1 + 1e-12)
    Es = int(np.ceil(E / ep))
    touched, pairs = busiest_rank_load(q, T, Es)
    assert float(touched) <= min(Es, float(pairs)) + 1e-9
    # uniform routing touches the most distinct experts (sum of concave terms at equal mass)
    uniform = inclusion_probabilities(E, k, 0.0)
    assert float(total_touched(q, T)) <= float(total_touched(uniform, T)) + 1e-9


def test_profile_curves_are_used_and_marked(ctx_of, models, h100):
    from moeprof.catalog.models.quant import get_recipe
    from moeprof.perf import make_context

    x = (1.0, 16.0, 256.0, 4096.0)
    prof = Profile(
        gpu=h100.key, source="measured", provenance={"date": "2026-11-27"}, path="p.json",
        curves={
            "gemm_bf16": Curve(x, (2e12, 32e12, 400e12, 700e12)),
            "memory_copy": Curve((1e3, 1e9), (0.2e12, 3.0e12)),
            "attention_decode": Curve((1e3, 1e9), (0.2e12, 2.8e12)),
            "attention_prefill": Curve((128.0, 8192.0), (100e12, 500e12)),
        },
        scalars={"kernel_overhead_s": 3e-6},
    )
    ctx = make_context(models["scout"], h100, get_recipe("bf16"), "bf16", prof)
    cal = ctx.calibration()
    assert cal["calibrated"] is True and "measured" in cal["status"]
    assert ctx.rates.kernel_overhead_s == 3e-6
    assert float(ctx.rates.gemm_flop_per_s("bf16", 16)) == pytest.approx(32e12)
    assert float(ctx.rates.gemm_flop_per_s("bf16", 4)) == pytest.approx(2e12 * 16**0.5)  # log-log: halfway in log
    # weight-only int4: the tile model at the plateau bounds the compute rate from below
    assert float(ctx.rates.gemm_flop_per_s("bf16", 1, weight_only=True)) == pytest.approx(700e12 / 64)
    unc = ctx_of("scout").calibration()
    assert unc["calibrated"] is False and unc["status"].startswith("uncalibrated")
    r = decode_step(ctx, np.array([1, 8, 64, 512]), 4096)
    assert np.all(np.diff(r.total_s) > 0)
