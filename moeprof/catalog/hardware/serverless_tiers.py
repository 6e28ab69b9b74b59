"""The serverless deployment tier of a region (moeprof/data/prices/serverless.json rows carry
deployment_tier: Global Standard, Data Zone, Regional).

    serverless_price_for_region(hf_id, region)   Azure AI Foundry's price of the model for a
                                                 deployment in `region`; the tier says which

Without a region: the Global Standard price, as catalog.serverless.azure_serverless_price.
An EU region: the Data Zone price where one exists (a Data Zone deployment in an EU region keeps
processing inside the EU member states; learn.microsoft.com, "Deployment types for Azure AI
Foundry Models"), else a Regional price listing that region, else Global Standard with a note
that its data may leave the EU. Any other region: Global Standard (the default, and the cheapest).
"""

from __future__ import annotations

from dataclasses import replace

from .serverless import (
    PROVIDER,
    TokenPrice,
    _key,
    azure_serverless_price,
    serverless_rows,
)

# Azure regions in EU member states (the EU data zone). The UK, Norway and Switzerland are not in it.
EU_REGIONS = frozenset({
    "austriaeast", "belgiumcentral", "francecentral", "francesouth", "germanynorth", "germanywestcentral",
    "italynorth", "northeurope", "polandcentral", "spaincentral", "swedencentral", "swedensouth", "westeurope",
})


def is_eu(region: str) -> bool:
    return region.strip().lower() in EU_REGIONS


def _azure_rows(hf_id: str, rows: list[dict]) -> list[dict]:
    return [r for r in rows if r["provider"].startswith(PROVIDER) and "WRONG" not in r["provider"].upper()
            and _key(r["model"]) == _key(hf_id)]


def _lists(row: dict, region: str) -> bool:
    """Whether a Regional row names `region` (its deployment_tier or regions text)."""
    text = f"{row.get('deployment_tier', '')} {row.get('regions', '')}".lower()
    return region in {w.strip(" ,:()") for w in text.split()}


def _price(r: dict, tier: str) -> TokenPrice:
    return TokenPrice(r["provider"], r["model"], tier, float(r["input_usd_per_million_tokens"]),
                      float(r["output_usd_per_million_tokens"]), r["date"], r["source"])


def serverless_price_for_region(hf_id: str | None, region: str | None, rows: list[dict] | None = None) -> TokenPrice | None:
    """The per-token price of a serverless deployment of the model in `region` (None: the default,
    Global Standard). TokenPrice.tier names the tier used and why."""
    if region is None:
        return azure_serverless_price(hf_id, rows)
    if not hf_id:
        return None
    rows = serverless_rows() if rows is None else rows
    found = _azure_rows(hf_id, rows)
    if not found:
        return None
    tier_of = lambda r: str(r.get("deployment_tier") or "")
    glob = next((r for r in found if tier_of(r) == "Global Standard"), None)
    region = region.strip().lower()
    if is_eu(region):
        zone = next((r for r in found if tier_of(r).startswith("Data Zone")), None)
        if zone is not None:
            return _price(zone, f"Data Zone EU (for {region})")
        regional = next((r for r in found if tier_of(r).startswith("Regional") and _lists(r, region)), None)
        if regional is not None:
            return _price(regional, f"Regional ({region}; no EU Data Zone price listed)")
        if glob is not None:
            return _price(glob, f"Global Standard (no EU Data Zone or {region} price listed: data may leave the EU)")
    elif glob is not None:
        return _price(glob, f"Global Standard (for {region})")
    p = azure_serverless_price(hf_id, rows)
    return replace(p, tier=f"{p.tier or 'tier not stated'} (the only tier listed)") if p is not None else None
