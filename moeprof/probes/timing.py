"""Timing: device events on a GPU (CUDA and HIP), perf_counter on a CPU; warm-up, then the
median of repeats. Each repeat loops the op `inner` times so one sample lasts about
`target_ms` (a single 10-us kernel is below event resolution and launch jitter)."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import torch

from .device import DeviceInfo


@dataclass
class Timing:
    median_ms: float
    min_ms: float
    max_ms: float
    repeats: int
    inner: int
    method: str  # events | perf_counter

    def to_row(self) -> dict:
        return {
            "ms": self.median_ms,
            "min_ms": self.min_ms,
            "max_ms": self.max_ms,
            "repeats": self.repeats,
            "inner_loops": self.inner,
            "timer": self.method,
        }


def time_op(fn, dev: DeviceInfo, warmup: int = 2, repeats: int = 5, target_ms: float = 2.0, max_inner: int = 200) -> Timing:
    """Median time of one call of `fn` in ms."""
    for _ in range(max(warmup, 1)):
        fn()
    dev.sync()
    t0 = time.perf_counter()
    fn()
    dev.sync()
    one_ms = (time.perf_counter() - t0) * 1e3
    inner = int(max(1, min(max_inner, target_ms // max(one_ms, 1e-3))))
    samples = []
    if dev.is_gpu:
        stream = torch.cuda.current_stream(dev.device)
        for _ in range(repeats):
            start = torch.cuda.Event(enable_timing=True)
            end = torch.cuda.Event(enable_timing=True)
            start.record(stream)
            for _ in range(inner):
                fn()
            end.record(stream)
            end.synchronize()
            samples.append(start.elapsed_time(end) / inner)
        method = "events"
    else:
        for _ in range(repeats):
            t0 = time.perf_counter()
            for _ in range(inner):
                fn()
            samples.append((time.perf_counter() - t0) * 1e3 / inner)
        method = "perf_counter"
    return Timing(statistics.median(samples), min(samples), max(samples), repeats, inner, method)


def capture_graph(fn, dev: DeviceInfo):
    """Capture `fn` (static inputs and outputs) into a CUDA/HIP graph, as serving engines do for
    decode; returns (replay, graph). Warm-up runs on a side stream first, as torch requires."""
    s = torch.cuda.Stream(device=dev.device)
    s.wait_stream(torch.cuda.current_stream(dev.device))
    with torch.cuda.stream(s):
        for _ in range(2):
            fn()
    torch.cuda.current_stream(dev.device).wait_stream(s)
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        fn()
    return g.replay, g
