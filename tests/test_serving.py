"""The closed-form serving model against a step-by-step simulation of the same scheduler:
continuous batching, every running sequence decodes one token per step, and prompts fill the
token budget left in the step (chunked prefill, FCFS) while sequence slots are free."""

import math
from collections import deque

import numpy as np
import pytest

from moeprof import serving

# A decode step of 12 ms + 0.05 ms per sequence; 2 ms + 0.004 ms per prompt token of token work;
# 6 ms of attention per 1,000-token prompt; 1 ms of host time; graphs captured at 1, 2, 4, 8, 16, ...
S_DEC = 0.012 + 0.00005 * serving.BATCH_GRID
G_TOK = 0.002 + 0.000004 * serving.TOKEN_GRID
CAPTURE = np.array([1, 2, 4] + list(range(8, 513, 8)), dtype=float)


def costs(n=1, host=0.001, attn=0.006):
    return serving.StepCosts(np.tile(S_DEC, (n, 1)), np.tile(G_TOK, (n, 1)), np.full(n, attn), np.full(n, host), CAPTURE)


def workload(n=1, I=1000, O=200, budget=8192, slots=512):
    return serving.Workload(np.full(n, float(I)), np.full(n, float(O)), np.full(n, float(budget)), np.full(n, float(slots)))


RANGE_RATIO = 0.8  # lengths uniform over [0.8 L, L], as benchmark clients draw them (--random-range-ratio)


def simulate(c, w, concurrency=None, qps=None, n_requests=3000, seed=0, whole_run=False, range_ratio=RANGE_RATIO, apart=False):
    """Steps of the scheduler; returns (throughput req/s, mean TPOT s, median TTFT s) after warm-up.
    apart: waiting prompts run in a prefill step of their own (the whole budget, no decodes in it)
    before the next decode step, as SGLang's scheduler runs them.
    Request lengths are uniform over [r L, L] with the workload's I and O as their means (r = 1:
    every request has exactly I and O). Closed
    loop: the clients start at once, and a client's next request reaches the engine after the step
    that follows the one its last token came from has started. whole_run: a benchmark run of
    n_requests prompts in all; returns every request's TTFT (s), the starting burst included."""
    I_mean, O_mean = float(w.input_tokens[0]), float(w.output_tokens[0])
    lo = 2 * range_ratio / (1 + range_ratio)  # mean of U[rL, L] = (1 + r) L / 2
    draw = lambda mean: int(rng.integers(round(lo * mean), round(2 * mean - lo * mean) + 1))  # noqa: E731
    budget, slots = int(w.budget_tokens[0]), int(w.max_seqs[0])
    rng = np.random.default_rng(seed)
    arrivals = deque()
    if qps is not None:
        arrivals.extend(np.cumsum(rng.exponential(1 / qps, n_requests)))
    else:
        arrivals.extend([0.0] * int(concurrency))
    t, sent = 0.0, len(arrivals)
    waiting = deque()  # [arrival, prompt tokens left]
    decoding = []  # [tokens left, first token time]
    done = []  # (arrival, first token time, finish)
    g = lambda x: float(c.g(np.array([x]))[0])  # noqa: E731
    while len(done) < n_requests:
        while arrivals and arrivals[0] <= t:
            waiting.append([arrivals.popleft(), draw(I_mean), draw(O_mean)])
        if not waiting and not decoding:
            t = arrivals[0]
            continue
        b = len(decoding)
        room, p, chunks = budget if apart else budget - b, 0, []
        for req in waiting:
            if room <= 0 or b + len(chunks) >= slots:
                break
            take = min(req[1], room)
            chunks.append((req, take))
            room -= take
            p += take
        prefill_only = apart and p > 0
        if prefill_only:  # the decodes wait this step out
            step = g(p) + float(c.host_s[0]) + float(c.attn_prompt_s[0]) * p / I_mean
        else:
            step = float(c.decode_only(np.array([max(b, 1)]))[0]) if b else float(c.host_s[0])
            step += g(b + p) - g(b) + float(c.attn_prompt_s[0]) * p / I_mean
        t += step
        for d in decoding if not prefill_only else []:
            d[0] -= 1
        for d in [d for d in decoding if d[0] <= 0]:
            done.append((d[2], d[1], t, d[3]))
            if concurrency is not None and sent < n_requests + (0 if whole_run else int(concurrency)):
                arrivals.append(t + 1e-9)  # the client's next request: in the engine after the next step started
                sent += 1
        decoding = [d for d in decoding if d[0] > 0]
        for req, take in chunks:
            req[1] -= take
            if req[1] <= 0:
                waiting.remove(req)
                decoding.append([req[2] - 1, t, req[0], req[2]])  # the prefill's step emits the first token
    if whole_run:
        return np.array([ft - a for a, ft, _, _ in done])
    done = done[len(done) // 5:]
    span = max(d[2] for d in done) - min(d[2] for d in done)
    tpot = np.mean([(f - ft) / max(o - 1, 1) for _, ft, f, o in done])
    ttft = np.median([ft - a for a, ft, _, _ in done])
    return len(done) / span, tpot, ttft


# the fast loop checks the ends of the batch range (1 and 64); the full suite the middle and the large batches too
@pytest.mark.parametrize("concurrency", [1, pytest.param(8, marks=pytest.mark.slow), 64, pytest.param(256, marks=pytest.mark.slow),
                                         pytest.param(512, marks=pytest.mark.slow)])
def test_closed_loop_matches_the_simulation(concurrency):
    c, w = costs(), workload()
    pt = serving.closed_loop(c, w, concurrency)
    x_sim, tpot_sim, _ = simulate(c, w, concurrency=concurrency, n_requests=60 if concurrency == 1 else max(600, 6 * concurrency))
    assert pt.lam[0] == pytest.approx(x_sim, rel=0.05)
    assert pt.tpot_s[0] == pytest.approx(tpot_sim, rel=0.05)


@pytest.mark.parametrize("concurrency,I", [(8, 1000), pytest.param(64, 1000, marks=pytest.mark.slow), (32, 6000)])
def test_finite_run_ttft_matches_the_simulation(concurrency, I):
    """A benchmark run of 10 x C prompts, the C clients starting at once: the closed form's TTFT
    mean, median and p99 over the run (the starting burst and the steady state) against every
    request of a simulated run."""
    c, w = costs(), workload(I=I)
    n = 10 * concurrency
    w.num_prompts = np.array([float(n)])
    pt = serving.closed_loop(c, w, concurrency, 99.0)
    sim = np.concatenate([simulate(c, w, concurrency=concurrency, n_requests=n, seed=s, whole_run=True) for s in range(3)])
    assert pt.ttft_mean_s[0] == pytest.approx(sim.mean(), rel=0.15)
    assert pt.ttft_median_s[0] == pytest.approx(np.median(sim), rel=0.15)
    assert pt.ttft_q_s[0] == pytest.approx(np.percentile(sim, 99), rel=0.25)
    endless = serving.closed_loop(c, workload(I=I), concurrency, 99.0)
    assert pt.ttft_q_s[0] > 1.5 * endless.ttft_q_s[0]  # the burst is the run's tail


@pytest.mark.parametrize("concurrency", [56, pytest.param(200, marks=pytest.mark.slow)])  # medians inside a cohort
def test_single_wave_past_the_slots_matches_the_simulation(concurrency):
    """Every prompt at once (N = C, no concurrency cap) with fewer sequence slots than prompts: the
    burst fills the slots, and the rest wait for slots, which the burst's sequences free together,
    cohort after cohort; the queue is not refilled, as in the steady state of clients that send again."""
    c, w = costs(), workload(I=1000, O=200, slots=16)
    w.num_prompts = np.array([float(concurrency)])
    pt = serving.closed_loop(c, w, concurrency, 99.0)
    sim = np.concatenate([simulate(c, w, concurrency=concurrency, n_requests=concurrency, seed=s, whole_run=True) for s in range(3)])
    assert pt.ttft_median_s[0] == pytest.approx(np.median(sim), rel=0.15)
    assert pt.ttft_mean_s[0] == pytest.approx(sim.mean(), rel=0.15)
    assert pt.ttft_q_s[0] == pytest.approx(np.percentile(sim, 99), rel=0.15)


# (C, I, budget): one wave in one step (G = 1), two steps (G = 2), many (G = 4, 8, 16), prompts longer than the budget
@pytest.mark.parametrize("concurrency,I,budget", [(8, 1000, 8192), (12, 1000, 8192), (32, 1000, 8192), (16, 8000, 8192),
                                                  pytest.param(128, 1000, 8192, marks=pytest.mark.slow),
                                                  pytest.param(16, 20000, 8192, marks=pytest.mark.slow)])
def test_fixed_lengths_arrive_in_waves_as_simulated(concurrency, I, budget):
    """Every request of the same lengths: requests that start together end together, so each wave of
    prompts refills the budget in consecutive steps and waits out the previous group's step. The
    steady state (the starting burst dropped) against the simulation, and far above the TTFT of
    lengths that vary, which the waves do not describe."""
    c = costs()
    w = workload(I=I, O=200, budget=budget)
    w.fixed_lengths = np.array([True])
    sim = simulate(c, w, concurrency=concurrency, n_requests=12 * concurrency, whole_run=True, range_ratio=1.0)[4 * concurrency:]
    pt = serving.closed_loop(c, w, concurrency, 99.0)
    assert pt.ttft_median_s[0] == pytest.approx(np.median(sim), rel=0.15)
    assert pt.ttft_mean_s[0] == pytest.approx(np.mean(sim), rel=0.15)
    varied = serving.closed_loop(c, workload(I=I, O=200, budget=budget), concurrency, 99.0)
    if I < budget < concurrency * I:  # several prompts a step, several steps a wave: a group waits for the previous group's step
        assert pt.ttft_median_s[0] > 1.5 * varied.ttft_median_s[0]


@pytest.mark.parametrize("concurrency", [16, pytest.param(64, marks=pytest.mark.slow)])
def test_closed_loop_ttft_tail_matches_the_simulation(concurrency):
    """Steady state (the starting burst dropped): p99 is the simulated p99, not the median;
    prompts that reach the engine at the same step share its budget."""
    c, w = costs(), workload(I=3000)
    sim = simulate(c, w, concurrency=concurrency, n_requests=30 * concurrency, whole_run=True)[5 * concurrency:]
    pt = serving.closed_loop(c, w, concurrency, 99.0)
    assert pt.ttft_q_s[0] > 1.2 * pt.ttft_median_s[0]
    assert pt.ttft_q_s[0] == pytest.approx(np.percentile(sim, 99), rel=0.2)
    assert pt.ttft_median_s[0] == pytest.approx(np.median(sim), rel=0.2)


def test_serving_path_adds_to_every_ttft():
    """Frontend + CPU per prompt token + one step of delayed output, on top of the engine's TTFT,
    closed and open loop; TPOT unchanged."""
    c, w = costs(), workload(I=2000)
    path = costs()
    path.frontend_s, path.cpu_s_per_input_token, path.output_delay_steps = 0.01, 2e-6, 1.0
    for run in (lambda cc: serving.closed_loop(cc, w, 1), lambda cc: serving.open_loop(cc, w, 0.5, 90.0)):
        a, b = run(c), run(path)
        assert b.tpot_s[0] == pytest.approx(a.tpot_s[0], rel=1e-3)  # closed loop: b a little lower
        assert b.ttft_median_s[0] - a.ttft_median_s[0] == pytest.approx(0.01 + 0.004 + a.step_s[0], rel=0.05)


@pytest.mark.parametrize("frac", [pytest.param(0.2, marks=pytest.mark.slow), 0.6, pytest.param(0.9, marks=pytest.mark.slow)])
def test_open_loop_matches_the_simulation(frac):
    c, w = costs(), workload()
    qps = frac * float(serving.saturation_qps(c, w)[0])
    pt = serving.open_loop(c, w, qps, 50.0)
    x_sim, tpot_sim, ttft_sim = simulate(c, w, qps=qps, n_requests=4000 if frac > 0.8 else 2000)
    assert x_sim == pytest.approx(qps, rel=0.05)
    assert pt.tpot_s[0] == pytest.approx(tpot_sim, rel=0.05)
    assert abs(pt.ttft_median_s[0] - ttft_sim) <= max(0.3 * ttft_sim, 0.02)


def test_explicit_formulas_at_a_batch():
    """tau(b) = t_d + b / Od x E, E = n (g(b + c) - g(b)) + A, lam = b / (Od tau): by hand at b = 100."""
    c, w = costs(), workload(I=1000, O=201)
    b = 100.0
    t_d = 0.012 + 0.00005 * 104 + 0.001  # batch padded to 104
    t_d_model, tau, t_m, n, E, lam = (float(v[0]) for v in serving.steps_at(c, w, np.array([b])))
    assert t_d_model == pytest.approx(t_d, rel=0.02)  # s_dec is log2-linear between 64 and 128
    assert n == 1
    assert E == pytest.approx(float(c.g(np.array([1100.0]))[0] - c.g(np.array([100.0]))[0]) + 0.006)
    assert tau == pytest.approx(t_d_model + b / 200 * E)
    assert lam == pytest.approx(b / (200 * tau))
    assert float(c.g(np.array([1000.0]))[0]) > float(c.g(np.array([100.0]))[0])  # more prompt tokens, more work


def test_long_prompts_take_several_chunks():
    c, w = costs(), workload(I=20000, O=100, budget=8192)
    _, _, _, n, _, _ = serving.steps_at(c, w, np.array([10.0]))
    assert n[0] == math.ceil(20000 / (8192 - 10))


def test_capacity_meets_the_targets_it_claims():
    c, w = costs(3), workload(3)
    cap = serving.capacity_qps(c, w, np.array([0.2, 0.5, 10.0]), np.array([0.02, 0.03, 10.0]), 99.0)
    sat = serving.saturation_qps(c, w)
    assert 0.99 * sat[2] <= cap[2] <= sat[2]  # loose targets: capacity is (nearly) saturation
    assert 0 < cap[0] < cap[1] < cap[2]
    pt = serving.open_loop(c, w, cap * 0.999, 99.0)
    assert (pt.tpot_s[:2] <= np.array([0.02, 0.03]) * 1.001).all()
    assert (pt.ttft_q_s[:2] <= np.array([0.2, 0.5]) * 1.001).all()


def test_saturated_open_loop_is_unstable():
    c, w = costs(), workload()
    pt = serving.open_loop(c, w, 1.01 * float(serving.saturation_qps(c, w)[0]))
    assert not pt.stable[0] and np.isinf(pt.tpot_s[0])


def test_running_batch_is_the_first_crossing_where_padding_makes_lam_fall():
    """Past a capture size the decode batch is padded to the next one, so lam(b) falls there: as
    the load rises, b stops at the first b where lam reaches the rate, not at a later crossing."""
    s_dec = 0.004 + 0.002 * serving.BATCH_GRID  # a steep step: padding 9 -> 16 costs 14 ms
    c = serving.StepCosts(s_dec[None, :], G_TOK[None, :], np.array([0.006]), np.array([0.001]),
                          np.array([1, 2, 4, 8, 16, 32, 64], dtype=float))
    w = workload(I=1000, O=200, slots=300)  # bisection's first midpoints (150, 75, 37.5) fall in low stretches
    grid = np.linspace(0.01, float(serving._b_max(w, c)[0]), 30001)
    lam = serving.steps_at(c, serving.Workload(*(np.full(len(grid), float(v[0])) for v in
                                                 (w.input_tokens, w.output_tokens, w.budget_tokens, w.max_seqs))), grid)[5]
    assert (np.diff(lam) < 0).any()  # the case this is about: lam is not monotone
    rates = np.array([0.3, 0.6, 0.79, 0.9]) * lam.max()  # (past the capture sizes lam rises slowly to its peak)
    got = serving.running_batch(c.take(np.zeros(len(rates), dtype=int)), w.take(np.zeros(len(rates), dtype=int)), rates)
    first = np.array([grid[np.argmax(lam >= q)] for q in rates])
    assert got == pytest.approx(first, abs=2 * (grid[1] - grid[0]))
    peaks = [lam[np.argmin(abs(grid - cs))] for cs in (8, 16, 32, 64)] + [lam[-1]]
    assert float(serving.saturation_qps(c, w)[0]) == pytest.approx(max(peaks), rel=1e-3)  # the capture sizes' peak counts
    pt = serving.open_loop(c.take(np.zeros(len(rates), dtype=int)), w.take(np.zeros(len(rates), dtype=int)), rates)
    assert pt.stable.all()  # past lam at the largest batch, still below the peak: served


def apart_costs(n=1):
    c = costs(n)
    c.prefill_apart = 1.0
    return c


@pytest.mark.parametrize("concurrency", [1, 16, pytest.param(128, marks=pytest.mark.slow)])
def test_prompts_apart_from_the_decodes_match_the_simulation(concurrency):
    """SGLang's scheduler: a prompt's prefill runs as a step of its own while the decodes wait."""
    c, w = apart_costs(), workload()
    pt = serving.closed_loop(c, w, concurrency)
    x_sim, tpot_sim, ttft_sim = simulate(c, w, concurrency=concurrency, n_requests=60 if concurrency == 1 else max(600, 6 * concurrency),
                                         apart=True)
    # prompts per prefill step: completions a decode step taken as Poisson; the simulated lengths end
    # more regularly, so at high concurrency throughput is up to 6 % apart (TPOT within 3 %)
    assert pt.lam[0] == pytest.approx(x_sim, rel=0.05 if concurrency < 100 else 0.07)
    assert pt.tpot_s[0] == pytest.approx(tpot_sim, rel=0.05)
    assert abs(pt.ttft_median_s[0] - ttft_sim) <= max(0.3 * ttft_sim, 0.01)
    mixed = serving.closed_loop(costs(), w, concurrency)
    assert pt.tpot_s[0] > mixed.tpot_s[0] or concurrency == 1  # a prompt pays its own forward pass (the weights read again)


def test_prompts_apart_open_loop_matches_the_simulation():
    c, w = apart_costs(), workload()
    qps = 0.6 * float(serving.saturation_qps(c, w)[0])
    pt = serving.open_loop(c, w, qps, 50.0)
    x_sim, tpot_sim, ttft_sim = simulate(c, w, qps=qps, n_requests=2000, apart=True)
    assert x_sim == pytest.approx(qps, rel=0.05)
    assert pt.tpot_s[0] == pytest.approx(tpot_sim, rel=0.05)
    assert abs(pt.ttft_median_s[0] - ttft_sim) <= max(0.3 * ttft_sim, 0.02)
