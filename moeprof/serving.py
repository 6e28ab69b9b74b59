"""Serving model: continuous batching with Poisson arrivals, in closed form, vectorised.

One replica serves requests of I input and O output tokens arriving at rate lam (Poisson).
From the performance model it takes
    P      prefill time of one request (s)
    s(b)   decode step time with b running sequences (s); a sequence gets one token per step
Then (all per replica):
    running batch b solves     b = lam x O x TPOT(b)              (Little's law)
    TPOT(b)                    = s(b) / (1 - lam x P)            (prefills take their share of time)
    load                       rho = lam x (P + O x s(B) / B)    (B = max batch; stable while < 1)
    TTFT_p                     = P + p x s(b) + W_p
where p x s(b) is the wait for the decode step in flight and W_p the p-quantile of the wait
in the M/D/1 queue of prefills (load lam x P, service P), plus, once the running batch is at
max batch, the admission queue of saturated-replica work (load rho, service S = P + O s(B)/B):
    mean wait  W = rho x S / (2 (1 - rho))                     (Pollaczek-Khinchine, M/D/1)
    P(wait > t) ~ rho x exp(-t x rho / W)  -> W_p = (W / rho) x ln(rho / (1 - p)) when rho > 1 - p, else 0
(the exponential-tail approximation of the M/G/1 wait). tests/test_serving.py checks these
against a discrete-event simulation of continuous batching.
"""

from __future__ import annotations

import numpy as np

BATCH_GRID = np.array([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024], dtype=float)


def interp_step(s_grid: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Decode step time at batch b (>= 1), log2-linear between the BATCH_GRID points.
    s_grid: [N, len(BATCH_GRID)] seconds; b: [N]."""
    b = np.clip(b, 1.0, BATCH_GRID[-1])
    x = np.log2(b)
    k = np.clip(np.floor(x).astype(int), 0, len(BATCH_GRID) - 2)
    t = x - k
    rows = np.arange(s_grid.shape[0])
    return s_grid[rows, k] * (1 - t) + s_grid[rows, k + 1] * t


def saturated_service_s(prefill_s, out_tokens, s_grid, max_batch):
    """GPU time per request when the replica runs full, S = P + O x s(B) / B; 1 / S is the
    replica's saturation throughput (requests/s)."""
    max_batch = np.asarray(max_batch, dtype=float)
    return prefill_s + out_tokens * interp_step(s_grid, max_batch) / max_batch


def free_batch(lam, out_tokens, prefill_s, s_grid, iters: int = 60):
    """Running batch with no max-batch cap: the fixed point of b = lam x O x s(b) / (1 - lam x P)
    (the right side grows with b, so iterating from b = 1 climbs monotonically to it). The fixed
    point under a cap B is min(free_batch, B), which lets callers share it across caps."""
    lam = np.asarray(lam, dtype=float)
    headroom = np.maximum(1.0 - lam * prefill_s, 1e-9)
    b = np.ones_like(lam)
    for _ in range(iters):
        b_new = np.clip(lam * out_tokens * interp_step(s_grid, b) / headroom, 1.0, BATCH_GRID[-1] * 4)
        done = np.allclose(b_new, b, rtol=1e-7, atol=1e-9)
        b = b_new
        if done:
            break
    return b


def operating_point(lam, out_tokens, prefill_s, s_grid, max_batch, b_free=None):
    """Running batch, TPOT and load at arrival rate lam (per replica).

    Fixed point of b = lam x O x TPOT(b), TPOT(b) = s(b) / (1 - lam x P), capped at max_batch.
    The replica is stable while lam x (P + O x s(B) / B) < 1 (B = max_batch): that product is
    returned as rho, the load relative to the replica's saturation throughput.
    Returns (b, tpot_s, rho, service_s) with service_s = P + O x s(B) / B."""
    lam = np.asarray(lam, dtype=float)
    max_batch = np.asarray(max_batch, dtype=float)
    headroom = np.maximum(1.0 - lam * prefill_s, 1e-9)
    if b_free is None:
        b_free = free_batch(lam, out_tokens, prefill_s, s_grid)
    b = np.minimum(b_free, max_batch)
    tpot = interp_step(s_grid, b) / headroom
    service = saturated_service_s(prefill_s, out_tokens, s_grid, max_batch)
    rho = lam * service
    return b, tpot, rho, service


def wait_quantile_s(rho, service_s, percentile: float):
    """p-quantile of the admission wait (M/D/1 mean, exponential tail); inf when rho >= 1."""
    rho = np.asarray(rho, dtype=float)
    p = percentile / 100.0
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = rho * service_s / (2.0 * (1.0 - rho))
        q = np.where(rho > 1 - p, (mean / np.maximum(rho, 1e-12)) * np.log(rho / (1 - p)), 0.0)
    return np.where(rho >= 1.0, np.inf, q)


def latency_at(lam, prefill_s, out_tokens, s_grid, max_batch, percentile, b_free=None):
    """(ttft_s, tpot_s, running batch b, rho) at per-replica rate lam.

    TTFT_p = P + p x s(b) (the decode step in flight) + W_p(prefill queue: load lam x P, service P)
             + W_p(admission queue: load rho, service S) once the running batch is at max_batch."""
    b, tpot, rho, service = operating_point(lam, out_tokens, prefill_s, s_grid, max_batch, b_free)
    step = interp_step(s_grid, b)
    lam = np.asarray(lam, dtype=float)
    ttft = prefill_s + (percentile / 100.0) * step + wait_quantile_s(lam * prefill_s, prefill_s, percentile)
    at_cap = b >= np.asarray(max_batch, dtype=float) * (1 - 1e-9)
    ttft = ttft + np.where(at_cap, wait_quantile_s(rho, service, percentile), 0.0)
    unstable = rho >= 1.0
    return np.where(unstable, np.inf, ttft), np.where(unstable, np.inf, tpot), b, rho


def capacity_qps(prefill_s, out_tokens, s_grid, max_batch, ttft_target_s, tpot_target_s, percentile, iters: int = 40):
    """Largest per-replica arrival rate meeting both latency targets (bisection, vectorised).
    0 where even an idle replica misses a target."""
    # Upper bound: the rate at which the replica saturates at max_batch (rho = 1).
    hi = 1.0 / saturated_service_s(prefill_s, out_tokens, s_grid, max_batch)
    lo = np.zeros_like(hi)
    ok0 = _meets(np.full_like(hi, 1e-12), prefill_s, out_tokens, s_grid, max_batch, ttft_target_s, tpot_target_s, percentile)
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        ok = _meets(mid, prefill_s, out_tokens, s_grid, max_batch, ttft_target_s, tpot_target_s, percentile)
        lo = np.where(ok, mid, lo)
        hi = np.where(ok, hi, mid)
    return np.where(ok0, lo, 0.0)


def _meets(lam, prefill_s, out_tokens, s_grid, max_batch, ttft_t, tpot_t, percentile):
    ttft, tpot, _, rho = latency_at(lam, prefill_s, out_tokens, s_grid, max_batch, percentile)
    return (ttft <= ttft_t) & (tpot <= tpot_t) & (rho < 1.0)
