"""Multi-node launches of a wide-EP replica (EP > TP over several VMs): vLLM data parallel + expert
parallel across nodes, SGLang --nnodes with DP attention and EP; one script per replica taking
NODE_RANK and the head node's address, every flag checked against the engine release's argument list."""

from __future__ import annotations

from .shell import check_flags, comment, plan_engine_version, shell

VLLM_PORT = 8000
SGLANG_PORT = 30000
SGLANG_VERSION = "0.5"  # python -m sglang.launch_server flags as documented for SGLang 0.5
DP_RPC_PORT = 13345  # vLLM's data-parallel RPC port on the head node (any free port; the same on every node)
VLLM_DP_DOC = "docs.vllm.ai/en/v0.12.0/serving/data_parallel_deployment"  # the multi-node DP launch these follow
SGLANG_MULTI_NODE_DOC = "docs.sglang.io/references/multi_node_deployment/multi_node.html"
SGLANG_DIST_PORT = 50000  # SGLang's --dist-init-addr port on node 0


def _node_case(nodes: int, commands: list[str], what: str) -> list[str]:
    """A `case "$NODE_RANK"` over the nodes of one replica, command i on node i."""
    out = ['NODE_RANK="${NODE_RANK:?' + what + ', 0..' + str(nodes - 1) + '}"',
           'HEAD="${HEAD:?address of node 0 of this replica (reachable over InfiniBand / the VNet)}"',
           'case "$NODE_RANK" in']
    for i, c in enumerate(commands):
        out += [f"  {i})", f"    {c}", "    ;;"]
    return out + ['  *) echo "NODE_RANK must be 0..' + str(nodes - 1) + '" >&2; exit 2 ;;', "esac"]


def wide_ep_comment(rec: dict, nodes: int) -> str:
    return (f"wide EP across {nodes} VMs over InfiniBand: each replica is {rec['ep']} GPUs ({nodes} VMs), the experts "
            f"spread over all of them (EP {rec['ep']}) and attention data parallel over {rec['ep'] // rec['tp']} groups of "
            f"TP {rec['tp']}; run this script on each VM of a replica with NODE_RANK=0..{nodes - 1} and HEAD = node 0's "
            f"address; {rec['replicas']} replica(s) in all, each on its own {nodes} VMs")


def vllm_wide_ep_lines(doc: dict, rec: dict, gpv: int, nodes: int, model_arg: str, args: list[str]) -> list[str]:
    """vLLM data parallel + expert parallel across nodes (docs.vllm.ai serving/data_parallel_deployment:
    --data-parallel-size over all nodes, --data-parallel-size-local per node, the head's
    --data-parallel-address and --data-parallel-rpc-port, --data-parallel-start-rank and --headless
    on the other nodes, --enable-expert-parallel on all)."""
    dp = rec["ep"] // rec["tp"]
    local = gpv // rec["tp"]
    cmds, argvs = [], []
    for i in range(nodes):
        node = args + ["--data-parallel-size", str(dp), "--data-parallel-size-local", str(local),
                       "--data-parallel-rpc-port", str(DP_RPC_PORT)]
        node += ["--port", str(VLLM_PORT)] if i == 0 else ["--data-parallel-start-rank", str(i * local), "--headless"]
        argvs.append(["vllm", "serve", *node, "--data-parallel-address", "HEAD"])
        cmds.append(shell(["vllm", "serve"], model_arg, node, ' --data-parallel-address "$HEAD"'))
    version = None
    for a in argvs:
        version = check_flags("vllm", plan_engine_version(doc, "vllm"), a)
    return [
        comment(wide_ep_comment(rec, nodes)),
        comment(f"vLLM data parallel {dp} x TP {rec['tp']} with --enable-expert-parallel, {local} DP ranks per VM; node 0 "
                 f"serves the API on port {VLLM_PORT}; --max-num-seqs is per DP rank (the plan's max batch per group)"),
        comment(f"every flag checked against vLLM {version}'s argument list (moeprof/data/engine_args/vllm-{version}.json); "
                 f"the launch follows {VLLM_DP_DOC}"),
        *_node_case(nodes, cmds, "rank of this VM in the replica"),
    ]


def sglang_wide_ep_lines(doc: dict, rec: dict, nodes: int, head: list[str], model_arg: str, args: list[str]) -> list[str]:
    """SGLang across nodes (--nnodes, --node-rank, --dist-init-addr) with DP attention (--enable-dp-attention,
    --dp-size = attention groups) and the experts over every GPU (--ep-size); --tp-size is the replica's GPUs."""
    dp = rec["ep"] // rec["tp"]
    base = [a for a in args]
    i_tp = base.index("--tp-size")
    base[i_tp + 1] = str(rec["ep"])  # SGLang's TP group is every GPU of the replica; attention runs in dp groups of it
    i_mr = base.index("--max-running-requests")
    base[i_mr + 1] = str(rec["max_batch"] * dp)  # the scheduler gives each DP rank max_running_requests // dp_size
    base += ["--enable-dp-attention", "--dp-size", str(dp), "--nnodes", str(nodes), "--port", str(SGLANG_PORT)]
    if "--ep-size" not in base:
        base += ["--ep-size", str(rec["ep"])]
    version = check_flags("sglang", SGLANG_VERSION, [*head, *base, "--node-rank", "0", "--dist-init-addr", "HEAD:1"])
    cmds = [shell(head, model_arg, base, f' --node-rank {i} --dist-init-addr "$HEAD:{SGLANG_DIST_PORT}"') for i in range(nodes)]
    return [
        comment(wide_ep_comment(rec, nodes)),
        comment(f"SGLang DP attention ({dp} groups) x EP {rec['ep']} over --nnodes {nodes}; --max-running-requests "
                 f"{rec['max_batch'] * dp} = the plan's max batch {rec['max_batch']} per group x {dp} (SGLang's scheduler "
                 "gives each DP rank max_running_requests // dp_size)"),
        comment(f"every flag checked against SGLang {version}'s argument list (moeprof/data/engine_args/sglang-{version}.json); "
                 f"the launch follows {SGLANG_MULTI_NODE_DOC} with DP attention"),
        *_node_case(nodes, cmds, "rank of this VM in the replica"),
    ]


