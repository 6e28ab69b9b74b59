"""Option values shared by plan, compare and evaluate: comma lists, price overrides, token prices."""

from __future__ import annotations

import math

from ...catalog.bounds import MAX_USD_PER_HOUR
from ...catalog.hardware.serverless import TokenPrice, user_token_price
from ...errors import FlagError

MIN_TOKEN_USD = 1e-4  # USD per million tokens: a hundredth of the cheapest published serverless price


def comma_list(value) -> tuple[str, ...] | None:
    """'a, B,c' (or a list) -> ('a', 'b', 'c'); None or empty -> None."""
    if value is None:
        return None
    parts = value.split(",") if isinstance(value, str) else [str(v) for v in value]
    out = tuple(v.strip().lower() for v in parts if v.strip())
    return out or None


def _number(text: str, lo: float, hi: float, flag: str, what: str) -> float:
    try:
        v = float(text)
    except (TypeError, ValueError):
        raise FlagError(flag, f"{text!r} is not a number") from None
    if not math.isfinite(v) or not lo <= v <= hi:
        raise FlagError(flag, f"{text} is out of range: {what} must be >= {lo:g} and <= {hi:g}")
    return v


def price_overrides(values) -> dict[str, float]:
    """--price-per-hour SKU=USD (repeatable; a dict {sku: usd} from Python)."""
    if isinstance(values, dict):
        values = [f"{k}={v}" for k, v in values.items()]
    elif isinstance(values, str):
        values = [values]
    out = {}
    for item in values or ():
        sku, sep, usd = str(item).partition("=")
        if not sep or not sku.strip():
            raise FlagError("--price-per-hour", f"{item!r}: expected SKU=USD_PER_HOUR, e.g. nd-h200-v5=110.5")
        v = _number(usd.strip(), 0, MAX_USD_PER_HOUR, "--price-per-hour", f"{sku.strip()}'s USD per hour")
        if v == 0:
            raise FlagError("--price-per-hour", f"{sku.strip()}: a price must be > 0 USD per hour")
        out[sku.strip().lower()] = v
    return out


def token_price(value, model) -> TokenPrice | None:
    """--token-price IN,OUT (USD per million input and output tokens; a pair from Python)."""
    if value is None:
        return None
    parts = [v.strip() for v in value.split(",")] if isinstance(value, str) else [str(v) for v in value]
    if len(parts) != 2:
        raise FlagError("--token-price", f"{value!r}: expected IN,OUT USD per million tokens, e.g. 0.25,1.0")
    usd = [_number(p, MIN_TOKEN_USD, 1e6, "--token-price", "USD per million tokens") for p in parts]
    return user_token_price(model.hf_id or model.name, usd[0], usd[1])
