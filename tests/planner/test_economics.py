"""Costs that rank right: at equal traffic, lower $/month <=> lower blended $/M tokens."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from moeprof.catalog.hardware.vms import get_gpu
from moeprof.planner.document.targets import Targets
from moeprof.planner.search.cost import add_costs
from moeprof.planner.search.serve import ServeLoad


def _rows(vms_counts, skus, shares):
    n = len(vms_counts)
    rows = pd.DataFrame({
        "sku": skus, "vms": vms_counts, "gpus_per_replica": [8] * n, "running_batch": [16.0] * n,
        "utilization": [0.5] * n, "prefill_j": [1.0] * n,
    })
    return rows, ServeLoad(j_step=np.ones(n), lam=np.ones(n), prefill_share=np.asarray(shares, dtype=float))


@settings(max_examples=200, deadline=None)
@given(
    data=st.lists(st.tuples(st.integers(1, 64), st.sampled_from(["a", "b", "c"]), st.floats(0.0, 1.0)), min_size=2, max_size=12),
    prices=st.tuples(*[st.floats(0.5, 500.0) for _ in range(3)]),
    qps=st.floats(0.01, 1000.0), tin=st.integers(1, 100_000), tout=st.integers(1, 10_000),
)
def test_blended_cost_ranks_as_monthly_cost(data, prices, qps, tin, tout):
    gpu = get_gpu("h100-sxm-80gb")
    vms = {k: SimpleNamespace(price=SimpleNamespace(usd_per_hour=p, estimate=False), gpu=gpu) for k, p in zip("abc", prices)}
    rows, load = _rows([d[0] for d in data], [d[1] for d in data], [d[2] for d in data])
    t = Targets.defaults(qps=qps, input_tokens=tin, output_tokens=tout)
    out = add_costs(rows, vms, t, {}, load)
    month, blended = out.usd_per_month.to_numpy(), out.usd_per_million_tokens.to_numpy()
    for i in range(len(out)):
        for j in range(len(out)):
            if month[i] < month[j] * (1 - 1e-12):
                assert blended[i] < blended[j]
            if blended[i] < blended[j] * (1 - 1e-12):
                assert month[i] < month[j]
    # the input / output split is a convention that adds back up to the blended cost
    back = (out.usd_per_million_input_tokens * tin + out.usd_per_million_output_tokens * tout) / (tin + tout)
    assert np.allclose(back, blended, rtol=1e-9)


def test_a_real_plan_ranks_the_same_by_either_cost(plans):
    doc = plans("scout", quants=("bf16", "fp8"))
    rows = [doc.recommended] + doc.alternatives + [s.row for s in doc.per_sku if s.row is not None]
    by_month = sorted(rows, key=lambda r: (r.usd_per_month, r.usd_per_million_tokens))
    assert [r.usd_per_million_tokens for r in by_month] == sorted(r.usd_per_million_tokens for r in rows)
