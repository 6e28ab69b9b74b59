"""Known engine regressions (moeprof/data/engine_regressions.json): an (engine, versions, GPUs,
models) whose published runs measure a software state the model does not represent, with the
evidence and the change that ended it. `known_regression` labels a benchmark record; `regression_for`
answers the same for a deployment asked of `evaluate`."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ..catalog.serving_path import parse_version
from ..catalog.values import data_path, read_data_json
from ..errors import ConfigError

NAME = "engine_regressions.json"


@dataclass(frozen=True)
class Regression:
    id: str
    engine: str
    versions: tuple[tuple[int, ...], ...]
    fixed_in: str
    gpus: frozenset[str]
    models: frozenset[str]
    what: str
    ended_by: str
    evidence: tuple[str, ...]  # URLs

    def label(self) -> str:
        return f"known regression {self.id} (fixed in {self.engine} {self.fixed_in})"


def _parse(e: dict) -> Regression:
    try:
        versions = tuple(parse_version(v) for v in e["versions"])
        if not versions or any(v is None for v in versions):
            raise ValueError(f"versions {e['versions']!r}: each must name a version")
        evidence = tuple(str(x["url"]) for x in e["evidence"])
        if not evidence or not all(u.startswith("https://") for u in evidence):
            raise ValueError("evidence: at least one https URL")
        return Regression(str(e["id"]), str(e["engine"]), versions, str(e["fixed_in"]),  # type: ignore[arg-type]
                          frozenset(e["gpus"]), frozenset(e["models"]), str(e["what"]), str(e["ended_by"]), evidence)
    except (KeyError, TypeError, ValueError) as err:
        raise ConfigError(data_path(NAME), f"regressions.{e.get('id', '?') if isinstance(e, dict) else '?'}", str(err)) from None


@lru_cache(maxsize=1)
def regressions() -> tuple[Regression, ...]:
    return tuple(_parse(e) for e in read_data_json(NAME).get("regressions", []))


def regression_for(engine: str, version: str | None, gpu: str, model: str) -> Regression | None:
    """The known regression of this engine release on this GPU for this model (a Hugging Face id), or None."""
    v = parse_version(version)
    if v is None:
        return None
    for r in regressions():
        if r.engine == engine and gpu in r.gpus and model in r.models and v in r.versions:
            return r
    return None


def known_regression(rec) -> Regression | None:
    """The known regression a benchmark record (calibrate.bench_record.BenchRecord) measured, or None."""
    return regression_for(rec.engine, rec.engine_version, rec.gpu, rec.model)
