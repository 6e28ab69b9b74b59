"""Wide expert parallelism across VMs: layouts, memory, the all-to-all over InfiniBand, the search."""

import numpy as np
import pandas as pd
import pytest

from moeprof import perf
from moeprof.catalog.engine import load_engine
from moeprof.catalog.hardware.vms import load_vms
from moeprof.catalog.models import load_model
from moeprof.catalog.models.quant import get_recipe
from moeprof.memory import Parallelism, check_parallelism, memory_per_gpu, weights_params_per_gpu
from moeprof.perf.collectives import Interconnect
from moeprof.perf.efficiency import load_efficiencies
from moeprof.planner import SearchSpace, Targets
from moeprof.planner.search.layouts import MAX_EP, layouts, memory_rows
from moeprof.planner.search.plan import default_profiles, evaluate_rows


@pytest.fixture(scope="module")
def vms():
    return load_vms()


def test_wide_ep_layouts_are_bounded(vms):
    vm = vms["nd-h200-v5"]
    mav = [p for p in layouts(load_model("maverick"), vm, 32) if p.ep > p.tp]
    assert {p.ep for p in mav} == {16, 32, 64}  # 128 experts: every width up to MAX_EP
    assert all(p.pp == 1 and p.ep % vm.gpus_per_vm == 0 and p.ep <= MAX_EP and p.tp in (1, 8) for p in mav)
    beh = [p for p in layouts(load_model("behemoth"), vm, 32) if p.ep > p.tp]
    assert {p.ep for p in beh} == {16}  # 16 experts: no wider EP
    assert not [p for p in layouts(load_model("maverick"), vm, 1) if p.ep > p.tp]  # one VM: none
    assert check_parallelism(load_model("maverick"), Parallelism(tp=8, ep=16, pp=2)) is not None


def test_ep16_over_two_vms_halves_the_expert_weights_per_gpu(vms):
    m = load_model("maverick")
    ep8 = weights_params_per_gpu(m, Parallelism(tp=8, ep=8))
    ep16 = weights_params_per_gpu(m, Parallelism(tp=8, ep=16))
    assert ep16["routed_experts"] == pytest.approx(ep8["routed_experts"] / 2)
    for k in ep8:
        if k != "routed_experts":
            assert ep16[k] == ep8[k]  # attention, shared expert, embeddings: per tp group as before
    vm = vms["nd-h200-v5"]
    q = get_recipe("fp8-experts", m)
    a = memory_per_gpu(m, vm, 1, Parallelism(tp=8, ep=8), q, "bf16")
    b = memory_per_gpu(m, vm, 2, Parallelism(tp=8, ep=16), q, "bf16")
    routed = m.params_by_component["routed_experts"] * q.weight_bytes_per_param["routed_experts"]
    assert a.weights_bytes_per_gpu - b.weights_bytes_per_gpu == pytest.approx(routed / 16)
    assert b.kv_budget_bytes_per_gpu > a.kv_budget_bytes_per_gpu


def test_alltoall_cost_grows_with_the_share_of_tokens_leaving_the_vm(vms):
    vm = vms["nd-h100-v5"]
    ic = Interconnect(vm.gpu, vm, None, load_efficiencies(vm.gpu.key), 6e-6)
    msg = 4e6  # bytes a rank holds for all peers
    t_in = float(ic.alltoall_s(msg, 8, False, 8))
    t = [float(ic.alltoall_s(msg, n, True, 8)) for n in (16, 32, 64)]  # 1/2, 3/4, 7/8 leave the VM
    assert t_in < t[0] < t[1] < t[2]
    # the InfiniBand part is the leaving share over the NIC at the DeepEP efficiency
    nic = vm.scale_out_bytes_per_s_per_gpu * ic.eff.alltoall_infiniband_efficiency
    for n, ti in zip((16, 32, 64), t):
        assert ti == pytest.approx(ic.cross_vm_latency_s + msg * (n - 8) / n / nic)


def test_the_moe_layer_of_a_wide_ep_group_takes_every_groups_tokens(vms):
    vm = vms["nd-h200-v5"]
    m = load_model("maverick")
    ctx = perf.make_context(m, vm.gpu, get_recipe("fp8", m), "fp8", None, vm, 0.0)
    narrow = perf.decode_step(ctx, 64.0, 4096.0, tp=8, ep=8, pp=1, num_vms=1)
    wide = perf.decode_step(ctx, 64.0, 4096.0, tp=8, ep=16, pp=1, num_vms=2)
    key = next(iter(wide.moe))
    # twice the tokens over twice the ranks: the same token-expert pairs on the busiest rank
    assert wide.moe[key]["tokens_per_expert"] * wide.moe[key]["experts_touched"] == pytest.approx(
        narrow.moe[key]["tokens_per_expert"] * narrow.moe[key]["experts_touched"])
    assert wide.comm_s > narrow.comm_s  # half the dispatch leaves the VM over InfiniBand


def test_behemoth_on_h200_without_pipeline_stages_fits_only_with_wide_ep(vms):
    m = load_model("behemoth")
    t = Targets.defaults(context_tokens=m.max_position_embeddings, qps=1.0)
    df = pd.DataFrame(memory_rows(m, {"nd-h200-v5": vms["nd-h200-v5"]}, t, SearchSpace(), load_engine()))
    fit = df[(df.memory_kind == "") & (df.pp == 1)]
    assert len(fit) and (fit.ep > fit.tp).all() and (fit.ep == 16).all()


def test_the_search_serves_behemoth_with_wide_ep(vms):
    m = load_model("behemoth")
    sub = {"nd-h200-v5": vms["nd-h200-v5"]}
    # a TTFT target the H200 band's high edge (+130 %) leaves room for: this test is about wide EP
    # and a rate one replica carries within the default VM limit (prefill at the kernel tables' speed)
    rows = evaluate_rows(m, Targets.defaults(ttft_ms=2000.0, qps=5.0), SearchSpace(quants=("int4",), allow_requantize=True), sub,
                         default_profiles(sub), load_engine())
    wide = rows[rows.feasible & (rows.ep > rows.tp)]
    assert len(wide)
    r = wide.iloc[0]
    assert r.gpus == r.replicas * r.ep and r.vms == r.replicas * r.ep // 8
    assert np.isfinite(r.ttft_ms) and r.tpot_ms <= 40.0


def test_evaluate_takes_wide_ep(vms):
    from moeprof.deployment.evaluate import Deployment, check
    from moeprof.errors import MoeprofError

    m = load_model("maverick")
    dep = Deployment(m, vms["nd-h200-v5"], 2, tp=8, ep=16, pp=1, quant="fp8", kv_dtype="fp8", engine=load_engine())
    check(dep)  # one replica of two attention groups
    assert (dep.replicas, dep.groups, dep.vms_per_replica) == (1, 2, 2)
    with pytest.raises(MoeprofError, match="pipeline"):
        check(Deployment(m, vms["nd-h200-v5"], 4, tp=8, ep=16, pp=2, quant="fp8", kv_dtype="fp8", engine=load_engine()))
