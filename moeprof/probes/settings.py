"""What a probe run does: which probes, how long, at which sizes. No torch here."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..errors import MoeprofError

PROBES = ("ceilings", "gemm", "moe", "attention", "kv_cache", "energy", "collectives")

# Share of the time budget each probe may use; a probe that finishes early leaves its time to
# the ones after it (see ProbeContext.begin).
BUDGET_SHARES = {
    "ceilings": 0.08,
    "gemm": 0.30,
    "moe": 0.22,
    "attention": 0.12,
    "kv_cache": 0.05,
    "energy": 0.13,
    "collectives": 0.10,
}


@dataclass
class ProbeSettings:
    device: str = "auto"  # auto | cuda | rocm | cpu
    model: str = "scout"
    quick: bool = False
    budget_s: float | None = None  # wall-clock budget for all probes (None: no limit)
    probes: tuple[str, ...] = PROBES
    warmup: int = 2
    repeats: int = 5
    target_ms: float = 2.0  # each timed sample loops the op until it lasts about this long
    shape_scale: float | None = None  # None: chosen from the device (1 on a large GPU)
    seed: int = 1234
    collective_procs: int | None = None  # None: all local GPUs, 2 gloo processes on a CPU
    energy_window_s: float | None = None  # None: chosen from the device and --quick
    # torch threads for CPU probes: 1 keeps timings stable when other processes share the cores
    # (a multi-threaded op stalls at its barrier whenever one thread is descheduled); None: torch's
    cpu_threads: int | None = 1

    def __post_init__(self):
        unknown = [p for p in self.probes if p not in PROBES]
        if unknown:
            raise MoeprofError(f"unknown probe(s) {', '.join(unknown)} (known: {', '.join(PROBES)})")
        if self.device not in ("auto", "cuda", "rocm", "cpu"):
            raise MoeprofError(f"unknown device {self.device!r}: use cuda, rocm or cpu")
        if self.repeats < 1 or self.warmup < 0:
            raise MoeprofError("repeats must be >= 1 and warmup >= 0")
        if self.shape_scale is not None and not 0 < self.shape_scale <= 1:
            raise MoeprofError(f"shape scale must be in (0, 1], got {self.shape_scale}")

    def to_json(self) -> dict:
        d = asdict(self)
        d["probes"] = list(self.probes)
        return d


def settings_from_options(device="auto", model="scout", quick=False, only=None, budget_s=None, repeats=None, shape_scale=None) -> ProbeSettings:
    """Settings from command-line options (both front ends); checks the model and that torch
    is installed before anything heavy is imported."""
    import importlib.util

    from ..catalog.models import load_model

    load_model(model)  # a bad name fails here, with suggestions
    probes = tuple(p.strip() for p in only.split(",") if p.strip()) if only else PROBES
    settings = ProbeSettings(
        device=device,
        model=model,
        quick=quick,
        budget_s=budget_s,
        probes=probes,
        repeats=repeats or (3 if quick else 5),
        warmup=1 if quick else 2,
        target_ms=1.0 if quick else 2.0,
        shape_scale=shape_scale,
    )
    if importlib.util.find_spec("torch") is None:
        raise MoeprofError("moeprof probe needs torch: pip install 'moeprof[probe]' (or a torch build for your GPU)")
    return settings
