"""Serving model: the engine's scheduler (vLLM V1 / SGLang continuous batching with chunked
prefill) in closed form, vectorised over configurations. No package imports.

One replica runs engine steps. A step holds every running sequence's next decode token and, in
the token budget left (max_num_batched_tokens - decodes), chunks of waiting prompts, FCFS: the
prefill rides in the same forward pass as the decodes (vLLM V1's chunked prefill). Where prompts
run apart (StepCosts.prefill_apart: SGLang, whose enable_mixed_chunk is off by default), the
waiting prompts take a prefill step of their own over the whole budget, g(p) + h, and the decodes
wait it out; the formulas below hold with that step in place of the prompt tokens' share of a
decode step (StepCosts.prompt_work, prompt_step) and m / (1 - e^-m) prompts in a prefill step
that has any (m = b / Od arriving a decode step).
From the performance model, per configuration (arrays over configurations):
    s_dec(b)   decode step of b sequences (their KV at the mean decoding length), b on BATCH_GRID
    g(T)       the step's work that grows with tokens, for T prompt tokens (no attention), T on TOKEN_GRID
    A          attention of one whole prompt of I tokens
    h          host time per step (scheduling, sampling, detokenising) not hidden behind the GPU
Requests: I input, O output tokens (Od = O - 1 decode steps after the first token, which the
prefill step emits). A decode batch is padded up to the engine's CUDA-graph capture size.

Steady state with b sequences decoding (the fluid model; everything is explicit in b):
    chunk c = min(I, budget - b), n = ceil(I / c) steps per prompt; a step that carries prompts
    holds p = min(max(c, b I / Od), budget - b) of their tokens (several prompts share a step)
    E(b)   = I x (g(b + p) - g(b)) / p + A         GPU time one prompt adds to the steps it rides
    t_d(b) = s_dec(pad(b)) + h                     a decode-only step
    tau(b) = t_d(b) + (b / Od) x E(b)              the mean step: lam x tau = b / Od (Little's law)
    lam(b) = b / (Od x tau(b))                     the arrival rate that keeps b sequences decoding
    TPOT   = tau(b);  ITL median = t_d(b) when under half the steps carry a prompt, else the mixed step
    TTFT   = n x t_m(b) + W_prefill + W_admission + the step in flight (q x tau(b) open loop; tau(b) closed loop:
             a client's next request reaches the engine after the step that follows its last token has started)
             t_m(b) = t_d(b) + g(b + p) - g(b) + A p / I   a step that carries prompt tokens
             W_prefill: the prompts' queue for the token budget, M/D/1 (load lam x I x tau / (budget - b));
             none in closed loop (clients send at a step's end: regular arrivals, Kingman's formula)
             W_admission: the wait for one of B sequence slots (max_num_seqs and KV capacity),
             M/D/c by Sakasegawa's approximation (c = B, service Od x tau + TTFT)
    waits:  mean W = rho S / (2 (1 - rho)); P(W > t) ~ P_w exp(-t P_w / W): W_q = (W / P_w) ln(P_w / (1 - q))
Open loop (Poisson arrivals at a QPS): the smallest b with lam(b) = QPS (lam rises with b except
where the decode batch is padded to the next capture size: running_batch). The replica saturates
at lam's peak up to B. Closed loop (C clients, a new request when one finishes, as
benchmark clients run): b + X x TTFT = C with X = lam(b), solved for b; past B the rest wait in
the engine's queue (Little: TTFT = (C - B) / X + the prompt's own steps).
Serving path (per request, off the engine's steps; StepCosts.frontend_s, cpu_s_per_input_token,
output_delay_steps): every TTFT adds the frontend (HTTP, IPC, detokenising, SSE), the CPU time per
prompt token (tokenising), and, where the engine overlaps or outputs asynchronously, one mean step
tau: the first token leaves after the step that follows the one computing it.
How a closed loop's prompts reach the engine, and the TTFT distribution that gives (moeprof.arrivals):
by chance at the same step (the steady state), all at once (a finite run's starting burst), or in
waves (every request of the same lengths).
Capacity at latency targets: the largest b (then lam(b)) whose TPOT and TTFT meet them.
tests/test_serving.py checks all of this against a step-by-step simulation of the scheduler.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import arrivals, queues

BATCH_GRID = np.array([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024], dtype=float)
TOKEN_GRID = 2.0 ** np.arange(0, 16)  # 1 .. 32768 tokens
MAX_RUNNING = 65536.0  # a bound on the sequences decoding, for the solvers, above any engine's cap (a workload without slots)
BISECT_ITERS = 32  # a 2^-32 relative bracket: the calibration fit takes finite differences of these solutions in steps of 1e-4


def log2_interp(grid_values: np.ndarray, x, grid: np.ndarray) -> np.ndarray:
    """Values on a power-of-two grid ([N, len(grid)]) at x ([N]), linear in log2(x), clamped to
    the grid's ends; below the first point (x < grid[0]) linear in x toward 0 at x = 0."""
    n = len(grid)
    lx = np.log2(np.clip(np.asarray(x, dtype=float), grid[0], grid[-1])) - math.log2(grid[0])
    k = np.minimum(lx.astype(np.intp), n - 2)  # lx >= 0: truncation is the floor
    t = lx - k
    flat = grid_values.ravel()
    base = np.arange(grid_values.shape[0]) * n + k
    lo_v, hi_v = flat.take(base), flat.take(base + 1)
    return lo_v + (hi_v - lo_v) * t


def interp_step(s_grid: np.ndarray, b) -> np.ndarray:
    """Decode step time at batch b (>= 1) from a [N, len(BATCH_GRID)] grid."""
    return log2_interp(s_grid, np.maximum(np.asarray(b, dtype=float), 1.0), BATCH_GRID)


def pad_to_capture(b: np.ndarray, capture_sizes: np.ndarray | None) -> np.ndarray:
    """The decode batch the engine runs: b rounded up to the next CUDA-graph capture size
    (b above the largest runs unpadded)."""
    b = np.maximum(np.ceil(np.asarray(b, dtype=float) - 1e-9), 1.0)
    if capture_sizes is None or not len(capture_sizes):
        return b
    cs = np.asarray(capture_sizes, dtype=float)
    i = np.searchsorted(cs, b)
    return np.where(i < len(cs), cs[np.minimum(i, len(cs) - 1)], b)


@dataclass
class StepCosts:
    """Per configuration (arrays of length N): decode steps on BATCH_GRID ([N, 11]), the
    token-proportional work on TOKEN_GRID ([N, 16]), a prompt's attention and the host time per
    step (s)."""

    s_dec: np.ndarray
    g_tok: np.ndarray
    attn_prompt_s: np.ndarray
    host_s: np.ndarray
    capture_sizes: np.ndarray | None = None
    frontend_s: np.ndarray | float = 0.0  # per request: HTTP, IPC, detokenising, SSE
    cpu_s_per_input_token: np.ndarray | float = 0.0  # per prompt token: tokenising
    output_delay_steps: np.ndarray | float = 0.0  # 1: the first token leaves one step after its own
    prefill_apart: np.ndarray | float = 0.0  # 1: prompts run in prefill steps of their own, decodes paused (SGLang)

    def take(self, idx) -> StepCosts:
        pick = lambda v: v if np.ndim(v) == 0 else np.asarray(v)[idx]  # noqa: E731
        return StepCosts(self.s_dec[idx], self.g_tok[idx], self.attn_prompt_s[idx], self.host_s[idx], self.capture_sizes,
                         pick(self.frontend_s), pick(self.cpu_s_per_input_token), pick(self.output_delay_steps),
                         pick(self.prefill_apart))

    def apart(self) -> np.ndarray:
        return np.asarray(self.prefill_apart, dtype=float) > 0.5

    def prompt_room(self, budget_tokens, b) -> np.ndarray:
        """Prompt tokens a step can take: the token budget less the b decodes riding in it, or the
        whole budget where prompts run in prefill steps of their own."""
        b = np.asarray(b, dtype=float)
        return np.maximum(np.where(self.apart(), budget_tokens, budget_tokens - b), 1.0)

    def prompt_work(self, b, tokens) -> np.ndarray:
        """GPU and host time `tokens` prompt tokens add to the steps of b decoding sequences, without
        their attention: riding in a decode step, g(b + p) - g(b); in a prefill step of their own,
        that step's g(p) + host time."""
        b, tokens = np.asarray(b, dtype=float), np.asarray(tokens, dtype=float)
        apart = self.apart()
        if not apart.any():  # the planner's vLLM rows: one branch
            return self.g(b + tokens) - self.g(b)
        if apart.all():
            return self.g(tokens) + self.host_s
        return np.where(apart, self.g(tokens) + self.host_s, self.g(b + tokens) - self.g(b))

    def prompt_step(self, b, tokens, t_d, input_tokens, work=None) -> np.ndarray:
        """A step that carries `tokens` prompt tokens (of prompts of input_tokens): the decode step
        t_d with them in it, or a prefill step alone (the decodes wait it out); `work`: their
        prompt_work where the caller has it."""
        work = self.prompt_work(b, tokens) if work is None else work
        mixed = np.where(self.apart(), 0.0, t_d)
        return mixed + work + self.attn_prompt_s * np.asarray(tokens, dtype=float) / input_tokens

    def path_s(self, input_tokens, step_s) -> np.ndarray:
        """The serving path a TTFT adds to the engine's time: frontend + CPU per prompt token +
        output_delay_steps x the step after the prompt's (s)."""
        return self.frontend_s + self.cpu_s_per_input_token * np.asarray(input_tokens, dtype=float) + self.output_delay_steps * step_s

    def g(self, tokens) -> np.ndarray:
        t = np.asarray(tokens, dtype=float)
        v = log2_interp(self.g_tok, np.maximum(t, 1.0), TOKEN_GRID)
        return np.where(t < 1.0, v * np.maximum(t, 0.0), v)  # g(0) = 0

    def decode_only(self, b) -> np.ndarray:
        return interp_step(self.s_dec, pad_to_capture(b, self.capture_sizes)) + self.host_s


@dataclass
class Workload:
    input_tokens: np.ndarray  # I per configuration
    output_tokens: np.ndarray  # O
    budget_tokens: np.ndarray  # max_num_batched_tokens
    max_seqs: np.ndarray  # B: min(max_num_seqs, sequences the KV cache holds)
    num_prompts: np.ndarray | None = None  # closed loop: prompts the client sends in all (None or inf: an endless run)
    fixed_lengths: np.ndarray | None = None  # closed loop: every request has exactly I and O tokens (None: all False)

    def take(self, idx) -> Workload:
        n = None if self.num_prompts is None else self.num_prompts[idx]
        f = None if self.fixed_lengths is None else self.fixed_lengths[idx]
        return Workload(self.input_tokens[idx], self.output_tokens[idx], self.budget_tokens[idx], self.max_seqs[idx], n, f)


@dataclass
class OperatingPoint:
    """Arrays over configurations; times in seconds, rates in requests/s."""

    b: np.ndarray  # sequences decoding
    lam: np.ndarray  # requests/s through the replica
    tpot_s: np.ndarray
    itl_median_s: np.ndarray
    ttft_mean_s: np.ndarray
    ttft_median_s: np.ndarray
    ttft_q_s: np.ndarray  # at the requested percentile
    e2el_mean_s: np.ndarray
    step_s: np.ndarray  # mean step
    decode_step_s: np.ndarray  # a decode-only step
    prefill_share: np.ndarray  # fraction of GPU time the prompts add
    stable: np.ndarray  # bool
    ttft_steady_mean_s: np.ndarray | None = None  # a finite run (closed_loop with num_prompts): the steady state's,
    ttft_steady_median_s: np.ndarray | None = None  # before the starting burst is mixed in


def _od(w: Workload) -> np.ndarray:
    return np.maximum(w.output_tokens - 1.0, 1.0)


def steps_at(c: StepCosts, w: Workload, b):
    """(t_d, tau, t_m, n, E, lam) at b decoding sequences (arrays)."""
    b = np.asarray(b, dtype=float)
    od = _od(w)
    room = c.prompt_room(w.budget_tokens, b)
    chunk = np.minimum(w.input_tokens, room)
    n = np.ceil(w.input_tokens / chunk - 1e-9)
    # prompt tokens in a step that has some: b / Od prompts arrive a decode step; apart, a prefill step
    # takes those that came since the last (m / (1 - e^-m) of them given one or more, m = b / Od)
    m = b / od
    apart = c.apart()
    per_batch = np.where(apart, m / -np.expm1(-np.maximum(m, 1e-12)), m) if apart.any() else m
    p_step = np.minimum(np.maximum(chunk, per_batch * w.input_tokens), room)
    work = c.prompt_work(b, p_step)
    E = w.input_tokens * work / p_step + c.attn_prompt_s
    t_d = c.decode_only(b)
    tau = t_d + b / od * E
    t_m = c.prompt_step(b, p_step, t_d, w.input_tokens, work)
    lam = b / (od * tau)
    return t_d, tau, t_m, n, E, lam


def _point(c: StepCosts, w: Workload, b, percentile: float, open_loop: bool, queued=None, busy=None, clients=None) -> OperatingPoint:
    t_d, tau, t_m, n, E, lam = steps_at(c, w, b)
    q = percentile / 100.0
    od = _od(w)
    path = c.path_s(w.input_tokens, tau)
    room = c.prompt_room(w.budget_tokens, b)
    # the prompts' server: a prompt's share of the steps' budget, or (prefill apart) its own prefill steps
    s_p = np.where(c.apart(), E, tau * w.input_tokens / room)
    wp_mean, wp_q = queues.mdl_wait(lam * s_p, s_p, q)
    _, wp_med = queues.mdl_wait(lam * s_p, s_p, 0.5)
    base = n * t_m
    stable = (lam * s_p < 1.0) & (b <= w.max_seqs * (1 + 1e-9))
    if open_loop:
        rho_slots = b / np.maximum(w.max_seqs, 1.0)
        hold = od * tau + base
        wa_mean, wa_q = queues.slot_wait(rho_slots, np.maximum(w.max_seqs, 1.0), hold, q)
        _, wa_med = queues.slot_wait(rho_slots, np.maximum(w.max_seqs, 1.0), hold, 0.5)
        ttft_mean = base + 0.5 * tau + wp_mean + wa_mean + path
        ttft_med = base + 0.5 * tau + wp_med + wa_med + path
        ttft_q = base + q * tau + wp_q + wa_q + path
    else:  # clients send a request when one ends, at a step's end: regular arrivals, no prefill queue (Kingman);
        # the request reaches the engine after its next step has started, so it waits that step out
        # (busy: 1 when other clients' sequences keep the engine stepping, 0 for a lone client); it
        # shares its prefill steps with the prompts that arrive at the same step (_shared_prefill)
        extra = (np.zeros_like(tau) if queued is None else queued) + (1.0 if busy is None else busy) * tau + path
        own_mean, own_med, own_q = arrivals.shared_prefill(c, w, b, t_d, percentile)
        ttft_mean, ttft_med, ttft_q = own_mean + extra, own_med + extra, own_q + extra
        if w.fixed_lengths is not None and clients is not None and np.any(w.fixed_lengths):
            wave = arrivals.waves(c, w, b, clients, percentile)
            fixed_extra = (np.zeros_like(tau) if queued is None else queued) + c.path_s(w.input_tokens, 0.0)
            ttft_mean, ttft_med, ttft_q = (np.where(w.fixed_lengths, v + fixed_extra, old)
                                           for v, old in zip(wave, (ttft_mean, ttft_med, ttft_q)))
    mixed_share = np.minimum(1.0, b * n / od)  # decode steps a prompt's step joins (or, apart, interrupts)
    itl_med = np.where(mixed_share < 0.5, t_d, np.where(c.apart(), t_d + t_m, t_m))
    unstable = ~stable
    inf = np.inf
    return OperatingPoint(
        b=b, lam=np.where(unstable, lam, lam), tpot_s=np.where(unstable, inf, tau), itl_median_s=np.where(unstable, inf, itl_med),
        ttft_mean_s=np.where(unstable, inf, ttft_mean), ttft_median_s=np.where(unstable, inf, ttft_med),
        ttft_q_s=np.where(unstable, inf, ttft_q), e2el_mean_s=np.where(unstable, inf, ttft_mean + od * tau),
        step_s=tau, decode_step_s=t_d, prefill_share=b / od * E / tau, stable=stable,
    )


def _b_max(w: Workload, c: StepCosts) -> np.ndarray:
    """The most sequences that can decode: the slots, and the token budget (b + b I / Od <= budget)
    where prompts share the decodes' steps."""
    by_budget = np.where(c.apart(), MAX_RUNNING, w.budget_tokens * _od(w) / (w.input_tokens + _od(w)))
    return np.maximum(np.minimum(w.max_seqs, by_budget), 1e-6)


def _bisect(f, lo, hi, iters=BISECT_ITERS):
    """Largest x in [lo, hi] with f(x) True, assuming f is True then False along x (arrays)."""
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        ok = f(mid)
        lo = np.where(ok, mid, lo)
        hi = np.where(ok, hi, mid)
    return lo


def saturation_qps(c: StepCosts, w: Workload) -> np.ndarray:
    """Requests/s at which the replica saturates: lam at its peak, at the most sequences that can
    decode or at the capture size at or below them (running_batch)."""
    hi = _b_max(w, c)
    cap = _capture_at_or_below(c, hi)
    return np.maximum(steps_at(c, w, hi)[5], np.where(cap > 0, steps_at(c, w, np.maximum(cap, 1e-9))[5], 0.0))


def _capture_at_or_below(c: StepCosts, b) -> np.ndarray:
    """The largest CUDA-graph capture size <= b (0 where none is, or the engine captures none)."""
    b = np.asarray(b, dtype=float)
    if c.capture_sizes is None or not len(c.capture_sizes):
        return np.zeros_like(b)
    cs = np.asarray(c.capture_sizes, dtype=float)
    i = np.searchsorted(cs, b * (1 + 1e-12), side="right") - 1
    return np.where(i >= 0, cs[np.maximum(i, 0)], 0.0)


def running_batch(c: StepCosts, w: Workload, qps) -> np.ndarray:
    """Sequences decoding at Poisson arrivals of `qps` requests/s: the smallest b with lam(b) = qps
    (b at its most when qps is past what the replica can take).

    lam(b) is not monotone: past each capture size the decode batch is padded to the next one, so
    lam drops there and rises again through the stretch to that next size. As the load rises, b
    grows until lam first reaches qps: within the first stretch whose capture size (the stretch's
    peak) reaches qps. Plain bisection finds a crossing; the stretches below it are searched by
    bisection over capture sizes (lam at the capture sizes rises with them), then inside the
    first one that reaches qps."""
    qps = np.asarray(qps, dtype=float) * np.ones(len(w.input_tokens))
    hi = _b_max(w, c)
    b = np.maximum(_bisect(lambda x: steps_at(c, w, x)[5] <= qps, np.zeros_like(hi), hi), 1e-9)
    if c.capture_sizes is None or not len(c.capture_sizes):
        return b
    cs = np.asarray(c.capture_sizes, dtype=float)
    m = np.searchsorted(cs, b)  # capture sizes below the crossing found
    lo_i, hi_i = np.zeros_like(m), m.copy()  # first index in [0, m) with lam >= qps; m: none
    for _ in range(int(np.ceil(np.log2(len(cs) + 1)))):
        mid = (lo_i + hi_i) // 2
        reach = steps_at(c, w, cs[np.minimum(mid, len(cs) - 1)])[5] >= qps
        go = lo_i < hi_i
        hi_i = np.where(go & reach, mid, hi_i)
        lo_i = np.where(go & ~reach, mid + 1, lo_i)
    earlier = np.flatnonzero(lo_i < m)
    if len(earlier):
        i = lo_i[earlier]
        left = np.where(i > 0, cs[np.maximum(i - 1, 0)], 0.0)
        ce, we = c.take(earlier), w.take(earlier)
        b[earlier] = np.maximum(_bisect(lambda x: steps_at(ce, we, x)[5] <= qps[earlier], left, cs[i]), 1e-9)
    return b


def point_at(c: StepCosts, w: Workload, b, qps, percentile: float = 99.0) -> OperatingPoint:
    """The open-loop operating point at `qps` whose running batch b (running_batch) is known;
    unstable (inf latency) at or past saturation."""
    qps = np.asarray(qps, dtype=float) * np.ones(len(w.input_tokens))
    b = np.asarray(b, dtype=float)
    pt = _point(c, w, np.minimum(b, _b_max(w, c)), percentile, open_loop=True)
    sat = (b >= _b_max(w, c) * (1 - 1e-6)) | (qps >= saturation_qps(c, w) * (1 - 1e-9))
    pt.stable = pt.stable & ~sat
    for k in ("tpot_s", "itl_median_s", "ttft_mean_s", "ttft_median_s", "ttft_q_s", "e2el_mean_s"):
        setattr(pt, k, np.where(pt.stable, getattr(pt, k), np.inf))
    pt.lam = qps
    return pt


def open_loop(c: StepCosts, w: Workload, qps, percentile: float = 99.0) -> OperatingPoint:
    """The operating point at Poisson arrivals of `qps` requests/s per replica (unstable, inf
    latency, at or past saturation)."""
    return point_at(c, w, running_batch(c, w, qps), qps, percentile)


def closed_loop(c: StepCosts, w: Workload, concurrency, percentile: float = 99.0) -> OperatingPoint:
    """The operating point with `concurrency` requests always in the replica (benchmark clients)."""
    C = np.asarray(concurrency, dtype=float) * np.ones(len(w.input_tokens))
    hi = np.minimum(_b_max(w, c), C)
    busy = np.clip(C - 1.0, 0.0, 1.0)

    def in_system(x):
        pt = _point(c, w, np.maximum(x, 1e-9), percentile, open_loop=False, busy=busy, clients=C)
        return x + pt.lam * pt.ttft_mean_s

    b = _bisect(lambda x: in_system(x) <= C, np.zeros_like(hi), hi)
    b = np.maximum(b, 1e-9)
    pt = _point(c, w, b, percentile, open_loop=False, busy=busy, clients=C)
    waiting = np.maximum(C - in_system(b), 0.0)  # past the slots: the engine's waiting queue
    queued = waiting / np.maximum(pt.lam, 1e-12)
    pt = _point(c, w, b, percentile, open_loop=False, queued=queued, busy=busy, clients=C)
    if w.num_prompts is not None:
        pt.ttft_steady_mean_s, pt.ttft_steady_median_s = pt.ttft_mean_s.copy(), pt.ttft_median_s.copy()
        arrivals.finite_run(c, w, C, pt, percentile)
    return pt


def capacity_qps(c: StepCosts, w: Workload, ttft_target_s, tpot_target_s, percentile: float) -> np.ndarray:
    """Largest per-replica QPS meeting both latency targets at the percentile (0 when an idle
    replica misses one)."""
    hi = _b_max(w, c)

    def meets(x):
        pt = _point(c, w, np.maximum(x, 1e-9), percentile, open_loop=True)
        return (pt.tpot_s <= tpot_target_s) & (pt.ttft_q_s <= ttft_target_s) & pt.stable

    ok0 = meets(np.full_like(hi, 1e-6))
    b = _bisect(meets, np.zeros_like(hi), hi * (1 - 1e-6))
    lam = steps_at(c, w, np.maximum(b, 1e-9))[5]
    # lam is at its peak at a capture size (running_batch): the one at or below b may carry more
    cap = _capture_at_or_below(c, b)
    lam_cap = np.where((cap > 0) & meets(np.maximum(cap, 1e-9)), steps_at(c, w, np.maximum(cap, 1e-9))[5], 0.0)
    return np.where(ok0, np.maximum(lam, lam_cap), 0.0)
