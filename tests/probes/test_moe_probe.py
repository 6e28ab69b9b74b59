import pytest
import torch

from moeprof.probes import moe
from moeprof.probes.tensors import ProbeCheckError, generator, rand_nonzero


@pytest.fixture
def weights():
    g = generator(torch.device("cpu"), 11)
    return moe.make_weights(64, 96, 96, 8, 2, "cpu", g)


def test_grouped_and_loop_agree_and_match_the_naive_reference(weights):
    g = generator(torch.device("cpu"), 12)
    x = rand_nonzero((33, 64), torch.bfloat16, "cpu", g)
    a = moe.moe_forward(x, weights, "grouped")
    b = moe.moe_forward(x, weights, "loop")
    assert a.shape == (33, 64)
    assert torch.allclose(a.float(), b.float(), atol=2e-2, rtol=2e-2)
    assert moe.moe_reference_check(x, weights, a, tokens=8) >= 6


def test_router_scales_the_input_with_a_sigmoid(weights):
    """Llama 4: score = sigmoid(chosen logit) multiplies the expert input, not its output."""
    x = rand_nonzero((1, 64), torch.bfloat16, "cpu", generator(torch.device("cpu"), 5))
    idx, score = moe.route(x, weights)
    logits = (x.double() @ weights.router.double().t())[0]
    assert set(idx[0].tolist()) == set(logits.topk(2).indices.tolist())
    assert torch.allclose(score.double(), torch.sigmoid(logits[idx[0]]).unsqueeze(0), atol=1e-2)


def test_wrong_result_is_caught(weights):
    x = rand_nonzero((4, 64), torch.bfloat16, "cpu", generator(torch.device("cpu"), 6))
    out = moe.moe_forward(x, weights)
    with pytest.raises(ProbeCheckError):
        moe.moe_reference_check(x, weights, out * 1.2)


def test_no_shared_expert_top1():
    g = generator(torch.device("cpu"), 13)
    w = moe.make_weights(32, 48, 0, 4, 1, "cpu", g)
    x = rand_nonzero((5, 32), torch.bfloat16, "cpu", g)
    out = moe.moe_forward(x, w, "grouped")
    assert moe.moe_reference_check(x, w, out) >= 3


def test_expected_touched():
    assert moe.expected_touched(16, 1, 1) == pytest.approx(1)
    assert moe.expected_touched(16, 1, 10**6) == pytest.approx(16)
    assert moe.expected_touched(128, 1, 64) == pytest.approx(128 * (1 - (127 / 128) ** 64))


def test_moe_probe_rows(ctx):
    moe.run(ctx)
    rows = [r for r in ctx.rows if r["probe"] == "moe_layer"]
    assert rows and not [r for r in rows if "error" in r], rows
    for r in rows:
        assert 1 <= r["experts_touched"] <= min(r["num_experts"], r["t_tokens"] * r["top_k"])
        assert r["tokens_checked"] >= 1 and r["cuda_graph"] is False
        assert r["weight_bytes_read"] > 0 and r["flop_per_s"] > 0
    assert {r["impl"] for r in rows} == {"grouped", "loop"}


def test_moe_probe_records_a_failed_check(ctx, monkeypatch):
    real = moe.moe_forward
    monkeypatch.setattr(moe, "moe_forward", lambda x, w, impl="grouped": real(x, w, impl) * 0.5)
    moe.run(ctx)
    rows = [r for r in ctx.rows if r["probe"] == "moe_layer"]
    assert rows and all(r["error"] == "check_failed" for r in rows)
    assert "ms" not in rows[0]  # not timed


def test_maverick_expert_cap():
    from moeprof.catalog.models import load_model
    from moeprof.probes.shapes import probe_shapes

    spec = load_model("maverick")
    full = probe_shapes(spec, 1.0)
    capped = probe_shapes(spec, 1.0, moe_budget_bytes=8 * 2**30)
    assert full.num_experts == 128 and capped.num_experts < 128 and capped.num_experts_model == 128
    assert capped.moe_weight_bytes() <= 8 * 2**30


def test_weights_out_of_memory_halves_the_experts(ctx, monkeypatch):
    real = moe.make_weights
    tried = []

    def limited(hidden, inter, shared, experts, top_k, device, gen):
        tried.append(experts)
        if experts > 4:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 40.00 GiB")
        return real(hidden, inter, shared, experts, top_k, device, gen)

    monkeypatch.setattr(moe, "make_weights", limited)
    moe.run(ctx)
    assert tried == [16, 8, 4]
    w_rows = [r for r in ctx.rows if r["probe"] == "moe_weights"]
    assert [r.get("error") for r in w_rows] == ["oom", "oom", None]
    layer = [r for r in ctx.rows if r["probe"] == "moe_layer"]
    assert layer and all(r["num_experts"] == 4 and r["num_experts_model"] == 16 and "error" not in r for r in layer)
