#!/usr/bin/env python3
"""Benchmark the planner: configurations evaluated per second and wall time of a full search.

Runs `plan` for the seed models at the default targets, a few times each, and prints the
median wall time, the number of configurations (rows of SKU x TP x EP x PP x quant x KV dtype
x max batch x replicas) evaluated, and their rate. Target: the full default search in <= 1.0 s
in process on 2 CPU cores."""

import statistics
import sys
import time

from moeprof.catalog.models import load_model
from moeprof.planner import SearchSpace, Targets, plan


def main(repeats: int = 5) -> int:
    print(f"{'model':<10}{'configs':>10}{'median s':>10}{'min s':>8}{'configs/s':>12}  stages")
    for name in ("scout", "maverick", "behemoth"):
        model = load_model(name)
        targets = Targets.defaults()
        plan(model, targets, SearchSpace())  # warm caches (data files, imports)
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            res = plan(model, targets, SearchSpace())
            times.append(time.perf_counter() - t0)
        med = statistics.median(times)
        print(
            f"{name:<10}{res.configs_evaluated:>10,}{med:>10.3f}{min(times):>8.3f}{res.configs_evaluated / med:>12,.0f}"
            f"  feasible layouts x max batch={len(res.feasible):,}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 5))
