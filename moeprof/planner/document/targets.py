"""What a plan is asked for: the workload and latency targets, and the search space."""

from __future__ import annotations

from dataclasses import dataclass

from ...catalog.models.quant import KV_DTYPES
from ...catalog.targets import model_target_defaults, target_defaults, target_sources
from ...errors import MoeprofError

MAX_HEADROOM = 10.0  # capacity for 11 x the stated QPS: beyond that, state the QPS instead
MAX_SPARE_UNITS = 8  # N + 8: beyond that, state a higher QPS instead


@dataclass(frozen=True)
class Targets:
    """Requests of input_tokens + output_tokens at qps (Poisson); every admitted sequence may grow
    to context_tokens (prompt + output); TTFT and TPOT targets at the given percentile; capacity
    at the pessimistic edge of the error band >= (1 + headroom) x qps (planner.search.bands)."""

    input_tokens: int
    output_tokens: int
    context_tokens: int
    qps: float
    ttft_ms: float
    tpot_ms: float
    percentile: float
    headroom: float = 0.0
    redundancy: int = 0  # K of N + K: spare units (deployment.replicas), losing K still meets the QPS

    @classmethod
    def defaults(cls, model: str | None = None, **over) -> Targets:
        """The defaults of moeprof/data/targets.json (of `model`, a built-in short name: a reasoning
        model's long-output workload) with `over` replacing any (None keeps it)."""
        d = model_target_defaults(model)[0] if model is not None else target_defaults()
        d.update({k: v for k, v in over.items() if v is not None})
        t = cls(**d)
        if t.input_tokens + t.output_tokens > t.context_tokens:
            raise MoeprofError(
                f"--input-tokens + --output-tokens = {t.input_tokens + t.output_tokens:,} exceeds --context {t.context_tokens:,}"
            )
        if not 0 <= t.headroom <= MAX_HEADROOM:
            raise MoeprofError(f"--headroom must be in [0, {MAX_HEADROOM:g}], got {t.headroom:g}")
        if not 0 <= t.redundancy <= MAX_SPARE_UNITS:
            raise MoeprofError(f"--redundancy must be N+0 to N+{MAX_SPARE_UNITS}, got N+{t.redundancy}")
        if not 50 <= t.percentile < 100:
            raise MoeprofError(f"--percentile must be in [50, 100), got {t.percentile:g}")
        return t

    def sources(self, model=None) -> dict:
        """Where each target comes from: the data file's source for a default (of `model`, a
        ModelSpec: its workload kind, its maximum context), 'user' for a value that differs from it."""
        from ...catalog.models.identity import model_ref

        d, s = model_target_defaults(model_ref(model), model.name) if model is not None else (target_defaults(), target_sources())
        out = {"redundancy": "N+0 (no spare unit) unless set by the user" if self.redundancy == 0 else "set by the user"}
        for k, default in d.items():
            mine = getattr(self, k)
            out[k] = s[k] if mine == default else f"set by the user (default {default:g}: {s[k]})"
        if model is not None and self.context_tokens == model.max_position_embeddings < d["context_tokens"]:
            out["context_tokens"] = (f"{model.name}'s maximum context (max_position_embeddings), below the default "
                                     f"{d['context_tokens']:,}: {s['context_tokens']}")
        return out


@dataclass(frozen=True)
class SearchSpace:
    skus: tuple[str, ...] | None = None
    quants: tuple[str, ...] | None = None
    kv_dtypes: tuple[str, ...] = tuple(KV_DTYPES)
    max_vms: int = 32
    routing_skew: float = 0.0
    allow_requantize: bool = False  # also recipes no published checkpoint loads as (weights of your own)


def parse_redundancy(text: str) -> int:
    """K of `N+K` (spare units: losing K still meets the target), as `--redundancy` takes it."""
    t = str(text).strip().upper().replace(" ", "")
    k = t[2:] if t.startswith("N+") else ""
    if not (k.isascii() and k.isdigit()) or not 0 <= int(k) <= MAX_SPARE_UNITS:
        raise MoeprofError(f"--redundancy: expected N+K with K a whole number from 0 to {MAX_SPARE_UNITS} (spare units, "
                           f"e.g. N+1), got {text!r}")
    return int(k)
