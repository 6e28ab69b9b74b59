"""Build or buy: the monthly token volume above which self-hosting a plan's recommendation costs less
than a serverless per-token price for the same model.

    blended $/M   (input tokens x input $/M + output tokens x output $/M) / (input + output tokens),
                  at the plan's per-request mix
    volume        recommended $/month / blended $/M x 1e6 tokens per month

Above that volume the deployment is cheaper, as long as it has the capacity (more traffic than its
capacity needs more VMs, which the volume does not include).
"""

from __future__ import annotations

from ..units import HOURS_PER_MONTH


def blended_usd_per_million(input_tokens: float, output_tokens: float, usd_in: float, usd_out: float) -> float:
    return (input_tokens * usd_in + output_tokens * usd_out) / (input_tokens + output_tokens)


def break_even_tokens_per_month(usd_per_month: float, input_tokens: float, output_tokens: float,
                                usd_in: float, usd_out: float) -> float:
    return usd_per_month / blended_usd_per_million(input_tokens, output_tokens, usd_in, usd_out) * 1e6


def tokens_per_month(qps: float, input_tokens: float, output_tokens: float) -> float:
    """Tokens (input + output) a month of `qps` requests per second carries."""
    return qps * (input_tokens + output_tokens) * 3600 * HOURS_PER_MONTH
