"""Prefill is timed with the shipped kernel tables of the GPU and engine where they exist."""

from moeprof.deployment.steps import prefill_profile
from moeprof.profile import default_profile_for, shipped_profiles


def test_prefill_uses_the_engines_kernel_tables_on_nvidia():
    base = default_profile_for("h200-sxm-141gb")
    assert prefill_profile("h200-sxm-141gb", "vllm", base) is shipped_profiles()["h200-sxm-141gb.aic-vllm"]
    assert prefill_profile("h200-sxm-141gb", "sglang", base) is shipped_profiles()["h200-sxm-141gb.aic-sglang"]


def test_prefill_keeps_the_profile_where_no_tables_exist_or_it_has_its_own():
    mi = default_profile_for("mi300x-192gb")
    assert prefill_profile("mi300x-192gb", "vllm", mi) is mi
    own = shipped_profiles()["h100-sxm-80gb.aic-sglang"]
    assert prefill_profile("h100-sxm-80gb", "vllm", own) is own


def _moe_s(ctx, tokens):
    from moeprof.perf import prefill_step

    res = prefill_step(ctx, tokens, tokens)
    return sum(float(ops["moe"]) * res.layer_counts.get(k, 1) for k, ops in res.ops.items() if "moe" in ops)


def test_routed_experts_take_the_table_of_their_weight_format():
    from moeprof.catalog.hardware.vms import get_gpu
    from moeprof.catalog.models import load_model
    from moeprof.catalog.models.quant import get_recipe
    from moeprof.perf import make_context
    from moeprof.perf.moe_layer import moe_table_dtype, weights

    h200 = get_gpu("h200-sxm-141gb")
    cases = {("gpt-oss-120b", "checkpoint"): "mxfp4", ("deepseek-r1", "checkpoint"): "fp8_block",
             ("scout", "bf16"): "bf16", ("scout", "fp8"): "fp8", ("scout", "int4"): None}
    for (name, quant), want in cases.items():
        m = load_model(name)
        ctx = make_context(m, h200, get_recipe(quant, m))
        assert moe_table_dtype(ctx, *weights(ctx, "routed_experts")) == want, (name, quant)


def test_mxfp4_prefill_runs_at_the_measured_kernel_rate_not_the_bf16_plateau():
    """aiconfigurator's vLLM table for gpt-oss-120b's MoE on H200 (triton_kernels, MXFP4 x bf16): about
    2.9 ms a layer at 8,192 tokens (~560 TFLOP/s); the roofline at the bf16 plateau is faster."""
    from moeprof.catalog.hardware.vms import get_gpu
    from moeprof.catalog.models import load_model
    from moeprof.catalog.models.quant import get_recipe
    from moeprof.perf import make_context

    m, h200 = load_model("gpt-oss-120b"), get_gpu("h200-sxm-141gb")
    q = get_recipe("checkpoint", m)
    table = _moe_s(make_context(m, h200, q, profile=shipped_profiles()["h200-sxm-141gb.aic-vllm"]), 8192) / m.num_layers
    roof = _moe_s(make_context(m, h200, q, profile=default_profile_for("h200-sxm-141gb")), 8192) / m.num_layers
    assert 2.6e-3 < table < 3.3e-3
    assert table > 1.2 * roof
