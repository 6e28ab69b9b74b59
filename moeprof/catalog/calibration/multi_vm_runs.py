"""Which published serving runs (moeprof/data/benchmarks) measured wide expert parallelism across
VMs on a GPU: records whose EP is wider than one VM's GPUs (ep > GPUs per VM), the layout a wide-EP
plan row runs and the only runs that would measure its InfiniBand all-to-all. The planner states
them as the evidence behind a wide-EP row's speed; with none, the speed is the performance model's
alone ("no measured multi-VM run")."""

from __future__ import annotations

from functools import cache
from importlib import resources

from ..values import read_data_json

FOLDER = "benchmarks"
NO_RUN = "no measured multi-VM run"


@cache
def _layouts() -> tuple[tuple[str, str, int], ...]:
    """(record id, GPU key, EP) of every shipped benchmark record."""
    out = []
    for p in sorted(x.name for x in (resources.files("moeprof") / "data" / FOLDER).iterdir() if x.name.endswith(".json")):
        for r in read_data_json(f"{FOLDER}/{p}").get("records") or []:
            if isinstance(r, dict) and isinstance(r.get("ep"), int) and not isinstance(r.get("ep"), bool):
                out.append((str(r.get("id")), str(r.get("gpu")), int(r["ep"])))
    return tuple(out)


def multi_vm_wide_ep_runs(gpu: str, gpus_per_vm: int) -> list[str]:
    """Ids of the records that ran `gpu` with EP across more GPUs than one VM of `gpus_per_vm` holds."""
    return [i for i, g, ep in _layouts() if g == gpu and ep > gpus_per_vm]


def evidence_text(gpu: str, gpus_per_vm: int) -> str:
    """The evidence behind a wide-EP row's speed on `gpu`, in one line."""
    runs = multi_vm_wide_ep_runs(gpu, gpus_per_vm)
    if not runs:
        return (f"{NO_RUN} of {gpu} in moeprof/data/benchmarks (no record has EP > {gpus_per_vm} GPUs): the speed is the "
                "performance model's (collectives over InfiniBand from the VM catalog), not a measurement")
    return f"{len(runs)} measured multi-VM wide-EP run(s) of {gpu} in moeprof/data/benchmarks: {', '.join(runs[:5])}"
