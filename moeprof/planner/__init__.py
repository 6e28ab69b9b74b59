"""Planner: enumerate deployments, keep those that fit memory and meet the targets, rank by cost,
and write the PlanDocument every consumer reads.

Sub-packages by concept (docs/ARCHITECTURE.md): document (the typed plan document and its records,
targets, bounds), search (layouts -> serve -> bands -> cost -> verdicts -> rank -> relax; plan():
all of it in order), analyses (chart data, procurement, traffic). The step costs and `evaluate`
live one room down, in moeprof.deployment.
"""

from .document.plan import LAYOUT_KEYS, ROW_FIELDS, ROW_SCHEMA, PlanDocument, PlanRow, Rejection, SkuBest
from .document.targets import SearchSpace, Targets
from .search.context import PlanContext, plan_context
from .search.plan import default_profiles, plan, plan_with
from .search.rank import RANKING_RULE
from .search.verdicts import RejectKind

__all__ = [
    "LAYOUT_KEYS",
    "RANKING_RULE",
    "ROW_FIELDS",
    "ROW_SCHEMA",
    "PlanContext",
    "PlanDocument",
    "PlanRow",
    "Rejection",
    "RejectKind",
    "SearchSpace",
    "SkuBest",
    "Targets",
    "default_profiles",
    "plan",
    "plan_context",
    "plan_with",
]
