"""The shell text of an export (a comment line, a quoted command line) and the checks every exported
command passes: the flags against the engine release's argument list (moeprof/data/engine_args), for
the version the plan names; how many VMs one wide-EP replica spans."""

from __future__ import annotations

import re
import shlex

from ..deployment.replicas import vms_per_replica
from ..errors import MoeprofError


def comment(text) -> str:
    """One comment line: no line breaks can escape the comment."""
    return "# " + re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+", " ", str(text))


def shell(head: list[str], model_arg: str, args: list[str], raw_tail: str = "") -> str:
    """head MODEL args: every word quoted except model_arg (already shell text) and raw_tail."""
    return " ".join([*map(shlex.quote, head), model_arg, *map(shlex.quote, args)]) + raw_tail


def wide_ep_nodes(rec: dict, gpv: int) -> int:
    """VMs one wide-EP replica spans (EP > TP over more than one VM), else 0."""
    per_replica = max(rec["tp"], rec["ep"]) * rec["pp"]
    n = vms_per_replica(per_replica, gpv)
    return n if rec["ep"] > rec["tp"] and n > 1 else 0


def plan_engine_version(doc: dict, engine: str) -> str | None:
    """The version of `engine` the plan names (inputs.engine "vllm 0.23.0"), else None (the newest shipped
    argument list is then checked)."""
    named = str(doc.get("inputs", {}).get("engine") or "").split()
    return named[1] if len(named) == 2 and named[0] == engine else None


def check_flags(engine: str, version: str | None, argv: list[str]) -> str:
    """The engine release whose argument list (moeprof/data/engine_args) accepts every flag of argv;
    MoeprofError naming the first flag it does not accept."""
    from ..catalog.engine_args import check_argv, engine_arg_list

    args = engine_arg_list(engine, version)
    bad = check_argv(engine, version, argv)
    if bad:
        raise MoeprofError(f"{engine} {args.version} does not accept {', '.join(bad)} (moeprof/data/engine_args/"
                           f"{engine}-{args.version}.json): refusing to write a launch it would reject")
    return args.version
