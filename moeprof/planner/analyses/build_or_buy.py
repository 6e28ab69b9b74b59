"""Build or buy: the monthly token volume above which self-hosting a plan's recommendation costs less
than a serverless per-token price for the same model.

    blended $/M   (input tokens x input $/M + output tokens x output $/M) / (input + output tokens),
                  at the plan's per-request mix
    volume        a configuration's $/month / blended $/M x 1e6 tokens per month
    req/s         volume / ((input + output tokens per request) x 3,600 s x 730 h)

Above that volume the deployment is cheaper, as long as it has the capacity (more traffic than its
capacity needs more VMs, which the volume does not include). build_or_buy() does this for each
SKU's best configuration, for the plan document.
"""

from __future__ import annotations

from ...units import HOURS_PER_MONTH
from ..document.procurement import BuildOrBuy, BuildOrBuySku
from ..document.rows import SkuBest


def blended_usd_per_million(input_tokens: float, output_tokens: float, usd_in: float, usd_out: float) -> float:
    return (input_tokens * usd_in + output_tokens * usd_out) / (input_tokens + output_tokens)


def break_even_tokens_per_month(usd_per_month: float, input_tokens: float, output_tokens: float,
                                usd_in: float, usd_out: float) -> float:
    return usd_per_month / blended_usd_per_million(input_tokens, output_tokens, usd_in, usd_out) * 1e6


def tokens_per_month(qps: float, input_tokens: float, output_tokens: float) -> float:
    """Tokens (input + output) a month of `qps` requests per second carries."""
    return qps * (input_tokens + output_tokens) * 3600 * HOURS_PER_MONTH


def qps_of_tokens_per_month(tokens: float, input_tokens: float, output_tokens: float) -> float:
    return tokens / ((input_tokens + output_tokens) * 3600 * HOURS_PER_MONTH)


def build_or_buy(price, per_sku: list[SkuBest], qps: float, input_tokens: int, output_tokens: int) -> BuildOrBuy | None:
    """`price`: a catalog.hardware.serverless.TokenPrice, or None (then there is nothing to compare with)."""
    if price is None:
        return None
    usd_in, usd_out = price.usd_per_million_input, price.usd_per_million_output
    skus = []
    for s in per_sku:
        r = s.row
        if r is None:
            continue
        vol = break_even_tokens_per_month(r.usd_per_month, input_tokens, output_tokens, usd_in, usd_out)
        cap = r.qps_capacity
        skus.append(BuildOrBuySku(
            sku=s.sku, usd_per_month=r.usd_per_month, break_even_tokens_per_month=vol,
            break_even_qps=qps_of_tokens_per_month(vol, input_tokens, output_tokens),
            capacity_tokens_per_month=tokens_per_month(cap, input_tokens, output_tokens) if cap else None,
            capacity_qps=float(cap) if cap else None,
        ))
    return BuildOrBuy(
        provider=price.provider, model=price.model, tier=price.tier, usd_per_million_input_tokens=usd_in,
        usd_per_million_output_tokens=usd_out, date=price.date, source=price.source,
        blended_usd_per_million_tokens=blended_usd_per_million(input_tokens, output_tokens, usd_in, usd_out),
        plan_tokens_per_month=tokens_per_month(qps, input_tokens, output_tokens), skus=skus,
    )
