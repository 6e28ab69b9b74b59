"""Shared CLI pieces: JSON output, value types that reject zero/negative/absurd values."""

from __future__ import annotations

import json
import math

import click

from ..catalog.bounds import MAX_USD_PER_HOUR
from ..fileio import json_safe


def emit_json(obj) -> None:
    """Print one JSON document (no NaN/inf: they become null)."""
    click.echo(json.dumps(json_safe(obj), indent=2, allow_nan=False))


class BoundedInt(click.ParamType):
    """An integer in [lo, hi]; the message names the limit. Bad values exit 1."""

    name = "integer"

    def __init__(self, lo: int = 1, hi: int = 10**9):
        self.lo, self.hi = lo, hi

    def convert(self, value, param, ctx):
        if isinstance(value, int) and not isinstance(value, bool):
            v = value
        else:
            try:
                v = int(str(value).replace("_", ""), 10)
            except ValueError:
                self.fail(f"{value!r} is not an integer", param, ctx)
        if v < self.lo or v > self.hi:
            self.fail(f"{v} is out of range: must be between {self.lo:,} and {self.hi:,}", param, ctx)
        return v


class BoundedFloat(click.ParamType):
    name = "number"

    def __init__(self, lo: float = 0.0, hi: float = 1e12, lo_open: bool = True):
        self.lo, self.hi, self.lo_open = lo, hi, lo_open

    def convert(self, value, param, ctx):
        try:
            v = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not math.isfinite(v) or v > self.hi or v < self.lo or (self.lo_open and v == self.lo):
            bound = f"> {self.lo:g}" if self.lo_open else f">= {self.lo:g}"
            self.fail(f"{value} is out of range: must be {bound} and <= {self.hi:g}", param, ctx)
        return v


def parse_prices(values) -> dict[str, float]:
    """--price-per-hour SKU=USD (repeatable)."""
    out = {}
    for item in values or ():
        sku, sep, usd = str(item).partition("=")
        if not sep or not sku:
            raise click.BadParameter(f"{item!r}: expected SKU=USD_PER_HOUR, e.g. nd-h200-v5=110.5", param_hint="--price-per-hour")
        try:
            out[sku.strip().lower()] = BoundedFloat(0, MAX_USD_PER_HOUR).convert(usd, None, None)
        except click.BadParameter as e:
            raise click.BadParameter(f"{sku}: {e.message} USD per hour", param_hint="--price-per-hour") from None
    return out
