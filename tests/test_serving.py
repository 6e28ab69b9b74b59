"""The closed-form serving model against a discrete-event simulation of continuous batching."""


import numpy as np
import pytest

from moeprof import serving


def simulate(lam, prefill_s, out_tokens, step_fn, max_batch, n_requests=6000, seed=0):
    """Continuous batching, FCFS admission: each engine iteration admits waiting requests up
    to max_batch (running each admitted prefill), then runs one decode step for every running
    sequence. Returns per-request TTFT and mean TPOT (seconds)."""
    rng = np.random.default_rng(seed)
    arrivals = np.cumsum(rng.exponential(1 / lam, n_requests))
    t, i = 0.0, 0
    waiting, running = [], []  # running: [remaining tokens, first token time, arrival]
    ttft, tpot = [], []
    while i < n_requests or waiting or running:
        while i < n_requests and arrivals[i] <= t:
            waiting.append(arrivals[i])
            i += 1
        if not waiting and not running:
            t = arrivals[i]
            continue
        while waiting and len(running) < max_batch:
            a = waiting.pop(0)
            t += prefill_s  # the prefill occupies the engine
            ttft.append(t - a)
            running.append([out_tokens - 1, t, a])  # prefill emits the first token
        if running:
            t += step_fn(len(running))
            for r in running:
                r[0] -= 1
            done = [r for r in running if r[0] <= 0]
            for r in done:
                tpot.append((t - r[1]) / max(out_tokens - 1, 1))
            running = [r for r in running if r[0] > 0]
    warm = n_requests // 10
    return np.array(ttft[warm:]), np.array(tpot[warm:])


def step_fn_from_grid(s_grid):
    return lambda b: float(serving.interp_step(s_grid[None, :], np.array([float(b)]))[0])


@pytest.mark.parametrize("lam", [2.0, 6.0, 10.0])
def test_closed_form_matches_simulation(lam):
    # A decode step of 20 ms + 0.1 ms per sequence; prefill 40 ms; 100 output tokens.
    s_grid = 0.020 + 0.0001 * serving.BATCH_GRID
    prefill, O, B = 0.040, 100, 256
    ttft_sim, tpot_sim = simulate(lam, prefill, O, step_fn_from_grid(s_grid), B)
    for p in (50.0, 90.0):
        ttft, tpot, b, rho = serving.latency_at(np.array([lam]), np.array([prefill]), O, s_grid[None, :], np.array([B], float), p)
        assert rho[0] < 1
        assert tpot[0] == pytest.approx(tpot_sim.mean(), rel=0.15)
        q = np.percentile(ttft_sim, p)
        # TTFT is prefill + queueing: within 30 % or 15 ms of the simulated percentile
        assert abs(ttft[0] - q) <= max(0.30 * q, 0.015), (p, ttft[0], q)


def test_capacity_is_where_targets_bind():
    s_grid = (0.020 + 0.0001 * serving.BATCH_GRID)[None, :]
    pre, O, B = np.array([0.040]), 100, np.array([256.0])
    cap = serving.capacity_qps(pre, O, s_grid, B, ttft_target_s=0.5, tpot_target_s=0.030, percentile=90.0)
    assert cap[0] > 0
    ttft, tpot, _, _ = serving.latency_at(cap * 0.999, pre, O, s_grid, B, 90.0)
    assert ttft[0] <= 0.5 and tpot[0] <= 0.030
    ttft, tpot, _, rho = serving.latency_at(cap * 1.05, pre, O, s_grid, B, 90.0)
    assert ttft[0] > 0.5 or tpot[0] > 0.030 or rho[0] >= 1


def test_unreachable_target_gives_zero_capacity():
    s_grid = (0.050 + 0 * serving.BATCH_GRID)[None, :]
    cap = serving.capacity_qps(np.array([0.04]), 100, s_grid, np.array([64.0]), 1.0, 0.040, 90.0)
    assert cap[0] == 0.0


def test_latency_never_falls_as_load_rises():
    s_grid = (0.015 + 0.0002 * serving.BATCH_GRID)[None, :]
    lams = np.linspace(0.1, 20, 60)
    n = len(lams)
    ttft, tpot, _, _ = serving.latency_at(lams, np.full(n, 0.03), 200, np.repeat(s_grid, n, 0), np.full(n, 512.0), 95.0)
    assert np.all(np.diff(ttft[np.isfinite(ttft)]) >= -1e-12)
    assert np.all(np.diff(tpot[np.isfinite(tpot)]) >= -1e-12)
