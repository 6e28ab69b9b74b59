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
from dataclasses import asdict, dataclass, field, fields

from ...errors import ConfigError, one_line
from ...inputs import has_control, type_name
from . import bounds
from .procurement import BuildOrBuy, BuildOrBuySku, PriceSensitivity  # noqa: F401 - part of the document's interface
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
    SkuBest,
)
from .targets import MAX_HEADROOM
from .traffic import TrafficOption, TrafficPlan  # noqa: F401 - part of the document's interface

SCHEMA = "moeprof.plan"
SCHEMA_VERSION = 2  # 1: the untyped plan JSON of moeprof 0.1 (no "schema" key)


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
        prof = d.get("profiles") or {}
        if not isinstance(prof, dict):
            raise ConfigError(path, "inputs.profiles", "must be an object")
        vals["profiles"] = prof
        bounds.check_inputs(d, path)
        vals["model_name"] = str(d.get("model_name") or d["model"])
        vals["hf_id"] = d.get("hf_id")
        return cls(**vals)


# ---------------------------------------------------------------------------------------
# Chart data (computed by planner.analyses.charts when the plan is made)
# ---------------------------------------------------------------------------------------
@dataclass
class MemoryBar:
    """Memory per GPU of one configuration, by part (GiB, bottom to top), against the usable memory."""

    label: list[str]  # lines of the axis label
    row_key: list  # PlanRow.key() of the configuration
    parts_gib: dict[str, float]
    capacity_gib: float


@dataclass
class KvCurve:
    """KV cache one sequence holds on one GPU, and how many sequences fit, vs context (tokens)."""

    sku: str
    label: str
    context_tokens: list[int]
    kv_gib_per_seq: list[float]
    max_seqs: list[float]
    kv_budget_gib: float
    max_context_tokens: int


@dataclass
class LatencySweep:
    """One configuration as its load rises from idle to saturation (the serving model)."""

    running_batch: list[float]  # sequences per replica
    ttft_ms: list[float]  # at the plan's percentile
    tpot_ms: list[float]
    output_tokens_per_s: list[float]  # whole deployment
    qps: list[float]  # whole deployment (req/s)
    decode_batch: list[float]  # batch grid up to max batch (sequences)
    decode_step_ms: list[float]  # decode step at that batch
    prefill_ms: float
    calibration: str


@dataclass
class ThroughputCurve:
    """One SKU's best configuration as concurrent users per replica double from 1 to the sequences
    its KV cache holds (deployment.evaluate, closed loop): the InferenceX / aiconfigurator chart."""

    sku: str
    label: str
    row_key: list  # PlanRow.key() of the configuration
    recommended: bool  # the plan's recommendation
    usd_per_hour: float  # the whole deployment (row's VMs)
    concurrency_per_replica: list[float]  # users (requests in the replica)
    tokens_per_s_per_user: list[float]  # 1000 / TPOT
    output_tokens_per_s_per_gpu: list[float]
    usd_per_million_tokens: list[float]  # blended: $/h / (input + output tokens per hour at that point)
    ttft_ms: list[float]  # at the plan's percentile


@dataclass
class PriceTag:
    """A SKU's price per VM-hour in a few words: where and when it was read, and how far to trust it."""

    sku: str
    usd_per_vm_hour: float
    label: str  # short: pricing kind, region, read date
    date: str  # ISO date the price was read; "user" for --price-per-hour
    status: str  # one of PRICE_STATUSES


PRICE_STATUSES = ("verified", "estimate", "stale", "user")  # verified: a dated, sourced list price within STALE_DAYS


@dataclass
class Charts:
    """The report's chart data; `unavailable[chart]` says why a chart has none."""

    memory: list[MemoryBar] = field(default_factory=list)
    engine: dict = field(default_factory=dict)  # engine settings behind the memory bars
    kv: list[KvCurve] = field(default_factory=list)
    model_max_context_tokens: int = 0
    latency: LatencySweep | None = None
    unavailable: dict[str, str] = field(default_factory=dict)
    throughput: list[ThroughputCurve] = field(default_factory=list)
    prices: list[PriceTag] = field(default_factory=list)
    price_sensitivity: list[PriceSensitivity] = field(default_factory=list)  # planner.analyses.breakeven
    build_or_buy: BuildOrBuy | None = None  # planner.analyses.build_or_buy; None when no per-token price is known

    def to_json(self) -> dict:
        return {
            "memory": [asdict(b) for b in self.memory],
            "engine": self.engine,
            "kv": [asdict(c) for c in self.kv],
            "model_max_context_tokens": self.model_max_context_tokens,
            "latency": asdict(self.latency) if self.latency else None,
            "unavailable": dict(self.unavailable),
            "throughput": [asdict(c) for c in self.throughput],
            "prices": [asdict(p) for p in self.prices],
            "price_sensitivity": [asdict(p) for p in self.price_sensitivity],
            "build_or_buy": self.build_or_buy.to_json() if self.build_or_buy else None,
        }

    @classmethod
    def from_json(cls, d, path) -> Charts:
        if d is None:
            return cls(unavailable={"all": "the plan stores no chart data"})
        if not isinstance(d, dict):
            raise ConfigError(path, "charts", "must be an object")
        for key in ("memory", "kv", "throughput", "prices", "price_sensitivity"):
            v = d.get(key)
            if v is not None and not (isinstance(v, list) and all(isinstance(x, dict) for x in v)):
                raise ConfigError(path, f"charts.{key}", f"expected a list of objects, got {type_name(v)}")
        for key in ("unavailable", "engine", "latency", "build_or_buy"):
            v = d.get(key)
            if v is not None and not isinstance(v, dict):
                raise ConfigError(path, f"charts.{key}", f"expected an object, got {type_name(v)}")
        bad = next((k for k, v in (d.get("unavailable") or {}).items() if not isinstance(v, str) or has_control(v)), None)
        if bad is not None:
            raise ConfigError(path, f"charts.unavailable.{one_line(bad)[:40]}", "expected a one-line text (why the chart is missing)")
        try:
            return cls(
                memory=[MemoryBar(**b) for b in d.get("memory") or []],
                engine=dict(d.get("engine") or {}),
                kv=[KvCurve(**c) for c in d.get("kv") or []],
                model_max_context_tokens=int(d.get("model_max_context_tokens") or 0),
                latency=LatencySweep(**d["latency"]) if d.get("latency") else None,
                unavailable={str(k): str(v) for k, v in (d.get("unavailable") or {}).items()},
                throughput=[ThroughputCurve(**c) for c in d.get("throughput") or []],
                prices=[_price_tag(p, path) for p in d.get("prices") or []],
                price_sensitivity=[PriceSensitivity.from_json(p, path, f"charts.price_sensitivity[{i}]")
                                   for i, p in enumerate(d.get("price_sensitivity") or [])],
                build_or_buy=BuildOrBuy.from_json(d["build_or_buy"], path) if d.get("build_or_buy") else None,
            )
        except (TypeError, ValueError) as e:
            raise ConfigError(path, "charts", f"malformed chart data ({e})") from None


def _price_tag(d, path) -> PriceTag:
    p = PriceTag(**d)
    if p.status not in PRICE_STATUSES:
        raise ConfigError(path, "charts.prices", f"status {p.status!r} is not one of {', '.join(PRICE_STATUSES)}")
    return p


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
        }
        if self.traffic is not None:  # additive: a plan without traffic is written as before
            out["traffic"] = self.traffic.to_json()
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
        if ver != SCHEMA_VERSION:
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
        )


def _list(doc: dict, key: str, path) -> list:
    v = doc.get(key) or []
    if not isinstance(v, list):
        raise ConfigError(path, key, "must be a list")
    return v


def is_plan_json(doc) -> bool:
    """A plan document of any schema version (the reader then says which it reads)."""
    return isinstance(doc, dict) and (doc.get("schema") == SCHEMA or ("inputs" in doc and "recommended" in doc))
