"""Serverless per-token prices (moeprof/data/prices/serverless.json): what Azure AI Foundry charges
per million tokens for a model a plan might self-host instead.

    azure_serverless_price(hf_id)  Azure AI Foundry's price of the model with this Hugging Face id
                                   (an -FP8 release counts as the same model), preferring the
                                   Global Standard tier; rows their source marks as wrong are skipped
    user_token_price(model, in, out) a price given on the command line (--token-price) instead
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from ...inputs import parse_json_text

_LABEL = "moeprof/data/prices/serverless.json"
PROVIDER = "Azure AI Foundry"


@dataclass(frozen=True)
class TokenPrice:
    provider: str
    model: str
    tier: str
    usd_per_million_input: float
    usd_per_million_output: float
    date: str
    source: str


def _key(name: str) -> str:
    k = str(name).rsplit("/", 1)[-1].strip().lower()
    return k[: -len("-fp8")] if k.endswith("-fp8") else k


def serverless_rows() -> list[dict]:
    text = (resources.files("moeprof") / "data" / "prices" / "serverless.json").read_text(encoding="utf-8")
    return parse_json_text(text, _LABEL)["prices"]


def azure_serverless_price(hf_id: str | None, rows: list[dict] | None = None) -> TokenPrice | None:
    if not hf_id:
        return None
    rows = serverless_rows() if rows is None else rows
    found = [r for r in rows if r["provider"].startswith(PROVIDER) and "WRONG" not in r["provider"].upper()
             and _key(r["model"]) == _key(hf_id)]
    if not found:
        return None
    r = sorted(found, key=lambda r: r.get("deployment_tier") != "Global Standard")[0]
    return TokenPrice(r["provider"], r["model"], str(r.get("deployment_tier", "")), float(r["input_usd_per_million_tokens"]),
                      float(r["output_usd_per_million_tokens"]), r["date"], r["source"])


def user_token_price(model: str, usd_per_million_input: float, usd_per_million_output: float) -> TokenPrice:
    return TokenPrice("the given per-token price (--token-price)", model, "", float(usd_per_million_input), float(usd_per_million_output), "user",
                      "given with --token-price")
