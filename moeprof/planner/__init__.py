"""Planner: enumerate deployments, keep those that fit memory and meet the targets, rank by cost,
and write the PlanDocument every consumer reads.

Modules, one concept each: targets (what is asked), layouts (parallel layouts and memory
verdicts), latency (the performance model per layout), serve (capacity and latency at the
target QPS), economics (cost and energy), verdicts (typed reasons), rank (ranking, rejections,
closest misses, best per SKU), charts and throughput (the report's chart data), document (the typed plan
document), search (plan(): all of it in order); traffic (a pick through QPS per hour: units per
hour, static vs autoscaled vs reserved + pay-as-you-go cost; with traffic_file, traffic_prices,
traffic_doc).
"""

from .document import LAYOUT_KEYS, ROW_FIELDS, ROW_SCHEMA, PlanDocument, PlanRow, Rejection, SkuBest
from .rank import RANKING_RULE
from .search import default_profiles, plan
from .targets import SearchSpace, Targets
from .verdicts import RejectKind

__all__ = [
    "LAYOUT_KEYS",
    "RANKING_RULE",
    "ROW_FIELDS",
    "ROW_SCHEMA",
    "PlanDocument",
    "PlanRow",
    "Rejection",
    "RejectKind",
    "SearchSpace",
    "SkuBest",
    "Targets",
    "default_profiles",
    "plan",
]
