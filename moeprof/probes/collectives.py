"""Collectives: all-reduce and all-to-all bus bandwidth vs message size (torch.distributed:
NCCL / RCCL on GPUs, gloo on CPUs), single- or multi-node.

    torchrun --nproc-per-node 8 -m moeprof.probes.collectives --out profiles/coll.json
    torchrun --nnodes 2 --nproc-per-node 8 --rdzv-endpoint HOST:29500 -m moeprof.probes.collectives --out P

`--out` gets a profile (merged into it when it already is one). `moeprof probe` runs the same
measurement in local processes (spawn_local): 2 gloo processes on a CPU, one per GPU on a
multi-GPU host. Bus bandwidth follows nccl-tests: message bytes / time x 2(n-1)/n for
all-reduce, x (n-1)/n for all-to-all (message = bytes each rank sends in total).
Data: a random never-zero base shared by all ranks (same seed) x a rank factor, so every rank
can compute the expected result; checked once before timing. In-place all-reduce grows the
values n-fold per call, so the buffer is reset (untimed) before each repeat and a repeat loops
at most 8 calls."""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import sys
import tempfile
import time

import torch
import torch.distributed as dist

OPS = ("allreduce", "alltoall")
KiB, MiB = 1024, 1024**2


def bus_factor(op: str, n: int) -> float:
    return 2 * (n - 1) / n if op == "allreduce" else (n - 1) / n


def default_sizes(is_gpu: bool, quick: bool) -> list[int]:
    if is_gpu:
        return [1 * MiB, 16 * MiB, 256 * MiB] if quick else [1 * MiB, 4 * MiB, 16 * MiB, 64 * MiB, 256 * MiB, 1024 * MiB]
    return [4 * KiB, 64 * KiB, 1 * MiB] if quick else [4 * KiB, 64 * KiB, 1 * MiB, 16 * MiB]


def _base(numel: int, seed: int, device) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(numel, generator=g)
    x = torch.where(x.abs() < 1 / 16, torch.copysign(torch.full_like(x, 1 / 16), x), x)
    return x.to(device)


class CollectiveCheckError(RuntimeError):
    pass


def _check(got: torch.Tensor, want: torch.Tensor, what: str, rtol: float) -> None:
    err = float(((got.double() - want.double()).abs() / want.double().abs().clamp(min=1e-6)).max())
    if not err <= rtol:
        raise CollectiveCheckError(f"{what}: relative error {err:.3g} > {rtol}")


def _time_repeats(fn, reset, device, repeats: int, inner: int) -> list[float]:
    """ms per call for each repeat, on this rank."""
    out = []
    cuda = device.type == "cuda"
    for _ in range(repeats):
        reset()
        if cuda:
            torch.cuda.synchronize(device)
        dist.barrier()
        if cuda:
            s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            s.record()
            for _ in range(inner):
                fn()
            e.record()
            e.synchronize()
            out.append(s.elapsed_time(e) / inner)
        else:
            t0 = time.perf_counter()
            for _ in range(inner):
                fn()
            out.append((time.perf_counter() - t0) * 1e3 / inner)
    return out


def measure(
    rank: int, world: int, device: torch.device, sizes, repeats: int = 5, warmup: int = 2, seed: int = 7, ops=OPS, local_world: int | None = None
) -> list[dict]:
    """Run on every rank; returns the rows (identical on every rank: times are the max over ranks)."""
    backend = dist.get_backend()
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    esize = torch.tensor([], dtype=dtype).element_size()
    nodes = max(1, world // (local_world or world))
    rtol = 2e-2 if dtype == torch.bfloat16 else 1e-5
    rows = []
    for op in ops:
        for size in sizes:
            numel = max(world, size // esize)
            numel -= numel % world
            base = _base(numel, seed + numel, device).to(dtype)
            row = {
                "probe": op,
                "message_bytes": numel * esize,
                "world_size": world,
                "nodes": nodes,
                "backend": backend,
                "dtype": str(dtype).replace("torch.", ""),
            }
            try:
                if op == "allreduce":
                    x = base * (rank + 1)
                    y = x.clone()
                    dist.all_reduce(y)
                    _check(y, base.double() * (world * (world + 1) / 2), f"all_reduce {numel * esize} B", rtol)

                    def fn():
                        dist.all_reduce(y)

                    def reset():
                        y.copy_(x)
                else:
                    chunk = numel // world
                    factors = torch.arange(world, device=device, dtype=torch.float64)
                    mine = (rank * world + factors + 1).repeat_interleave(chunk).to(dtype)  # chunk j -> rank j
                    x = base * mine
                    y = torch.empty_like(x)
                    dist.all_to_all_single(y, x)
                    # rank i sends its chunk `rank` (base slice `rank`, factor i*world + rank + 1) to us
                    mine_slice = base[rank * chunk : (rank + 1) * chunk].double().repeat(world)
                    want = mine_slice * (factors * world + rank + 1).repeat_interleave(chunk)
                    _check(y, want, f"all_to_all {numel * esize} B", rtol)

                    def fn():
                        dist.all_to_all_single(y, x)

                    def reset():
                        pass

                big = numel * esize >= 64 * MiB
                inner = 2 if big else 8
                _time_repeats(fn, reset, device, max(1, warmup), 1)
                ms = _time_repeats(fn, reset, device, repeats, inner)
                t = torch.tensor(ms, dtype=torch.float64, device=device)
                dist.all_reduce(t, op=dist.ReduceOp.MAX)  # the slowest rank sets the pace
                ms = t.tolist()
                med = statistics.median(ms)
                algo = numel * esize / (med / 1e3)
                row.update(ms=med, min_ms=min(ms), max_ms=max(ms), repeats=repeats, inner_loops=inner,
                           algo_bytes_per_s=algo, bus_bytes_per_s=algo * bus_factor(op, world))
            except CollectiveCheckError as e:
                row.update(error="check_failed", detail=str(e))
            except Exception as e:  # OOM on a large message: record and go on
                msg = str(e)
                row.update(error="oom" if "out of memory" in msg.lower() else type(e).__name__, detail=msg.splitlines()[0][:300] if msg else "")
                if device.type == "cuda":
                    torch.cuda.empty_cache()
            rows.append(row)
    return rows


# ---- local processes ------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _spawn_worker(rank, world, port, use_cuda, sizes, repeats, warmup, out_path):
    if not use_cuda:
        torch.set_num_threads(1)
    backend = "nccl" if use_cuda else "gloo"
    device = torch.device("cuda", rank) if use_cuda else torch.device("cpu")
    if use_cuda:
        torch.cuda.set_device(device)
    dist.init_process_group(backend, init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    try:
        rows = measure(rank, world, device, sizes, repeats, warmup, local_world=world)
        if rank == 0:
            with open(out_path, "w") as f:
                json.dump(rows, f)
    finally:
        dist.destroy_process_group()


def spawn_local(nprocs: int, use_cuda: bool, sizes, repeats: int = 5, warmup: int = 2, timeout_s: float = 120.0) -> list[dict]:
    """Run `measure` in `nprocs` local processes (torch.multiprocessing, spawn); rank 0's rows."""
    import torch.multiprocessing as mp

    with tempfile.TemporaryDirectory(prefix="moeprof-coll-") as tmp:
        out_path = os.path.join(tmp, "rows.json")
        # The workers start with SIGINT ignored (Python keeps an inherited SIG_IGN), so Ctrl-C
        # during their start prints no traceback; this process ends them in the finally below.
        try:
            old = signal.signal(signal.SIGINT, signal.SIG_IGN)
        except ValueError:  # not the main thread: signals are the main thread's
            old = None
        try:
            pc = mp.start_processes(
                _spawn_worker,
                args=(nprocs, free_port(), use_cuda, list(sizes), repeats, warmup, out_path),
                nprocs=nprocs,
                join=False,
                start_method="spawn",
            )
        finally:
            if old is not None:
                signal.signal(signal.SIGINT, old)
        deadline = time.monotonic() + timeout_s
        try:
            while not pc.join(timeout=0.5):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"collective processes did not finish in {timeout_s:.0f} s")
        finally:
            for p in pc.processes:
                if p.is_alive():
                    p.terminate()
                    p.join(5)
        with open(out_path) as f:
            return json.load(f)


def run(ctx) -> None:
    """Probe-suite step: local processes over the GPUs of this host, or 2 gloo processes."""
    d = ctx.dev
    if d.is_gpu:
        n = ctx.settings.collective_procs or torch.cuda.device_count()
    else:
        n = ctx.settings.collective_procs or 2
    if n < 2:
        ctx.rows.append(
            {
                "probe": "allreduce",
                "error": "skipped",
                "detail": "one GPU: run `torchrun --nproc-per-node N -m moeprof.probes.collectives --out P` on a multi-GPU host",
            }
        )
        ctx.progress("collectives: skipped (one GPU)")
        return
    sizes = default_sizes(d.is_gpu, ctx.settings.quick)
    left = ctx.time_left_s()
    if left is not None and left <= 0:
        ctx.rows.append({"probe": "allreduce", "world_size": n, "error": "skipped_time_budget"})
        ctx.progress("collectives: skipped (time budget spent)")
        return
    timeout = max(20.0, left) if left is not None else 300.0
    ctx.progress(f"collectives: {n} {'NCCL/RCCL' if d.is_gpu else 'gloo'} processes, {len(sizes)} sizes x {len(OPS)} ops")
    try:
        rows = spawn_local(n, d.is_gpu, sizes, repeats=ctx.settings.repeats, warmup=ctx.settings.warmup, timeout_s=timeout)
    except KeyboardInterrupt:
        raise
    except Exception as e:
        ctx.rows.append({"probe": "allreduce", "world_size": n, "error": type(e).__name__, "detail": str(e).splitlines()[0][:300] if str(e) else ""})
        ctx.progress(f"collectives: {type(e).__name__}: {e}")
        return
    for r in rows:
        ctx.rows.append(r)
        if "error" in r:
            ctx.progress(f"{r['probe']} {r['message_bytes']} B x {n}: {r['error']} {r.get('detail', '')}")
        else:
            ctx.progress(f"{r['probe']} {r['message_bytes']} B x {n}: {r['ms']:.4g} ms, {r['bus_bytes_per_s'] / 1e9:.4g} GB/s bus")


# ---- torchrun entry point -----------------------------------------------------------------
def _env_int(name: str, default: int, hi: int = 2**20) -> int:
    """An integer environment variable set by torchrun; ValueError names it when it is not one."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        v = int(raw.strip()[:20])
    except ValueError:
        raise ValueError(f"{name}={raw[:40]!r} is not an integer (torchrun sets it)") from None
    if not 0 <= v <= hi:
        raise ValueError(f"{name}={v} is out of range 0..{hi}")
    return v


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m moeprof.probes.collectives", description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="profile JSON to write (merged into it if it already is a profile)")
    ap.add_argument("--quick", action="store_true", help="fewer message sizes")
    ap.add_argument("--sizes", default=None, help="comma-separated message sizes in bytes")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    try:
        world = _env_int("WORLD_SIZE", 1)
        rank = _env_int("RANK", 0)
        local_rank = _env_int("LOCAL_RANK", 0)
        local_world = _env_int("LOCAL_WORLD_SIZE", world)
    except ValueError as e:
        print(f"moeprof: error: {e}", file=sys.stderr)
        return 2
    if world < 2:
        print("moeprof: error: run under torchrun with at least 2 processes (WORLD_SIZE >= 2)", file=sys.stderr)
        return 2
    use_cuda = torch.cuda.is_available()
    device = torch.device("cuda", local_rank) if use_cuda else torch.device("cpu")
    if use_cuda:
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if use_cuda else "gloo")
    try:
        sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else default_sizes(use_cuda, args.quick)
        rows = measure(rank, world, device, sizes, repeats=args.repeats, local_world=local_world)
        if rank == 0:
            path = write_profile(
                rows, args.out, device, {"quick": args.quick, "sizes": sizes, "repeats": args.repeats, "world_size": world, "local_world_size": local_world}
            )
            for r in rows:
                if "error" not in r:
                    print(f"{r['probe']:9s} {r['message_bytes']:>12d} B  {r['ms']:9.4f} ms  {r['bus_bytes_per_s'] / 1e9:8.2f} GB/s bus")
            print(f"wrote {path}")
    finally:
        dist.destroy_process_group()
    return 0


def write_profile(rows: list[dict], out, device: torch.device, settings: dict):
    """Merge collective rows (and refit their curves) into the profile at `out`, or start one."""
    from pathlib import Path

    from ..errors import MoeprofError
    from ..inputs import forget_input
    from ..profile import Profile, load_profile, save_profile
    from .fit import fit_curves, fit_scalars
    from .provenance import collect_provenance, gpu_key_for

    p = Path(out)
    prof = None
    if p.exists():
        try:
            prof = load_profile(p)
        except MoeprofError:
            prof = None
    if prof is None:
        name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
        prof = Profile(gpu=gpu_key_for(name, device.type), source="measured", provenance=collect_provenance(name, {"collectives": settings}))
    prof.rows = [r for r in prof.rows if r.get("probe") not in OPS] + rows
    curves = fit_curves(prof.rows)
    for op in OPS:
        if op in curves:
            prof.curves[op] = curves[op]
    sc = fit_scalars(prof.rows)
    if "collective_latency_s" in sc:
        prof.scalars["collective_latency_s"] = sc["collective_latency_s"]
    prof.source = "measured"
    forget_input(p)  # merged into and written back: the update is the point
    return save_profile(prof, p)


if __name__ == "__main__":
    sys.exit(main())
