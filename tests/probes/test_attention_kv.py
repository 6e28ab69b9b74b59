import pytest
import torch

from moeprof.probes import attention, kv_cache
from moeprof.probes.tensors import generator, rand_nonzero


def test_gqa_sdpa_matches_float64_reference():
    g = generator(torch.device("cpu"), 21)
    q = rand_nonzero((2, 8, 5, 32), torch.float32, "cpu", g)
    k = rand_nonzero((2, 2, 5, 32), torch.float32, "cpu", g)
    v = rand_nonzero((2, 2, 5, 32), torch.float32, "cpu", g)
    out = attention.sdpa(q, k, v, causal=True)
    ref = attention.reference_rows(q, k, v, 1, [0, 3, 7], [0, 2, 4], causal=True)
    assert torch.allclose(out[1, [0, 3, 7]][:, [0, 2, 4]].double(), ref, atol=1e-5)
    # row 0 attends to key 0 only
    assert torch.allclose(out[1, 3, 0].double(), v[1, 0, 0].double(), atol=1e-6)


def test_attention_probe_rows(ctx):
    attention.run(ctx)
    dec = [r for r in ctx.rows if r["probe"] == "attention_decode"]
    pre = [r for r in ctx.rows if r["probe"] == "attention_prefill"]
    assert dec and pre and not [r for r in ctx.rows if "error" in r], ctx.rows
    sh = ctx.shapes
    for r in dec:
        assert r["num_heads"] == sh.num_heads == 40 and r["num_kv_heads"] == 8
        assert r["kv_bytes"] == 2 * r["batch"] * 8 * r["kv_len"] * 128 * 2
    for r in pre:
        assert r["flop"] == 2.0 * 40 * r["seq_tokens"] ** 2 * 128 and r["causal"] is True


def test_attention_wrong_kernel_is_caught(ctx, monkeypatch):
    real = attention.sdpa
    monkeypatch.setattr(attention, "sdpa", lambda q, k, v, causal: real(q, k, v, causal) + 0.5)
    attention.run(ctx)
    assert all(r["error"] == "check_failed" for r in ctx.rows)


def test_kv_cache_growth_against_the_memory_model(ctx):
    kv_cache.run(ctx)
    rows = [r for r in ctx.rows if r["probe"] == "kv_cache"]
    assert len(rows) >= 2 and not [r for r in rows if "error" in r]
    assert rows[0]["memory_model"].startswith("moeprof.memory")
    for r in rows:
        # Scout: 2 x 8 KV heads x 128 x 2 bytes = 4 KiB per token per layer
        assert r["expected_bytes"] == 4096 * r["layers"] * r["cached_tokens"]
        assert r["measured_bytes"] == r["tensor_bytes"] == pytest.approx(r["expected_bytes"])
        assert r["device_used_source"].startswith("process resident")
    assert rows[-1]["cached_tokens"] > rows[0]["cached_tokens"]
