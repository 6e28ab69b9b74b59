"""The plan document: what `moeprof plan` decides, in one typed, versioned structure.

Every consumer reads this and only this: the CLI table, `--json`, `--csv`, the HTML report and
the exports. Everything a chart needs (memory per GPU, KV vs context, latency vs load, the best
row of each SKU) is computed when the plan is made (planner.analyses.charts) and stored here, so a report
never runs the model again and can never disagree with its plan.

ROW_SCHEMA is the one row schema: each field with its unit, the column name that carries the
unit in CSV, and its label and number format in the report's tables.
JSON: `to_json()` / `PlanDocument.from_json(doc, path)`; a file of another schema version is
refused with one line naming its version.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from ...catalog.bounds import MAX_USD_PER_HOUR
from ...errors import ConfigError
from . import bounds
from .codec import decode, encode, field
from .procurement import BuildOrBuy, BuildOrBuySku, PriceSensitivity  # noqa: F401 - part of the document's interface
from .redundancy import Redundancy
from .rows import (  # noqa: F401 - the row types are part of the document's interface
    EXTRA_UNIT_COLUMNS,
    FIELD,
    INPUT_TARGETS,
    LAYOUT_KEYS,
    ROW_FIELDS,
    ROW_SCHEMA,
    FieldSpec,
    PlanRow,
    Rejection,
    Relaxation,
    Requantize,
    SkuBest,
)
from .targets import MAX_HEADROOM, MAX_SPARE_UNITS
from .traffic import TrafficOption, TrafficPlan  # noqa: F401 - part of the document's interface
from .verdict import Verdict

SCHEMA = "moeprof.plan"
SCHEMA_VERSION = 3  # 1: the untyped plan JSON of moeprof 0.1 (no "schema" key); 2: as 3, chart records unchecked
READABLE_VERSIONS = (2, 3)  # version 2 holds the same fields: read with version 3's checks


# ---------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------
@dataclass
class PlanInputs:
    """What the plan was asked: the model, the targets (units in the names), the search space and
    the GPU profiles used."""

    model: str  # what loads it again: a built-in name or the config.json path (catalog.models.identity)
    input_tokens: int
    output_tokens: int
    context_tokens: int
    qps: float
    ttft_ms: float
    tpot_ms: float
    percentile: float
    skus: list[str] | None
    quants: list[str] | None
    kv_dtypes: list[str]
    max_vms: int
    routing_skew: float
    profiles: dict
    model_name: str = ""  # the name it is shown by
    hf_id: str | None = None  # the checkpoint's Hugging Face repository, when known
    headroom: float = 0.0  # required capacity margin at the error band's pessimistic edge (planner.search.bands)
    engine: str = ""  # the serving engine and version modelled ("vllm 0.23.0"); "" in a plan made before it was recorded
    allow_requantize: bool = False  # recipes with no published checkpoint were searched too (--allow-requantize)
    redundancy: int = 0  # K of --redundancy N+K: spare units; 0 in a plan made before it was asked

    def to_json(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_json(cls, d, path) -> PlanInputs:
        if not isinstance(d, dict):
            raise ConfigError(path, "inputs", "missing or not an object (is this `moeprof plan --json` output?)")
        if not isinstance(d.get("model"), str) or not d.get("model"):
            raise ConfigError(path, "inputs.model", "missing or not a string")
        vals: dict = {"model": d["model"]}
        for k in INPUT_TARGETS:
            v = d.get(k)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
                raise ConfigError(path, f"inputs.{k}", f"must be a positive number, got {v!r}")
            vals[k] = int(v) if k.endswith("_tokens") else float(v)
        for k in ("skus", "quants", "kv_dtypes"):
            v = d.get(k)
            if v is not None and (not isinstance(v, list) or not all(isinstance(x, str) for x in v)):
                raise ConfigError(path, f"inputs.{k}", "must be a list of strings or null")
            vals[k] = v
        vals["kv_dtypes"] = vals["kv_dtypes"] or []
        mv = d.get("max_vms", 1)
        if isinstance(mv, bool) or not isinstance(mv, int) or mv < 1:
            raise ConfigError(path, "inputs.max_vms", f"must be a positive integer, got {mv!r}")
        vals["max_vms"] = mv
        rs = d.get("routing_skew", 0.0)
        if isinstance(rs, bool) or not isinstance(rs, (int, float)) or not math.isfinite(rs) or rs < 0:
            raise ConfigError(path, "inputs.routing_skew", f"must be a number >= 0, got {rs!r}")
        vals["routing_skew"] = float(rs)
        hr = d.get("headroom", 0.0)  # absent in a plan made before the headroom target
        if isinstance(hr, bool) or not isinstance(hr, (int, float)) or not 0 <= hr <= MAX_HEADROOM:
            raise ConfigError(path, "inputs.headroom", f"must be a number in [0, {MAX_HEADROOM:g}], got {hr!r}")
        vals["headroom"] = float(hr)
        k = d.get("redundancy", 0)  # absent in a plan made before --redundancy
        if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k <= MAX_SPARE_UNITS:
            raise ConfigError(path, "inputs.redundancy", f"must be a whole number in [0, {MAX_SPARE_UNITS}] (N+K), got {k!r}")
        vals["redundancy"] = k
        prof = d.get("profiles") or {}
        if not isinstance(prof, dict):
            raise ConfigError(path, "inputs.profiles", "must be an object")
        vals["profiles"] = prof
        bounds.check_inputs(d, path)
        vals["model_name"] = str(d.get("model_name") or d["model"])
        vals["hf_id"] = d.get("hf_id")
        vals["engine"] = str(d.get("engine") or "")
        ar = d.get("allow_requantize", False)  # absent in a plan made before the checkpoint gate
        if not isinstance(ar, bool):
            raise ConfigError(path, "inputs.allow_requantize", f"must be true or false, got {ar!r}")
        vals["allow_requantize"] = ar
        return cls(**vals)


# ---------------------------------------------------------------------------------------
# Chart data (computed by planner.analyses.charts when the plan is made)
# ---------------------------------------------------------------------------------------
@dataclass
class MemoryBar:
    """Memory per GPU of one configuration, by part (GiB, bottom to top), against the usable memory."""

    label: list[str]  # lines of the axis label
    row_key: list  # PlanRow.key() of the configuration
    parts_gib: dict[str, float] = field(lo=0.0)
    capacity_gib: float = field(lo=0.0)


@dataclass
class KvCurve:
    """KV cache one sequence holds on one GPU, and how many sequences fit, vs context (tokens)."""

    sku: str = field(nonempty=True, name=True)
    label: str = field()
    context_tokens: list[int] = field(default_factory=list, lo=0)
    kv_gib_per_seq: list[float] = field(default_factory=list, lo=0.0)
    max_seqs: list[float] = field(default_factory=list, lo=0.0)
    kv_budget_gib: float = field(0.0)
    max_context_tokens: int = field(0, lo=0)


@dataclass
class LatencySweep:
    """One configuration as its load rises from idle to saturation (the serving model)."""

    running_batch: list[float] = field(lo=0.0)  # sequences per replica
    ttft_ms: list[float] = field(lo=0.0)  # at the plan's percentile
    tpot_ms: list[float] = field(lo=0.0)
    output_tokens_per_s: list[float] = field(lo=0.0)  # whole deployment
    qps: list[float] = field(lo=0.0)  # whole deployment (req/s)
    decode_batch: list[float] = field(lo=0.0)  # batch grid up to max batch (sequences)
    decode_step_ms: list[float] = field(lo=0.0)  # decode step at that batch
    prefill_ms: float = field(lo=0.0)
    calibration: str = field()


@dataclass
class ThroughputCurve:
    """One SKU's best configuration as concurrent users per replica double from 1 to the sequences
    its KV cache holds (deployment.evaluate, closed loop): the InferenceX / aiconfigurator chart."""

    sku: str = field(nonempty=True, name=True)
    label: str = field()
    row_key: list = field()  # PlanRow.key() of the configuration
    recommended: bool = field()  # the plan's recommendation
    usd_per_hour: float = field(lo=0.0)  # the whole deployment (row's VMs)
    concurrency_per_replica: list[float] = field(lo=0.0)  # users (requests in the replica)
    tokens_per_s_per_user: list[float] = field(lo=0.0)  # 1000 / TPOT
    output_tokens_per_s_per_gpu: list[float] = field(lo=0.0)
    usd_per_million_tokens: list[float] = field(lo=0.0)  # blended: $/h / (input + output tokens per hour at that point)
    ttft_ms: list[float] = field(lo=0.0)  # at the plan's percentile


# api: imported from the Azure Retail Prices API by `moeprof prices import` (meter id known), read within
# STALE_DAYS; reported: a third party's file quoting the API, read within STALE_DAYS
PRICE_STATUSES = ("api", "reported", "estimate", "stale", "user")


@dataclass
class PriceTag:
    """A SKU's price per VM-hour in a few words: where and when it was read, and how far to trust it."""

    sku: str = field(nonempty=True, name=True)
    usd_per_vm_hour: float = field(lo=0.0, hi=MAX_USD_PER_HOUR, why="VM prices are at most $1e6/h")
    label: str = field(name=True)  # short: pricing kind, region, read date
    date: str = field(name=True)  # ISO date the price was read; "user" for --price-per-hour
    status: str = field(choices=PRICE_STATUSES)
    reported_by: str = field("", name=True)  # who quoted the price (status reported); "" when moeprof read it or it is the user's
    pricing: str = field("", name=True)  # the price kind (payg, reserved-1y, reserved-3y, spot); "" for a user price
    region: str = field("", name=True)  # the Azure region it was read for; "" for a user price


@dataclass
class Charts:
    """The report's chart data; `unavailable[chart]` says why a chart has none."""

    memory: list[MemoryBar] = field(default_factory=list)
    engine: dict = field(default_factory=dict)  # engine settings behind the memory bars
    kv: list[KvCurve] = field(default_factory=list)
    model_max_context_tokens: int = field(0, lo=0)
    latency: LatencySweep | None = None
    unavailable: dict[str, str] = field(default_factory=dict)
    throughput: list[ThroughputCurve] = field(default_factory=list)
    prices: list[PriceTag] = field(default_factory=list)
    price_sensitivity: list[PriceSensitivity] = field(default_factory=list)  # planner.analyses.breakeven
    build_or_buy: BuildOrBuy | None = None  # planner.analyses.build_or_buy; None when no per-token price is known

    def to_json(self) -> dict:
        return encode(self)

    @classmethod
    def from_json(cls, d, path) -> Charts:
        if d is None:
            return cls(unavailable={"all": "the plan stores no chart data"})
        if isinstance(d, dict) and isinstance(d.get("prices"), list):  # plans written before the api / reported statuses
            d = {**d, "prices": [{**p, "status": "reported"} if isinstance(p, dict) and p.get("status") == "verified" else p
                                 for p in d["prices"]]}
        return decode(cls, d, path, "charts")


# ---------------------------------------------------------------------------------------
# The document
# ---------------------------------------------------------------------------------------
@dataclass
class PlanDocument:
    inputs: PlanInputs
    recommended: PlanRow | None
    alternatives: list[PlanRow]
    rejected: list[Rejection]
    rejected_counts: dict[str, int]
    closest: list[PlanRow]
    feasible: list[PlanRow]
    configs_evaluated: int
    warnings: list[str]
    sources: dict
    per_sku: list[SkuBest] = field(default_factory=list)
    charts: Charts = field(default_factory=Charts)
    traffic: TrafficPlan | None = None  # `plan --traffic FILE` only (planner.analyses.traffic)
    ranking_rule: str = ""  # how the feasible rows were ordered (planner.rank.RANKING_RULE)
    relaxations: list[Relaxation] = field(default_factory=list)  # when nothing is feasible
    requantize: Requantize | None = None  # what re-quantising would save (planner.search.checkpoints)
    redundancy: Redundancy | None = None  # the pick's failure domains and N + (K + 1) (planner.search.redundancy)

    def wide_ep_text(self, row: PlanRow) -> str:
        """'wide EP across N VMs over InfiniBand; evidence: ...' of a wide-EP row ('' for any other), the
        evidence from the plan's sources (planner.search.plan: catalog.calibration.multi_vm_runs)."""
        label = row.wide_ep_label()
        if not label:
            return ""
        src = self.sources.get(row.sku)
        ev = src.get("wide_ep_evidence") if isinstance(src, dict) else None
        return f"{label}; evidence behind its speed: {ev if isinstance(ev, str) else 'not stated in the plan'}"
    verdict: Verdict | None = None  # build or buy (planner.analyses.verdict); None without a pick or a per-token price

    def to_json(self) -> dict:
        out = {
            "schema": SCHEMA,
            "schema_version": SCHEMA_VERSION,
            "inputs": self.inputs.to_json(),
            "recommended": self.recommended.to_json() if self.recommended else None,
            "alternatives": [r.to_json() for r in self.alternatives],
            "rejected": [r.to_json() for r in self.rejected],
            "rejected_counts": dict(self.rejected_counts),
            "closest": [r.to_json() for r in self.closest],
            "feasible": [r.to_json() for r in self.feasible],
            "configs_evaluated": self.configs_evaluated,
            "warnings": list(self.warnings),
            "sources": self.sources,
            "per_sku": [s.to_json() for s in self.per_sku],
            "charts": self.charts.to_json(),
            "ranking_rule": self.ranking_rule,
            "relaxations": [r.to_json() for r in self.relaxations],
            "requantize": self.requantize.to_json() if self.requantize is not None else None,
        }
        if self.redundancy is not None:
            out["redundancy"] = self.redundancy.to_json()
        if self.traffic is not None:  # additive: a plan without traffic is written as before
            out["traffic"] = self.traffic.to_json()
        if self.verdict is not None:
            out["verdict"] = self.verdict.to_json()
        return out

    @classmethod
    def from_json(cls, doc, path="<plan>") -> PlanDocument:
        """A validated plan document; one-line ConfigError naming the file and field otherwise."""
        if not isinstance(doc, dict):
            raise ConfigError(path, "<root>", "expected a JSON object from `moeprof plan --json`")
        if doc.get("schema") != SCHEMA:
            if "inputs" in doc and "recommended" in doc:
                raise ConfigError(path, "schema_version", f"a plan of schema version 1 (moeprof 0.1); this moeprof reads "
                                  f"version {SCHEMA_VERSION}: run `moeprof plan ... --json` again")
            raise ConfigError(path, "schema", "not a moeprof plan (expected `moeprof plan --json` output)")
        ver = doc.get("schema_version")
        if ver not in READABLE_VERSIONS:
            raise ConfigError(path, "schema_version", f"a plan of schema version {ver!r}; this moeprof reads version "
                              f"{SCHEMA_VERSION}: run `moeprof plan ... --json` again")
        inputs = PlanInputs.from_json(doc.get("inputs"), path)
        if "recommended" not in doc:
            raise ConfigError(path, "recommended", "missing (null when nothing met the targets)")
        rec = PlanRow.from_json(doc["recommended"], path, "recommended") if doc["recommended"] is not None else None
        lists = {}
        for key in ("alternatives", "feasible", "closest"):
            rows = doc.get(key) or []
            if not isinstance(rows, list):
                raise ConfigError(path, key, "must be a list")
            lists[key] = [PlanRow.from_json(r, path, f"{key}[{i}]") for i, r in enumerate(rows)]
        rejected = doc.get("rejected") or []
        if not isinstance(rejected, list):
            raise ConfigError(path, "rejected", "must be a list")
        rej = [Rejection.from_json(r, path, f"rejected[{i}]") for i, r in enumerate(rejected)]
        per_sku = doc.get("per_sku") or []
        if not isinstance(per_sku, list):
            raise ConfigError(path, "per_sku", "must be a list")
        for key, typ in (("rejected_counts", dict), ("sources", dict), ("warnings", list)):
            if doc.get(key) is not None and not isinstance(doc[key], typ):
                raise ConfigError(path, key, f"must be {'an object' if typ is dict else 'a list'}")
        bounds.check_extras(doc, path)
        n = doc.get("configs_evaluated", 0)
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ConfigError(path, "configs_evaluated", f"must be a non-negative integer, got {n!r}")
        return cls(
            inputs=inputs,
            recommended=rec,
            alternatives=lists["alternatives"],
            rejected=rej,
            rejected_counts={str(k): v for k, v in (doc.get("rejected_counts") or {}).items()},
            closest=lists["closest"],
            feasible=lists["feasible"],
            configs_evaluated=n,
            warnings=[str(w) for w in doc.get("warnings") or []],
            sources=doc.get("sources") or {},
            per_sku=[SkuBest.from_json(s, path, f"per_sku[{i}]") for i, s in enumerate(per_sku)],
            charts=Charts.from_json(doc.get("charts"), path),
            traffic=TrafficPlan.from_json(doc["traffic"], path) if doc.get("traffic") is not None else None,
            ranking_rule=str(doc.get("ranking_rule") or ""),
            relaxations=[Relaxation.from_json(r, path, f"relaxations[{i}]") for i, r in enumerate(_list(doc, "relaxations", path))],
            requantize=Requantize.from_json(doc["requantize"], path, "requantize") if doc.get("requantize") is not None else None,
            redundancy=Redundancy.from_json(doc["redundancy"], path) if doc.get("redundancy") is not None else None,
            verdict=Verdict.from_json(doc["verdict"], path) if doc.get("verdict") is not None else None,
        )


def _list(doc: dict, key: str, path) -> list:
    v = doc.get(key) or []
    if not isinstance(v, list):
        raise ConfigError(path, key, "must be a list")
    return v


def is_plan_json(doc) -> bool:
    """A plan document of any schema version (the reader then says which it reads)."""
    return isinstance(doc, dict) and (doc.get("schema") == SCHEMA or ("inputs" in doc and "recommended" in doc))
