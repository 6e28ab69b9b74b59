"""How a closed loop's prompts reach the engine, and the distribution of TTFT that gives (the
engine-side part: moeprof.serving adds the serving path and the queues). No package imports;
c, w and pt are serving.StepCosts, serving.Workload and serving.OperatingPoint (arrays over
configurations).

- By chance (the steady state, lengths that vary): the other clients' prompts that reach the engine
  at the same step are k ~ Poisson(b / Od) (b sequences, each ending in a step with probability
  1 / Od); the prompt is at position j (uniform in 0..k) of the k + 1 that share the budget FCFS:
  ceil((j + 1) I / room) steps of t_d + g(b + p_k) - g(b) + A p_k / I, p_k = min(room, (k + 1) I)
  (shared_prefill); where prompts run apart from the decodes (SGLang), prefill steps of
  g(p_k) + h + A p_k / I over the whole budget (serving.StepCosts.prompt_step).
- All at once: a finite benchmark run (C clients, N prompts in all: `vllm bench serve
  --max-concurrency C --num-prompts N`) starts with all C prompts at once; the k-th finishes
  prefill after ceil(k I / P) full steps (burst_ttft_s). The run's TTFT mean / median / percentile
  are those of the burst and the N - C steady-state TTFTs together (finite_run).
- In waves: when every request has the same lengths, requests that start prefill together end
  together, so the burst's pattern persists: a group of prompts arrives while the previous group's
  prefill step runs and takes a step of its own (waves).
Mean, median and the percentile asked are those of each distribution.
tests/test_serving.py checks each against a step-by-step simulation of the scheduler.
"""

from __future__ import annotations

import numpy as np


def _od(w) -> np.ndarray:
    return np.maximum(w.output_tokens - 1.0, 1.0)


def _decode_step(c, b) -> np.ndarray:
    """A decode step of b sequences, toward the host time alone as b -> 0 (no sequence decoding)."""
    b = np.asarray(b, dtype=float)
    return np.where(b < 1.0, c.host_s + b * (c.decode_only(1.0) - c.host_s), c.decode_only(np.maximum(b, 1.0)))


def quantile_of(values: np.ndarray, probs: np.ndarray, q: float) -> np.ndarray:
    """Per row of [N, M] values with probabilities: the smallest value whose cumulative probability is >= q."""
    order = np.argsort(values, axis=1)
    v = np.take_along_axis(values, order, axis=1)
    cdf = np.cumsum(np.take_along_axis(probs, order, axis=1), axis=1)
    i = np.minimum(np.sum(cdf < q * cdf[:, -1:] - 1e-12, axis=1), v.shape[1] - 1)
    return v[np.arange(len(v)), i]


def shared_prefill(c, w, b, t_d, percentile: float):
    """Closed loop: (mean, median, percentile) of a prompt's own prefill steps when k ~ Poisson(b / Od)
    other prompts reach the engine at the same step and it is at position j (uniform 0..k) of them."""
    m = np.asarray(b, dtype=float) / _od(w)
    room = c.prompt_room(w.budget_tokens, b)
    k_max = int(min(64, np.max(np.ceil(m + 6.0 * np.sqrt(m) + 2.0))))
    vals, probs = [], []
    pk, below = np.exp(-m), np.zeros_like(m)  # P(k), P(< k)
    for k in range(k_max + 1):
        p_tok = np.minimum(room, (k + 1) * w.input_tokens)
        step = c.prompt_step(b, p_tok, t_d, w.input_tokens)
        weight = pk if k < k_max else np.maximum(1.0 - below, 0.0)  # the last carries the tail
        below = below + pk
        for j in range(k + 1):
            vals.append(np.ceil((j + 1) * w.input_tokens / room - 1e-9) * step)
            probs.append(weight / (k + 1))
        pk = pk * m / (k + 1)
    v, p = np.stack(vals, axis=1), np.stack(probs, axis=1)
    mean = np.sum(v * p, axis=1) / np.sum(p, axis=1)
    return mean, quantile_of(v, p, 0.5), quantile_of(v, p, percentile / 100.0)


def waves(c, w, b, clients, percentile: float):
    """Closed loop with fixed lengths: (mean, median, percentile) of TTFT less the frontend and per-token
    CPU time. Requests of one length that start prefill together finish decoding together, so the
    starting burst's pattern persists: each wave of C = `clients` prompts refills the budget
    R = budget - b in G = ceil(C I / R) consecutive steps, of p = min(R, C I) prompt tokens and the last
    of the rest, p_last = C I - (G - 1) p (t_h and t_last: the decoding b_h = b - p / I beside them).
    A group arrives while the previous group's step runs (the first group: a decode step, or an idle
    engine when G = 1), takes n = ceil(I / R) steps of its own, and its first token waits the
    delayed-output step, the next group's (after the last group: a decode step). Groups weigh by
    their prompt tokens."""
    C = np.maximum(np.minimum(np.asarray(clients, dtype=float), w.max_seqs), 1.0)
    b = np.asarray(b, dtype=float)
    room = c.prompt_room(w.budget_tokens, b)
    wave = C * w.input_tokens
    p = np.minimum(room, wave)
    G = np.ceil(wave / room - 1e-9)
    p_last = wave - (G - 1.0) * p
    n = np.ceil(w.input_tokens / room - 1e-9)
    b_h = np.maximum(b - p / w.input_tokens, 0.0)
    t_d = _decode_step(c, b_h)
    step = lambda tok: c.prompt_step(b_h, tok, t_d, w.input_tokens)  # noqa: E731
    t_h, t_last = step(p), step(p_last)
    t_light = c.decode_only(np.maximum(b, 1.0))
    many = G >= 2
    delay = c.output_delay_steps
    first = np.where(many, t_light, 0.0) + n * t_h + delay * np.where(G >= 3, t_h, np.where(many, t_last, t_light))
    middle = t_h + n * t_h + delay * t_h
    last = t_h + n * t_last + delay * t_light
    share = p / wave
    vals = np.stack([first, middle, np.where(many, last, first)], axis=1)
    probs = np.stack([share, np.maximum(G - 2.0, 0.0) * share, np.where(many, p_last / wave, 0.0)], axis=1)
    mean = np.sum(vals * probs, axis=1)
    return mean, quantile_of(vals, probs, 0.5), quantile_of(vals, probs, percentile / 100.0)


def burst_ttft_s(c, w, clients) -> np.ndarray:
    """TTFT of the k-th of the `clients` prompts a benchmark client sends at once when it starts
    ([N, max clients], k = 1, 2, ...; nan past a configuration's own count), up to the sequence
    slots (the rest wait for a slot, as in steady state). Prefill fills each step's token budget
    FCFS: prompt k's last token is in step ceil(k I / P), P = budget - b_bar prompt tokens a step,
    b_bar = (k_max - 1) / 2 sequences decoding on average (the burst's prompts decode as they finish
    prefill; none in the first step); a step carries p = min(P, k_max I) prompt tokens:
    t = t_d(b_bar) + g(b_bar + p) - g(b_bar) + A p / I (t_d toward the host time alone as b_bar -> 0)."""
    k_max = np.maximum(np.floor(np.minimum(clients, w.max_seqs) + 1e-9), 1.0)
    b_bar = (k_max - 1.0) / 2.0
    room = c.prompt_room(w.budget_tokens, b_bar)
    p = np.minimum(room, k_max * w.input_tokens)
    t_d = _decode_step(c, b_bar)
    step = c.prompt_step(b_bar, p, t_d, w.input_tokens)
    k = np.arange(1, int(k_max.max()) + 1, dtype=float)[None, :]
    steps = np.ceil(k * w.input_tokens[:, None] / room[:, None] - 1e-9)
    path = c.path_s(w.input_tokens, step) * np.ones(len(step))
    return np.where(k <= k_max[:, None], steps * step[:, None] + path[:, None], np.nan)


def finite_run(c, w, clients, pt, percentile: float) -> None:
    """TTFT statistics over a finite benchmark run (vLLM `bench serve` / SGLang bench_serving with
    --max-concurrency C and --num-prompts N, InferenceX: N = 10 C; a single wave: N = C): the first
    C prompts leave at once (burst_ttft_s). Past the k sequence slots the rest wait for slots, which
    the burst's sequences free together, a cohort of k every k / lam (lam: the replica's requests/s):
    the j-th waits the last burst prompt's TTFT + ceil(j / k) k / lam. The other N - C prompts take
    the steady state's TTFT. Mean, median and the percentile of that mixture (the rank-ceil(qN)
    value) replace pt's, in place."""
    burst = burst_ttft_s(c, w, clients)
    n_burst = np.sum(~np.isnan(burst), axis=1).astype(float)
    C = np.maximum(np.floor(np.asarray(clients, dtype=float) * np.ones(len(n_burst)) + 1e-9), n_burst)
    over = C - n_burst  # the burst's prompts beyond the sequence slots
    srt = np.sort(np.where(np.isnan(burst), np.inf, burst), axis=1)  # nan (past k_max) last
    t0 = np.take_along_axis(srt, np.maximum(n_burst - 1, 0).astype(np.intp)[:, None], axis=1)[:, 0]
    lam = np.maximum(np.asarray(pt.lam, dtype=float), 1e-12)
    n_prompts = np.asarray(w.num_prompts, dtype=float) * np.ones(len(n_burst))
    total = np.where(np.isfinite(n_prompts), np.maximum(n_prompts, C), C)
    rest = total - C
    ss = pt.ttft_mean_s
    ok = np.isfinite(ss) & np.isfinite(n_prompts)
    k = np.maximum(n_burst, 1.0)
    period = k / lam  # a cohort of k slots frees every k / lam
    cohorts_below = np.floor(np.maximum(ss - t0, 0.0) / period)
    below = np.sum(srt < ss[:, None], axis=1) + np.minimum(over, k * cohorts_below)

    def first_c(i):  # the i-th (1-based) smallest TTFT of the first C prompts: the burst, then the cohorts
        v = np.take_along_axis(srt, np.clip(i - 1, 0, srt.shape[1] - 1).astype(np.intp)[:, None], axis=1)[:, 0]
        return np.where(i <= n_burst, v, t0 + np.ceil((i - n_burst) / k - 1e-9) * period)

    def at_rank(q):
        r = np.clip(np.ceil(q * total - 1e-9), 1, total)  # 1-based rank in the run
        return np.where(r <= below, first_c(r), np.where(r <= below + rest, ss, first_c(r - rest)))

    q_full, r_left = np.floor(over / k + 1e-9), over - np.floor(over / k + 1e-9) * k  # full cohorts, then a partial one
    waiting_sum = over * t0 + period * (k * q_full * (q_full + 1.0) / 2.0 + r_left * (q_full + 1.0))
    mean = (np.nansum(burst, axis=1) + waiting_sum + rest * ss) / total
    for name, v in (("ttft_mean_s", mean), ("ttft_median_s", at_rank(0.5)), ("ttft_q_s", at_rank(percentile / 100.0))):
        setattr(pt, name, np.where(ok, v, getattr(pt, name)))
    pt.e2el_mean_s = np.where(ok, mean + _od(w) * pt.tpot_s, pt.e2el_mean_s)
