import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moeprof.catalog.hardware.vms import get_vm, load_vms
from moeprof.catalog.models import load_model
from moeprof.catalog.models.quant import get_recipe
from moeprof.errors import MoeprofError
from moeprof.memory import (
    Parallelism,
    check_parallelism,
    load_engine,
    max_context_for_budget,
    memory_per_gpu,
)

GiB = 2**30


def test_engine_defaults_are_vllm():
    e = load_engine()
    assert e.gpu_memory_utilization == 0.9
    assert e.max_num_batched_tokens == 8192 and e.max_num_seqs == 1024
    # the sampler coefficient is fitted from the published observations, in a plausible range:
    # ~9.6 fp32 copies of the [max_num_seqs, vocab] logits
    assert 30 < e.sampler_bytes_per_seq_per_vocab < 45


def test_scout_bf16_tp8_h100_by_hand():
    m, vm = load_model("scout"), get_vm("nd-h100-v5")
    e = load_engine()
    r = memory_per_gpu(m, vm, 1, Parallelism(tp=8), get_recipe("bf16"), "bf16", e)
    h, v, L = 5120, 202048, 48
    # attention per rank: q and o split 8 ways, one of the 8 KV heads per rank
    attn = L * (2 * h * 40 * 128 / 8 + 2 * h * 128 * 1)
    experts = L * 16 * 3 * h * 8192 / 8
    shared = L * 3 * h * 8192 / 8
    emb = 2 * v * h / 8
    router = L * h * 16
    norms = L * 2 * h + h
    vision = m.params_by_component["vision"] / 8
    expect = 2 * (attn + experts + shared + emb + router + norms + vision)
    assert r.weights_bytes_per_gpu == pytest.approx(expect)
    # KV: one KV head per rank, 48 layers, K and V, 128 dims, 2 bytes = 24 KiB per token
    assert r.kv_bytes_per_token_per_gpu == 2 * 48 * 1 * 128 * 2 == 24 * 1024
    budget = 0.9 * vm.gpu.usable_memory_bytes
    act = e.sampler_bytes_per_seq_per_vocab * 1024 * v
    overhead = act + e.non_torch_bytes_multi_gpu + e.cuda_graph_bytes
    assert r.overhead_bytes_per_gpu == pytest.approx(overhead)
    assert r.kv_budget_bytes_per_gpu == pytest.approx(budget - expect - overhead)
    assert r.kv_capacity_tokens == int((budget - expect - overhead) // (24 * 1024))
    assert r.fits


def test_kv_heads_replicate_beyond_kv_head_count():
    # Scout has 8 KV heads: at tp=8 each rank stores 1; a 16-way split is impossible (40 heads),
    # so check the rule at tp=8 vs tp=4: 2 heads per rank at tp=4.
    m, vm = load_model("scout"), get_vm("nd-h200-v5")
    r4 = memory_per_gpu(m, vm, 1, Parallelism(tp=4), get_recipe("bf16"), "bf16")
    r8 = memory_per_gpu(m, vm, 1, Parallelism(tp=8), get_recipe("bf16"), "bf16")
    assert r4.kv_bytes_per_token_per_gpu == 2 * r8.kv_bytes_per_token_per_gpu


def test_maverick_bf16_does_not_fit_one_h100_vm_but_fp8_does():
    m, vm = load_model("maverick"), get_vm("nd-h100-v5")
    bf16 = memory_per_gpu(m, vm, quant=get_recipe("bf16"))
    assert not bf16.fits and "exceed" in bf16.reason
    fp8 = memory_per_gpu(m, vm, quant=get_recipe("fp8-experts"))
    assert fp8.fits  # model card: Maverick FP8 fits one 8 x H100 host


def test_chunked_max_context():
    m = load_model("scout")
    per = {"global": 100.0, "chunked": 300.0}
    capped = ("chunked",)  # the hybrid KV allocator on for chunked-local attention
    # budget below one chunk: all layers grow together
    assert max_context_for_budget(m, per, 400.0 * 1000, capped) == 1000
    # beyond the chunk only global layers grow
    budget = 400.0 * 8192 + 100.0 * 50_000
    assert max_context_for_budget(m, per, budget, capped) == 8192 + 50_000
    # engine default (vLLM 0.11): chunked layers keep full KV, so 400 bytes per token throughout:
    # (400 x 8192 + 100 x 50,000) / 400 = 3,276,800 / 400 + 5,000,000 / 400 = 8,192 + 12,500
    assert max_context_for_budget(m, per, budget) == 8192 + 12_500


def test_max_context_capped_by_model():
    r = memory_per_gpu(load_model("maverick"), get_vm("nd-mi300x-v5"), quant=get_recipe("fp8"))
    assert r.max_context_tokens == r.model_max_context_tokens == 1_048_576


def test_target_context_rejects():
    r = memory_per_gpu(load_model("scout"), get_vm("nd-h100-v5"), quant=get_recipe("bf16"), target_context_tokens=10_000_000)
    assert not r.fits and "target" in r.reason


def test_bad_parallelism():
    m = load_model("scout")
    assert check_parallelism(m, Parallelism(tp=3)) is not None  # 40 heads
    assert check_parallelism(m, Parallelism(tp=8, ep=4)) is not None
    assert check_parallelism(m, Parallelism(tp=8, ep=8)) is None
    with pytest.raises(MoeprofError, match="replicas|GPUs"):
        memory_per_gpu(m, get_vm("nd-h100-v5"), 1, Parallelism(tp=8, pp=2))


def test_price_override_and_vm_file(tmp_path):
    vms = load_vms(prices={"nd-h200-v5": 110.0})
    assert vms["nd-h200-v5"].price.usd_per_hour == 110.0 and not vms["nd-h200-v5"].price.estimate
    f = tmp_path / "vms.json"
    f.write_text('{"nd-h100-v5": {"price": {"usd_per_hour": 70, "region": "westeurope", "date": "2026-11", "source": "our EA"}}}')
    assert load_vms(str(f))["nd-h100-v5"].price.usd_per_hour == 70
    f.write_text('{"nd-h100-v5": {"price": {"usd_per_hour": -1}}}')
    with pytest.raises(MoeprofError, match="usd_per_hour"):
        load_vms(str(f))


LAYOUTS = st.sampled_from([("scout", 1), ("scout", 2), ("scout", 4), ("scout", 8), ("maverick", 4), ("maverick", 8), ("behemoth", 8)])


@settings(max_examples=40, deadline=None)
@given(
    LAYOUTS,
    st.sampled_from(["nd-h100-v5", "nd-h200-v5", "nd-mi300x-v5"]),
    st.sampled_from(["bf16", "fp8", "fp8-experts", "int4", "int4-experts"]),
    st.sampled_from(["bf16", "fp8"]),
)
def test_more_gpus_never_reduce_capacity(layout, sku, quant, kv):
    name, tp = layout
    m, vm, q = load_model(name), get_vm(sku), get_recipe(quant)
    small = memory_per_gpu(m, vm, 1, Parallelism(tp=tp), q, kv)
    for tp2 in (t for t in (1, 2, 4, 8) if t > tp and m.num_heads % t == 0):
        big = memory_per_gpu(m, vm, 1, Parallelism(tp=tp2), q, kv)
        assert big.weights_bytes_per_gpu <= small.weights_bytes_per_gpu
        assert big.kv_capacity_tokens * tp2 >= small.kv_capacity_tokens * tp or not small.fits
        assert big.max_context_tokens >= small.max_context_tokens
    # pipeline stages also never reduce capacity
    if m.num_layers % 2 == 0:
        pp2 = memory_per_gpu(m, vm, 2, Parallelism(tp=tp, pp=2), q, kv)
        assert pp2.max_context_tokens >= small.max_context_tokens


@settings(max_examples=40, deadline=None)
@given(LAYOUTS, st.sampled_from(["nd-h100-v5", "nd-h200-v5", "nd-mi300x-v5"]), st.sampled_from(["bf16", "int4"]))
def test_fp8_never_uses_more_memory_than_bf16(layout, sku, base):
    name, tp = layout
    m, vm = load_model(name), get_vm(sku)
    par = Parallelism(tp=tp)
    b16 = memory_per_gpu(m, vm, 1, par, get_recipe("bf16"), "bf16")
    for q in ("fp8", "fp8-experts"):
        f8 = memory_per_gpu(m, vm, 1, par, get_recipe(q), "bf16")
        assert f8.weights_bytes_per_gpu <= b16.weights_bytes_per_gpu
        assert f8.max_context_tokens >= b16.max_context_tokens
    kv8 = memory_per_gpu(m, vm, 1, par, get_recipe("bf16"), "fp8")
    assert kv8.kv_bytes_per_token_per_gpu * 2 == b16.kv_bytes_per_token_per_gpu
    assert kv8.max_context_tokens >= b16.max_context_tokens
