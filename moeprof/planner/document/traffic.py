"""The traffic part of a plan document (`plan --traffic FILE`): the hourly profile, the
autoscaling unit, units per hour and what the fleet costs bought three ways (planner.analyses.traffic).

Stored: the inputs and results; peak, trough and the like are derived (properties), written
to JSON beside them for readers and ignored when read back. Units in the names.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ...catalog.bounds import MAX_USD_PER_HOUR
from ...errors import ConfigError
from ...inputs import require_ident, require_int, require_number
from .traffic_file import MAX_HOURS, MAX_QPS, MAX_SOURCE_CHARS

MAX_UNITS = 10**6  # autoscaling units in one hour: a million VMs is beyond any fleet
PRICINGS = ("payg", "reserved-1y", "reserved-3y")  # what a fleet is bought with (spot is not a baseline)
STATIC, AUTOSCALED = "static", "autoscaled"


@dataclass
class TrafficOption:
    """One way to buy the fleet over the traffic's period."""

    name: str  # STATIC (peak units, pay-as-you-go), AUTOSCALED (units per hour, pay-as-you-go), or "<reserved kind> + payg"
    reserved_units: int  # units billed every hour at the reserved price
    usd_per_period: float
    usd_per_month: float
    saving_vs_static_fraction: float

    def to_json(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    @classmethod
    def from_json(cls, d, path, where: str) -> TrafficOption:
        if not isinstance(d, dict):
            raise ConfigError(path, where, "expected an object")
        require_ident(d.get("name"), path, f"{where}.name")
        b = require_int(d.get("reserved_units"), path, f"{where}.reserved_units", 0, MAX_UNITS)
        hi = MAX_USD_PER_HOUR * MAX_UNITS * MAX_HOURS
        vals = {k: float(require_number(d.get(k), path, f"{where}.{k}", 0, hi)) for k in ("usd_per_period", "usd_per_month")}
        s = float(require_number(d.get("saving_vs_static_fraction"), path, f"{where}.saving_vs_static_fraction", -1e9, 1))
        return cls(d["name"], b, saving_vs_static_fraction=s, **vals)


@dataclass
class TrafficPlan:
    path: str  # the traffic file
    source: str
    qps_per_hour: list[float]
    units_per_hour: list[int]
    min_units: int
    sku: str
    unit_vms: int  # VMs of one autoscaling unit
    unit_replicas: int  # replicas one unit runs
    unit_qps_capacity: float  # req/s one unit serves within the latency targets
    usd_per_unit_hour: dict[str, float]  # per pricing kind (PRICINGS) that has a price
    price_sources: dict[str, str]
    unpriced: dict[str, str]  # pricing kind -> why it has no price (that option is left out)
    plan_qps: float  # the QPS the pick was sized for (--qps)
    options: list[TrafficOption]
    hours_per_month: float
    notes: list[str] = field(default_factory=list)

    @property
    def hours(self) -> int:
        return len(self.qps_per_hour)

    @property
    def peak_qps(self) -> float:
        return max(self.qps_per_hour)

    @property
    def trough_qps(self) -> float:
        return min(self.qps_per_hour)

    @property
    def peak_units(self) -> int:
        return max(self.units_per_hour)

    @property
    def trough_units(self) -> int:
        return min(self.units_per_hour)

    @property
    def mean_units(self) -> float:
        return sum(self.units_per_hour) / self.hours

    def option(self, name: str) -> TrafficOption | None:
        return next((o for o in self.options if o.name == name), None)

    @property
    def cheapest(self) -> TrafficOption:
        return min(self.options, key=lambda o: (o.usd_per_period, o.name != AUTOSCALED))

    _DERIVED = ("hours", "peak_qps", "trough_qps", "peak_units", "trough_units", "mean_units")

    def to_json(self) -> dict:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["options"] = [o.to_json() for o in self.options]
        d.update({k: getattr(self, k) for k in self._DERIVED})
        d["cheapest"] = self.cheapest.name
        return d

    @classmethod
    def from_json(cls, d, path) -> TrafficPlan:
        w = "traffic"
        if not isinstance(d, dict):
            raise ConfigError(path, w, "expected an object")
        qps, units = d.get("qps_per_hour"), d.get("units_per_hour")
        for k, v in (("qps_per_hour", qps), ("units_per_hour", units)):
            if not isinstance(v, list) or not 1 <= len(v) <= MAX_HOURS:
                raise ConfigError(path, f"{w}.{k}", f"expected a list of 1 to {MAX_HOURS:,} hours")
        assert isinstance(qps, list) and isinstance(units, list)
        if len(units) != len(qps):
            raise ConfigError(path, f"{w}.units_per_hour", f"{len(units):,} hours, but qps_per_hour has {len(qps):,}")
        q = [float(require_number(v, path, f"{w}.qps_per_hour[{i}]", 0, MAX_QPS)) for i, v in enumerate(qps)]
        u = [require_int(v, path, f"{w}.units_per_hour[{i}]", 0, MAX_UNITS) for i, v in enumerate(units)]
        for k in ("path", "sku"):
            require_ident(d.get(k), path, f"{w}.{k}", 4096)
        src = d.get("source")
        if not isinstance(src, str) or len(src) > MAX_SOURCE_CHARS:
            raise ConfigError(path, f"{w}.source", f"expected a string of at most {MAX_SOURCE_CHARS:,} characters")
        ints = {k: require_int(d.get(k), path, f"{w}.{k}", lo, MAX_UNITS)
                for k, lo in (("min_units", 0), ("unit_vms", 1), ("unit_replicas", 1))}
        cap = float(require_number(d.get("unit_qps_capacity"), path, f"{w}.unit_qps_capacity", 0, MAX_QPS, lo_open=True))
        plan_qps = float(require_number(d.get("plan_qps"), path, f"{w}.plan_qps", 0, MAX_QPS, lo_open=True))
        hpm = float(require_number(d.get("hours_per_month"), path, f"{w}.hours_per_month", 0, 745, lo_open=True))
        prices = _str_map(d.get("usd_per_unit_hour"), path, f"{w}.usd_per_unit_hour", number=True)
        sources = _str_map(d.get("price_sources"), path, f"{w}.price_sources")
        unpriced = _str_map(d.get("unpriced"), path, f"{w}.unpriced")
        opts = d.get("options")
        if not isinstance(opts, list) or not 1 <= len(opts) <= 2 * len(PRICINGS):
            raise ConfigError(path, f"{w}.options", "expected a list of the priced options")
        notes = d.get("notes") or []
        if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
            raise ConfigError(path, f"{w}.notes", "must be a list of strings")
        return cls(
            path=d["path"], source=src, qps_per_hour=q, units_per_hour=u, sku=d["sku"], unit_qps_capacity=cap,
            usd_per_unit_hour=prices, price_sources=sources, unpriced=unpriced, plan_qps=plan_qps,
            options=[TrafficOption.from_json(o, path, f"{w}.options[{i}]") for i, o in enumerate(opts)],
            hours_per_month=hpm, notes=list(notes), **ints,
        )


def _str_map(v, path, where: str, number: bool = False) -> dict:
    if not isinstance(v, dict) or any(k not in PRICINGS for k in v):
        raise ConfigError(path, where, f"expected an object keyed by pricing kind ({', '.join(PRICINGS)})")
    if number:
        hi = MAX_USD_PER_HOUR * MAX_UNITS
        return {k: float(require_number(x, path, f"{where}.{k}", 0, hi, lo_open=True)) for k, x in v.items()}
    if not all(isinstance(x, str) for x in v.values()):
        raise ConfigError(path, where, "expected strings")
    return dict(v)
