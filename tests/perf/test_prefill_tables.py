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
