"""The plan document: what `moeprof plan` decides, in one typed, versioned structure.

Every consumer reads this and only this: the CLI table, `--json`, `--csv`, the HTML report and
the exports. Everything a chart needs (memory per GPU, KV vs context, latency vs load, the best
row of each SKU) is computed when the plan is made (planner.charts) and stored here, so a report
never runs the model again and can never disagree with its plan.

ROW_SCHEMA is the one row schema: each field with its unit, the column name that carries the
unit in CSV, and its label and number format in the report's tables.
JSON: `to_json()` / `PlanDocument.from_json(doc, path)`; a file of another schema version is
refused with one line naming its version.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

from ..errors import ConfigError

SCHEMA = "moeprof.plan"
SCHEMA_VERSION = 2  # 1: the untyped plan JSON of moeprof 0.1 (no "schema" key)


@dataclass(frozen=True)
class FieldSpec:
    """One column of a plan row: its unit, CSV column name and report label / format."""

    name: str
    kind: type  # str | int | float | bool
    unit: str  # "" for names and counts whose name says what they count
    label: str
    fmt: str | None = None  # str.format spec for reports; None prints the value as is
    csv_name: str | None = None  # column name in CSV when the field name lacks its unit

    @property
    def column(self) -> str:
        return self.csv_name or self.name


ROW_SCHEMA: tuple[FieldSpec, ...] = (
    FieldSpec("sku", str, "", "VM SKU"),
    FieldSpec("gpu", str, "", "GPU"),
    FieldSpec("vms", int, "VMs", "VMs", "{:,.0f}", "vm_count"),
    FieldSpec("gpus", int, "GPUs", "GPUs", "{:,.0f}", "gpu_count"),
    FieldSpec("tp", int, "GPUs", "TP", "{:.0f}"),
    FieldSpec("ep", int, "GPUs", "EP", "{:.0f}"),
    FieldSpec("pp", int, "stages", "PP", "{:.0f}"),
    FieldSpec("replicas", int, "replicas", "replicas", "{:,.0f}", "replica_count"),
    FieldSpec("quant", str, "", "quantization"),
    FieldSpec("kv_dtype", str, "", "KV dtype"),
    FieldSpec("max_batch", int, "sequences", "max batch (seqs)", "{:,.0f}", "max_batch_seqs"),
    FieldSpec("max_context_tokens", int, "tokens", "max context (tokens)", "{:,.0f}"),
    FieldSpec("ttft_ms", float, "ms", "TTFT (ms)", "{:,.0f}"),
    FieldSpec("tpot_ms", float, "ms", "TPOT (ms)", "{:,.1f}"),
    FieldSpec("tokens_per_s", float, "tokens/s", "tokens/s", "{:,.0f}"),
    FieldSpec("output_tokens_per_s", float, "tokens/s", "output tokens/s", "{:,.0f}"),
    FieldSpec("qps_capacity", float, "req/s", "capacity (req/s)", "{:,.2f}", "qps_capacity_req_per_s"),
    FieldSpec("running_batch", float, "sequences", "running batch (seqs)", "{:,.1f}", "running_batch_seqs"),
    FieldSpec("utilization", float, "fraction", "utilisation (%)", "{:.0%}", "utilization_fraction"),
    FieldSpec("usd_per_hour", float, "USD/h", "$/h", "{:,.2f}"),
    FieldSpec("usd_per_month", float, "USD/month", "$/month", "{:,.0f}"),
    FieldSpec("usd_per_million_tokens", float, "USD/M tokens", "$/M tokens", "{:,.3f}"),
    FieldSpec("usd_per_million_input_tokens", float, "USD/M tokens", "$/M input tokens", "{:,.3f}"),
    FieldSpec("usd_per_million_output_tokens", float, "USD/M tokens", "$/M output tokens", "{:,.3f}"),
    FieldSpec("joules_per_token", float, "J/token", "J/output token", "{:,.2f}"),
    FieldSpec("weights_bytes_per_gpu", float, "bytes", "weights per GPU (bytes)"),
    FieldSpec("kv_budget_bytes_per_gpu", float, "bytes", "KV budget per GPU (bytes)"),
    FieldSpec("overhead_bytes_per_gpu", float, "bytes", "engine overhead per GPU (bytes)"),
    FieldSpec("kv_bytes_per_token_per_gpu", float, "bytes", "KV per token per GPU (bytes)"),
    FieldSpec("price_estimate", bool, "", "price is an estimate"),
    FieldSpec("calibration", str, "", "calibration"),
)
ROW_FIELDS: tuple[str, ...] = tuple(f.name for f in ROW_SCHEMA)
FIELD = {f.name: f for f in ROW_SCHEMA}
# Columns of other tables (inputs, sweeps) that need a unit in CSV.
EXTRA_UNIT_COLUMNS = {
    "qps": "qps_req_per_s",
    "percentile": "percentile_pct",
    "routing_skew": "routing_skew_zipf_exponent",
    "max_vms": "max_vm_count",
}
# The parallel layout of a row: everything but the max batch and the replica count.
LAYOUT_KEYS = ("sku", "tp", "ep", "pp", "quant", "kv_dtype")
RANKING_RULE = ("lowest $/month; at equal cost the recipe closest to the released weights, then bf16 KV over fp8 KV, "
                "then lower TPOT, lower TTFT, fewer GPUs")
INPUT_TARGETS = ("input_tokens", "output_tokens", "context_tokens", "qps", "ttft_ms", "tpot_ms", "percentile")


def _finite_or_none(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


# ---------------------------------------------------------------------------------------
# Rows
# ---------------------------------------------------------------------------------------
@dataclass
class PlanRow:
    """One deployment the planner evaluated (the fields of ROW_SCHEMA), plus what misses for a
    closest row and the sources for the recommended one."""

    sku: str
    gpu: str
    vms: int
    gpus: int
    tp: int
    ep: int
    pp: int
    replicas: int
    quant: str
    kv_dtype: str
    max_batch: int
    max_context_tokens: int
    ttft_ms: float | None
    tpot_ms: float | None
    tokens_per_s: float | None
    output_tokens_per_s: float | None
    qps_capacity: float | None
    running_batch: float | None
    utilization: float | None
    usd_per_hour: float
    usd_per_month: float
    usd_per_million_tokens: float | None
    usd_per_million_input_tokens: float | None
    usd_per_million_output_tokens: float | None
    joules_per_token: float | None
    weights_bytes_per_gpu: float | None
    kv_budget_bytes_per_gpu: float | None
    overhead_bytes_per_gpu: float | None
    kv_bytes_per_token_per_gpu: float | None
    price_estimate: bool
    calibration: str
    misses: list[str] | None = None
    sources: dict | None = None

    def layout(self) -> tuple:
        return tuple(getattr(self, k) for k in LAYOUT_KEYS)

    def key(self) -> tuple:
        """The configuration: its layout, max batch and replica count."""
        return self.layout() + (self.max_batch, self.replicas)

    def to_json(self) -> dict:
        d = {k: _finite_or_none(getattr(self, k)) for k in ROW_FIELDS}
        if self.sources is not None:
            d["sources"] = self.sources
        if self.misses is not None:
            d["misses"] = list(self.misses)
        return d

    @classmethod
    def from_json(cls, d, path, where: str) -> "PlanRow":
        if not isinstance(d, dict):
            raise ConfigError(path, where, "expected an object")
        vals = {}
        for f in ROW_SCHEMA:
            v = d.get(f.name)
            vals[f.name] = _check_value(v, f, path, f"{where}.{f.name}")
        misses = d.get("misses")
        if misses is not None and (not isinstance(misses, list) or not all(isinstance(m, str) for m in misses)):
            raise ConfigError(path, f"{where}.misses", "must be a list of strings")
        sources = d.get("sources")
        if sources is not None and not isinstance(sources, dict):
            raise ConfigError(path, f"{where}.sources", "must be an object")
        return cls(**vals, misses=misses, sources=sources)


_REQUIRED_NUMBERS = ("usd_per_hour", "usd_per_month")


def _check_value(v, f: FieldSpec, path, where: str):
    if f.kind is str:
        if f.name == "calibration":
            if v is None:
                return ""
            if not isinstance(v, str):
                raise ConfigError(path, where, "must be a string")
            return v
        if not isinstance(v, str) or not v:
            raise ConfigError(path, where, "missing or not a string")
        return v
    if f.kind is bool:
        if not isinstance(v, bool):
            raise ConfigError(path, where, "must be true or false")
        return v
    if f.kind is int:
        lo = 0 if f.name == "max_context_tokens" else 1
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise ConfigError(path, where, f"must be {'a non-negative' if lo == 0 else 'a positive'} integer, got {v!r}")
        return v
    if v is None and f.name not in _REQUIRED_NUMBERS:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise ConfigError(path, where, f"must be a finite number{'' if f.name in _REQUIRED_NUMBERS else ' or null'}, got {v!r}")
    return float(v)


@dataclass
class Rejection:
    """A parallel layout none of whose rows met the targets, with its most promising row's reason."""

    sku: str
    tp: int
    ep: int
    pp: int
    quant: str
    kv_dtype: str
    kind: str  # a RejectKind value: memory | TTFT | TPOT | QPS
    reason: str

    def to_json(self) -> dict:
        return {k: getattr(self, k) for k in LAYOUT_KEYS} | {"reason": self.reason, "kind": self.kind}

    @classmethod
    def from_json(cls, d, path, where: str) -> "Rejection":
        if not isinstance(d, dict) or not isinstance(d.get("reason"), str) or not isinstance(d.get("sku"), str):
            raise ConfigError(path, where, "expected an object with 'sku' and 'reason' strings")
        kind = d.get("kind")
        if not isinstance(kind, str):
            raise ConfigError(path, f"{where}.kind", "missing or not a string")
        vals = {}
        for k in ("tp", "ep", "pp"):
            v = d.get(k)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ConfigError(path, f"{where}.{k}", f"must be a positive integer, got {v!r}")
            vals[k] = v
        for k in ("quant", "kv_dtype"):
            if not isinstance(d.get(k), str):
                raise ConfigError(path, f"{where}.{k}", "missing or not a string")
            vals[k] = d[k]
        return cls(sku=d["sku"], kind=kind, reason=d["reason"], **vals)


@dataclass
class SkuBest:
    """The best row of one SKU (its first in the plan's ranking), or why it has none."""

    sku: str
    row: PlanRow | None
    reason: str = ""

    def to_json(self) -> dict:
        return {"sku": self.sku, "row": self.row.to_json() if self.row else None, "reason": self.reason}

    @classmethod
    def from_json(cls, d, path, where: str) -> "SkuBest":
        if not isinstance(d, dict) or not isinstance(d.get("sku"), str):
            raise ConfigError(path, where, "expected an object with a 'sku' string")
        row = PlanRow.from_json(d["row"], path, f"{where}.row") if d.get("row") is not None else None
        return cls(d["sku"], row, str(d.get("reason") or ""))


# ---------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------
@dataclass
class PlanInputs:
    """What the plan was asked: the model, the targets (units in the names), the search space and
    the GPU profiles used."""

    model: str
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

    def to_json(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_json(cls, d, path) -> "PlanInputs":
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
        prof = d.get("profiles") or {}
        if not isinstance(prof, dict):
            raise ConfigError(path, "inputs.profiles", "must be an object")
        vals["profiles"] = prof
        return cls(**vals)


# ---------------------------------------------------------------------------------------
# Chart data (computed by planner.charts when the plan is made)
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
class Charts:
    """The report's chart data; `unavailable[chart]` says why a chart has none."""

    memory: list[MemoryBar] = field(default_factory=list)
    engine: dict = field(default_factory=dict)  # engine settings behind the memory bars
    kv: list[KvCurve] = field(default_factory=list)
    model_max_context_tokens: int = 0
    latency: LatencySweep | None = None
    unavailable: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict:
        from dataclasses import asdict

        return {
            "memory": [asdict(b) for b in self.memory],
            "engine": self.engine,
            "kv": [asdict(c) for c in self.kv],
            "model_max_context_tokens": self.model_max_context_tokens,
            "latency": asdict(self.latency) if self.latency else None,
            "unavailable": dict(self.unavailable),
        }

    @classmethod
    def from_json(cls, d, path) -> "Charts":
        if d is None:
            return cls(unavailable={"all": "the plan stores no chart data"})
        if not isinstance(d, dict):
            raise ConfigError(path, "charts", "must be an object")
        try:
            return cls(
                memory=[MemoryBar(**b) for b in d.get("memory") or []],
                engine=dict(d.get("engine") or {}),
                kv=[KvCurve(**c) for c in d.get("kv") or []],
                model_max_context_tokens=int(d.get("model_max_context_tokens") or 0),
                latency=LatencySweep(**d["latency"]) if d.get("latency") else None,
                unavailable={str(k): str(v) for k, v in (d.get("unavailable") or {}).items()},
            )
        except (TypeError, ValueError) as e:
            raise ConfigError(path, "charts", f"malformed chart data ({e})") from None


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

    def to_json(self) -> dict:
        return {
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
        }

    @classmethod
    def from_json(cls, doc, path="<plan>") -> "PlanDocument":
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
        )


def is_plan_json(doc) -> bool:
    """A plan document of any schema version (the reader then says which it reads)."""
    return isinstance(doc, dict) and (doc.get("schema") == SCHEMA or ("inputs" in doc and "recommended" in doc))
