"""MoE routing statistics: how many distinct experts a step touches, and how many token-expert
pairs land on the busiest expert-parallel (EP) rank.

Legend: E routed experts, k experts per token (top-k), T tokens in the step, ep EP ranks,
E_s = ceil(E / ep) experts on the busiest rank (contiguous placement: rank r holds experts
r*E_s .. (r+1)*E_s - 1).

Routing model. Each token picks k distinct experts; q_i is the probability that expert i is
among them (sum_i q_i = k). Tokens route independently, so

    P(expert i untouched after T tokens) = (1 - q_i)^T
    expected distinct experts touched in a set S = sum_{i in S} (1 - (1 - q_i)^T)
    expected token-expert pairs on S = T * sum_{i in S} q_i.

Uniform routing: q_i = k / E exactly (a uniformly random k-subset contains a given expert with
probability k / E), so the busiest rank touches E_s * (1 - (1 - k/E)^T) experts, the issue's
formula, exact for any k.

Skewed routing (`routing_skew` s > 0): expert popularity is Zipf, p_i proportional to i^-s over
i = 1..E, and the inclusion probabilities are q_i = min(1, c * p_i) with c chosen so that
sum q_i = k (inclusion probability proportional to popularity, capped at 1). This is the
approximation: real top-k routers do not sample proportionally to a fixed popularity. For k = 1,
q = p exactly; for s = 0 it reduces to k / E exactly.
Experts are numbered by popularity, so with contiguous placement rank 0 holds the most popular
experts and is the busiest both in pairs and in distinct experts: a pessimistic placement
(load-balanced placement would spread hot experts). The random imbalance between ranks under
uniform routing (balls in bins) is not modelled: every rank gets its expectation.
"""

from __future__ import annotations

import numpy as np


def inclusion_probabilities(num_experts: int, top_k: int, routing_skew: float = 0.0) -> np.ndarray:
    """q[i]: probability that expert i is among one token's top-k, i = 0..E-1 in popularity order.
    Shape [E]; sums to top_k; non-increasing."""
    E, k = int(num_experts), int(top_k)
    if k >= E:
        return np.ones(E)
    if routing_skew == 0:
        return np.full(E, k / E)
    p = np.arange(1, E + 1, dtype=float) ** (-float(routing_skew))
    p /= p.sum()
    # Water-filling: cap at 1 the experts whose c * p_i exceeds 1, rescale the rest to keep sum k.
    q = k * p
    capped = np.zeros(E, dtype=bool)
    for _ in range(E):
        over = (q > 1.0) & ~capped
        if not over.any():
            break
        capped |= over
        free = ~capped
        q = np.where(capped, 1.0, p * (k - capped.sum()) / p[free].sum())
    return np.minimum(q, 1.0)


def _untouched_prob(q: float, tokens: np.ndarray) -> np.ndarray:
    """(1 - q)^T computed as exp(T * log1p(-q)), exact 0 for q = 1."""
    if q >= 1.0:
        return np.zeros_like(tokens)
    return np.exp(tokens * np.log1p(-q))


def busiest_rank_load(q: np.ndarray, tokens, experts_per_rank) -> tuple[np.ndarray, np.ndarray]:
    """Expected (distinct experts touched, token-expert pairs) on the busiest EP rank.

    q: [E] inclusion probabilities (non-increasing); tokens, experts_per_rank: arrays (broadcast),
    experts_per_rank = E_s = ceil(E / ep). Both outputs have the broadcast shape.
    """
    T, Es = np.broadcast_arrays(np.asarray(tokens, dtype=float), np.asarray(experts_per_rank, dtype=float))
    E = len(q)
    Es = np.minimum(Es, E)
    cumq = np.concatenate([[0.0], np.cumsum(q)])
    pairs = T * cumq[Es.astype(int)]
    if np.all(q == q[0]):  # uniform: closed form
        touched = Es * (1.0 - _untouched_prob(float(q[0]), T))
        return touched, pairs
    # Skewed: sum over the busiest rank's experts, once per distinct E_s and distinct T.
    touched = np.empty(T.shape)
    for es in np.unique(Es):
        sel = Es == es
        uT, inverse = np.unique(T[sel], return_inverse=True)
        acc = np.zeros(uT.shape)
        for i in range(int(es)):
            acc += 1.0 - _untouched_prob(float(q[i]), uT)
        touched[sel] = acc[inverse.ravel()]
    return touched, pairs


def total_touched(q: np.ndarray, tokens) -> np.ndarray:
    """Expected distinct experts touched over all E experts (all ranks together)."""
    return busiest_rank_load(q, tokens, len(q))[0]


def uniform_touched_per_shard(num_experts: int, top_k: int, tokens, ep=1) -> np.ndarray:
    """The issue's closed form E_s * (1 - (1 - k/E)^T), E_s = E / ep (for tests and reports)."""
    T = np.asarray(tokens, dtype=float)
    Es = num_experts / np.asarray(ep, dtype=float)
    return Es * (1.0 - (1.0 - top_k / num_experts) ** T)
