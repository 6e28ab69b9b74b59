"""The one row schema of a plan: each field with its unit, the column name that carries the unit in
CSV, and its label and number format in the report's tables; the typed rows built on it
(PlanRow, Rejection, SkuBest), with their JSON form and validation."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ...errors import ConfigError
from . import bounds
from .codec import decode, field


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
    FieldSpec("ttft_low_ms", float, "ms", "TTFT band low (ms)", "{:,.0f}"),
    FieldSpec("ttft_high_ms", float, "ms", "TTFT band high (ms)", "{:,.0f}"),
    FieldSpec("tpot_ms", float, "ms", "TPOT (ms)", "{:,.1f}"),
    FieldSpec("tpot_low_ms", float, "ms", "TPOT band low (ms)", "{:,.1f}"),
    FieldSpec("tpot_high_ms", float, "ms", "TPOT band high (ms)", "{:,.1f}"),
    FieldSpec("tokens_per_s", float, "tokens/s", "tokens/s", "{:,.0f}"),
    FieldSpec("output_tokens_per_s", float, "tokens/s", "output tokens/s", "{:,.0f}"),
    FieldSpec("qps_capacity", float, "req/s", "capacity (req/s)", "{:,.2f}", "qps_capacity_req_per_s"),
    FieldSpec("unit_vms", int, "VMs", "VMs per unit", "{:,.0f}", "unit_vm_count"),
    FieldSpec("unit_replicas", int, "replicas", "replicas per unit", "{:,.0f}", "unit_replica_count"),
    FieldSpec("qps_capacity_per_replica", float, "req/s", "capacity per replica (req/s)", "{:,.2f}",
              "qps_capacity_per_replica_req_per_s"),
    FieldSpec("qps_capacity_per_unit", float, "req/s", "capacity per unit (req/s)", "{:,.2f}", "qps_capacity_per_unit_req_per_s"),
    FieldSpec("qps_capacity_low", float, "req/s", "capacity, pessimistic edge (req/s)", "{:,.2f}", "qps_capacity_low_req_per_s"),
    FieldSpec("qps_capacity_high", float, "req/s", "capacity, optimistic edge (req/s)", "{:,.2f}", "qps_capacity_high_req_per_s"),
    FieldSpec("vms_low", int, "VMs", "VMs for the QPS, optimistic edge", "{:,.0f}", "vm_count_low"),
    FieldSpec("vms_high", int, "VMs", "VMs for the QPS, pessimistic edge", "{:,.0f}", "vm_count_high"),
    FieldSpec("headroom", float, "fraction", "headroom at the pessimistic edge (%)", "{:+.0%}", "headroom_fraction"),
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
    FieldSpec("checkpoint", str, "", "checkpoint (Hugging Face id)"),
)
ROW_FIELDS: tuple[str, ...] = tuple(f.name for f in ROW_SCHEMA)
# The error band's fields (planner.search.bands): null in a plan made before bands, or where a row has
# no capacity to band.
# The unit's fields (deployment.replicas: one VM with every replica that fits, or the VMs one replica
# spans): null in a plan made before the unit was stored.
UNIT_FIELDS = ("unit_vms", "unit_replicas", "qps_capacity_per_replica", "qps_capacity_per_unit")
BAND_FIELDS = ("ttft_low_ms", "ttft_high_ms", "tpot_low_ms", "tpot_high_ms", "qps_capacity_low", "qps_capacity_high",
               "vms_low", "vms_high", "headroom")
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
    ttft_low_ms: float | None = None  # BAND_FIELDS: the prediction's error band (planner.search.bands)
    ttft_high_ms: float | None = None
    tpot_low_ms: float | None = None
    tpot_high_ms: float | None = None
    qps_capacity_low: float | None = None  # req/s at the pessimistic edge
    qps_capacity_high: float | None = None
    vms_low: int | None = None  # VMs the target QPS needs at the optimistic edge
    vms_high: int | None = None  # ... at the pessimistic edge
    headroom: float | None = None  # qps_capacity_low / QPS - 1
    checkpoint: str = ""  # the published checkpoint it loads (catalog.deployable); "" for none, or a plan made before
    unit_vms: int | None = None  # UNIT_FIELDS: VMs of one unit
    unit_replicas: int | None = None  # replicas one unit runs
    qps_capacity_per_replica: float | None = None  # req/s within the targets, as predicted
    qps_capacity_per_unit: float | None = None
    misses: list[str] | None = None
    sources: dict | None = None
    notes: list[str] | None = None  # caveats of the recommended row (e.g. no released checkpoint)

    def layout(self) -> tuple:
        return tuple(getattr(self, k) for k in LAYOUT_KEYS)

    def label(self, short: bool = False) -> str:
        """The configuration in one line: SKU and layout (short), or with VMs, replicas and max batch."""
        base = f"tp{self.tp} ep{self.ep} pp{self.pp} {self.quant}/KV {self.kv_dtype}"
        return f"{self.sku} {base}" if short else f"{self.vms}x {self.sku} {base} x{self.replicas} b{self.max_batch}"

    def unit(self) -> tuple[int, int]:
        """(VMs, replicas) of the row's unit; in a plan made before units were stored, the whole
        deployment is one unit."""
        if self.unit_vms is not None and self.unit_replicas is not None:
            return self.unit_vms, self.unit_replicas
        return self.vms, self.replicas

    def units(self) -> int:
        """Units the row buys."""
        return max(1, self.vms // self.unit()[0])

    def wide_ep_vms(self) -> int:
        """VMs one replica spans when it is wide EP across VMs (EP > TP over more than one VM), else 0."""
        per_replica = self.vms // max(self.replicas, 1)
        return per_replica if self.ep > self.tp and per_replica > 1 else 0

    def wide_ep_label(self) -> str:
        """'wide EP across N VMs over InfiniBand', or '' for a replica within one VM."""
        n = self.wide_ep_vms()
        return f"wide EP across {n} VMs over InfiniBand" if n else ""

    def unit_text(self) -> str:
        """Capacity per replica and per unit in one line ('' in a plan made before the unit was stored);
        the pessimistic edge scales each by the row's qps_capacity_low / qps_capacity."""
        if self.qps_capacity_per_replica is None or self.qps_capacity_per_unit is None or self.unit_vms is None:
            return ""
        edge = (self.qps_capacity_low / self.qps_capacity if self.qps_capacity_low is not None and self.qps_capacity
                else None)

        def one(v: float) -> str:
            return f"{v:.2f} req/s" + (f" ({v * edge:.2f} at the pessimistic edge)" if edge is not None else "")

        vms, reps = self.unit()
        return (f"per replica {one(self.qps_capacity_per_replica)}; per unit ({vms} VM{'s' if vms > 1 else ''} running "
                f"{reps} replica{'s' if reps > 1 else ''}) {one(self.qps_capacity_per_unit)}; {self.units()} unit"
                f"{'s' if self.units() > 1 else ''}")

    def key(self) -> tuple:
        """The configuration: its layout, max batch and replica count."""
        return self.layout() + (self.max_batch, self.replicas)

    def to_json(self) -> dict:
        d = {k: _finite_or_none(getattr(self, k)) for k in ROW_FIELDS}
        if self.sources is not None:
            d["sources"] = self.sources
        if self.misses is not None:
            d["misses"] = list(self.misses)
        if self.notes is not None:
            d["notes"] = list(self.notes)
        return d

    @classmethod
    def from_json(cls, d, path, where: str) -> PlanRow:
        if not isinstance(d, dict):
            raise ConfigError(path, where, "expected an object")
        vals: dict[str, Any] = {}
        for f in ROW_SCHEMA:
            v = d.get(f.name)
            # the common cases, accepted as _check_value would without building the field's path
            if (f.kind is float and type(v) is float and math.isfinite(v)) or (f.kind is int and type(v) is int and v >= 1):
                vals[f.name] = v
            else:
                vals[f.name] = _check_value(v, f, path, f"{where}.{f.name}")
        misses = d.get("misses")
        if misses is not None and (not isinstance(misses, list) or not all(isinstance(m, str) for m in misses)):
            raise ConfigError(path, f"{where}.misses", "must be a list of strings")
        notes = d.get("notes")
        if notes is not None and (not isinstance(notes, list) or not all(isinstance(m, str) for m in notes)):
            raise ConfigError(path, f"{where}.notes", "must be a list of strings")
        sources = d.get("sources")
        if sources is not None and not isinstance(sources, dict):
            raise ConfigError(path, f"{where}.sources", "must be an object")
        bounds.check_row(d, path, where)
        return cls(**vals, misses=misses, sources=sources, notes=notes)

    decode_at = from_json  # the codec reads a nested row by ROW_SCHEMA


_REQUIRED_NUMBERS = ("usd_per_hour", "usd_per_month")


def _check_value(v, f: FieldSpec, path, where: str):
    if f.kind is str:
        if f.name == "checkpoint":
            return _checkpoint_value(v, path, where)
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
        if v is None and (f.name in BAND_FIELDS or f.name in UNIT_FIELDS):
            return None
        lo = 0 if f.name == "max_context_tokens" else 1
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise ConfigError(path, where, f"must be {'a non-negative' if lo == 0 else 'a positive'} integer, got {v!r}")
        return v
    if v is None and f.name not in _REQUIRED_NUMBERS:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise ConfigError(path, where, f"must be a finite number{'' if f.name in _REQUIRED_NUMBERS else ' or null'}, got {v!r}")
    return float(v)


def _checkpoint_value(v, path, where: str) -> str:
    """A row's checkpoint: a Hugging Face id (an engine's model argument, never an option), or ''."""
    from ...inputs import model_id_problem

    if v is None or v == "":
        return ""
    if not isinstance(v, str):
        raise ConfigError(path, where, "must be a string")
    if problem := model_id_problem(v):
        raise ConfigError(path, where, problem)
    return v


@dataclass
class Rejection:
    """A parallel layout none of whose rows met the targets, with its most promising row's reason."""

    sku: str = field(nonempty=True, name=True)
    tp: int = field(lo=1, hi=bounds.MAX_GPUS, why="GPUs of the largest plan")
    ep: int = field(lo=1, hi=bounds.MAX_GPUS, why="GPUs of the largest plan")
    pp: int = field(lo=1, hi=bounds.MAX_GPUS, why="GPUs of the largest plan")
    quant: str = field(nonempty=True, name=True)
    kv_dtype: str = field(nonempty=True, name=True)
    kind: str = field(nonempty=True, name=True)  # a RejectKind value: memory | TTFT | TPOT | QPS | headroom
    reason: str = field()

    def to_json(self) -> dict:
        return {k: getattr(self, k) for k in LAYOUT_KEYS} | {"reason": self.reason, "kind": self.kind}

    @classmethod
    def from_json(cls, d, path, where: str) -> Rejection:
        return decode(cls, d, path, where)


@dataclass
class SkuBest:
    """The best row of one SKU (its first in the plan's ranking), or why it has none."""

    sku: str = field(nonempty=True, name=True)
    row: PlanRow | None = None
    reason: str = field("")
    break_even_usd_per_vm_hour: float | None = field(None, lo=0.0, lo_open=True)  # planner.analyses.breakeven

    def to_json(self) -> dict:
        return {"sku": self.sku, "row": self.row.to_json() if self.row else None, "reason": self.reason,
                "break_even_usd_per_vm_hour": _finite_or_none(self.break_even_usd_per_vm_hour)}

    @classmethod
    def from_json(cls, d, path, where: str) -> SkuBest:
        return decode(cls, d, path, where)


@dataclass
class Requantize:
    """What re-quantising to a recipe with no published checkpoint would save against the pick
    (planner.search.checkpoints): never the pick by default, shown as one line."""

    quant: str = field(nonempty=True, name=True)
    usd_per_month: float = field(lo=0.0, hi=bounds.MAX_USD_PER_MONTH, why="VM prices are at most $1e6/h")
    saving_usd_per_month: float = field(lo=0.0, hi=bounds.MAX_USD_PER_MONTH, why="VM prices are at most $1e6/h")
    text: str = field()  # the line the plan prints

    def to_json(self) -> dict:
        return {"quant": self.quant, "usd_per_month": self.usd_per_month,
                "saving_usd_per_month": self.saving_usd_per_month, "text": self.text}

    @classmethod
    def from_json(cls, d, path, where: str) -> Requantize:
        return decode(cls, d, path, where)


RELAXABLE = ("ttft_ms", "tpot_ms", "qps", "context_tokens")


@dataclass
class Relaxation:
    """When nothing meets the targets: the least change of one target (the others as asked) that
    admits a plan, and the cheapest plan it admits; `relaxed_to` None when no value of that target
    alone admits one within the search."""

    target: str = field(choices=RELAXABLE)  # one of RELAXABLE (the PlanInputs field)
    asked: float = field(lo=0.0, lo_open=True)
    relaxed_to: float | None = field(lo=0.0, lo_open=True)
    text: str = field()  # the advice in one line
    row: PlanRow | None = None

    def to_json(self) -> dict:
        return {"target": self.target, "asked": self.asked, "relaxed_to": _finite_or_none(self.relaxed_to),
                "text": self.text, "row": self.row.to_json() if self.row else None}

    @classmethod
    def from_json(cls, d, path, where: str) -> Relaxation:
        return decode(cls, d, path, where)
