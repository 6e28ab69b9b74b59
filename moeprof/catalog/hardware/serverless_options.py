"""Every per-token tier of a model in a region (moeprof/data/prices/serverless.json) and the
serverless options without a public price (moeprof/data/prices/serverless_options.json).

    tier_options(hf_id, region)   [(TokenPrice, note, applies)] for each Azure AI Foundry tier listed
                                  for the model: Global Standard, Data Zone, Regional; the note says
                                  whether the tier serves that region (or its data zone)
    not_published(hf_id)          ["provisioned throughput ...: not published (why)", ...]
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from ...inputs import parse_json_text
from .serverless import TokenPrice, _key, serverless_rows
from .serverless_tiers import _azure_rows, _lists, _price, is_eu

_LABEL = "moeprof/data/prices/serverless_options.json"


def _applies(row: dict, region: str | None) -> tuple[str, bool]:
    tier = str(row.get("deployment_tier") or "")
    if tier.startswith("Global"):
        return "any region; data may be processed in any Azure region", True
    if region is None:
        return "region not given", False
    if tier.startswith("Data Zone"):
        return ("data stays in the EU data zone" if is_eu(region) else "data stays in the region's data zone"), True
    return ("data stays in " + region, True) if _lists(row, region) else (f"does not list {region}", False)


def tier_options(hf_id: str | None, region: str | None, rows: list[dict] | None = None) -> list[tuple[TokenPrice, str, bool]]:
    if not hf_id:
        return []
    rows = serverless_rows() if rows is None else rows
    out = []
    for r in _azure_rows(hf_id, rows):
        tier = str(r.get("deployment_tier") or "tier not stated")
        out.append((_price(r, tier), *_applies(r, region.strip().lower() if region else None)))
    return out


@cache
def _options() -> tuple:
    text = (resources.files("moeprof") / "data" / "prices" / "serverless_options.json").read_text(encoding="utf-8")
    return tuple(parse_json_text(text, _LABEL)["options"])


def not_published(hf_id: str | None) -> list[str]:
    if not hf_id:
        return []
    return [f"{o['option']}: {o['status']} ({o['why']})" for o in _options() if _key(o["model"]) == _key(hf_id)]
