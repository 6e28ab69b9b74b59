"""GPU profile format: what the probes measure and the performance model reads.

A profile is one JSON file (profiles/*.json), never pickled:

    {
      "schema": "moeprof.profile", "schema_version": 1,
      "gpu": "h100-sxm-80gb",                # key in the GPU catalog
      "source": "measured" | "published",    # published = derived from public measurements
      "note": "...",
      "provenance": {"device_name", "driver", "torch", "cuda", "rocm", "host", "date",
                     "moeprof_version", "probe_settings", "sources": [...]},
      "curves": {                            # achieved rates vs a size, see CURVE_KINDS
        "gemm_bf16": {"x": [m_tokens...], "y": [flop_per_s...], "source": "..."},
        ...
      },
      "scalars": {"kernel_overhead_s": ..., "joules_per_flop": ..., ...},
      "rows": [ {"probe": "gemm", ...}, ... ],   # raw measurements, one dict per probe run
      "serving_calibration": {...}           # optional: fitted by `moeprof calibrate` on serving
                                             # benchmark results (catalog.calibration.serving_section); wins
                                             # over the shipped serving calibration for this GPU
      "kernel_tables": {name: {...}}         # optional measured latency grids per kernel
    }

Kernel tables (moeprof/kernel_tables) are latency grids per kernel at its shape; the model reads
them where a profile has them and the curves elsewhere. They are parsed on first use.

Curves are interpolated log-log and clamped at both ends (a rate never extrapolates beyond
what was measured or published).

Rows are free-form with unit-suffixed fields; `probe` names the kind: gemm / gemm_peak
{shape, dtype, m_tokens, k, n, ms, flop, flop_per_s}, copy {buffer_bytes, bytes (moved), ms},
moe_layer {t_tokens, hidden, num_experts, top_k, expert_intermediate, shared_intermediate, impl,
cuda_graph, experts_touched, ms}, attention_decode {batch, kv_len, num_heads, num_kv_heads,
head_dim, kv_bytes, ms}, attention_prefill {seq_tokens, flop, ms}, kv_cache {tokens,
expected_bytes, measured_bytes, device_used_bytes}, energy {burst, seconds, energy_j,
j_per_flop | j_per_byte}, allreduce / alltoall {message_bytes, world_size, nodes,
bus_bytes_per_s, ms}, telemetry {timestamp_s, phase, power_w, energy_j, ...}. A row that could
not be measured carries "error" (oom, check_failed, skipped_time_budget, ...) and no timing.
A profile is loaded into pandas with `Profile.rows_frame()`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

from .errors import ConfigError, MoeprofError
from .fileio import json_safe, write_atomic

SCHEMA = "moeprof.profile"
SCHEMA_VERSION = 1

# curve name -> (x meaning, y meaning). Rates are achieved on ONE GPU unless named bus_*.
CURVE_KINDS = {
    "gemm_bf16": ("m_tokens", "flop_per_s"),
    "gemm_fp8": ("m_tokens", "flop_per_s"),
    "memory_copy": ("bytes", "bytes_per_s"),  # x and y both count bytes moved = read + write
    "attention_decode": ("kv_bytes", "bytes_per_s"),  # KV bytes read per step
    "attention_prefill": ("seq_tokens", "flop_per_s"),
    "allreduce": ("message_bytes", "bus_bytes_per_s"),
    "alltoall": ("message_bytes", "bus_bytes_per_s"),
    # A whole MoE layer forward (router, shared expert, top-k routed experts) at the shapes in
    # provenance.probe_settings.shapes; FLOPs counted as 2 x (router + shared + top_k experts).
    "moe_layer": ("t_tokens", "flop_per_s"),
}
SCALAR_KINDS = {
    "kernel_overhead_s": "fixed cost per kernel launch inside a CUDA/HIP graph",
    "joules_per_flop": "energy per FLOP on a compute-bound burst, above idle",
    "joules_per_byte": "energy per HBM byte on a memory-bound burst, above idle",
    "idle_power_w": "board power with the GPU idle",
    "collective_latency_s": "fixed latency of one collective call",
}
SOURCES = ("measured", "published")


@dataclass(frozen=True)
class Curve:
    x: tuple[float, ...]
    y: tuple[float, ...]
    source: str = ""

    def __call__(self, x):
        """Rate at x (scalar or numpy array), interpolated log-log and clamped to the first /
        last point. Log-log, a power law between measured points, because rates that grow with
        size (a memory-bound GEMM's FLOP/s grows like M, a collective's bus bandwidth like the
        message below saturation) overshoot between points when interpolated linearly in
        log(x), which would let time = size / rate fall as the size grows."""
        import numpy as np

        xs = np.log(np.asarray(self.x, dtype=float))
        ys = np.log(np.asarray(self.y, dtype=float))
        out = np.exp(np.interp(np.log(np.maximum(np.asarray(x, dtype=float), 1e-300)), xs, ys))
        return float(out) if out.ndim == 0 else out

    def to_json(self) -> dict:
        return {"x": list(self.x), "y": list(self.y), "source": self.source}


@dataclass
class Profile:
    gpu: str
    source: str
    provenance: dict
    curves: dict[str, Curve] = field(default_factory=dict)
    scalars: dict[str, float] = field(default_factory=dict)
    rows: list[dict] = field(default_factory=list)
    note: str = ""
    path: str = ""
    serving_calibration: object = None  # catalog.calibration.ServingCalibration or None
    kernel_tables_json: dict = field(default_factory=dict)
    _tables: object = field(default=None, repr=False, compare=False)

    @property
    def calibrated(self) -> bool:
        return self.source == "measured"

    @property
    def label(self) -> str:
        date = self.provenance.get("date", "undated")
        cal = self.serving_calibration
        tail = f"; serving calibration fitted {cal.section.get('date', '')}".rstrip() if cal is not None and cal.section else ""
        if self.source == "measured":
            return f"measured profile {Path(self.path).name or self.gpu} ({date}){tail}"
        return f"published measurements ({Path(self.path).name or self.gpu}){tail}"

    def curve(self, name: str) -> Curve | None:
        return self.curves.get(name)

    @property
    def kernel_tables(self):
        """The profile's KernelTables (parsed once), or None when it has none."""
        if not self.kernel_tables_json:
            return None
        if self._tables is None:
            from .kernel_tables.collection import KernelTables

            try:
                self._tables = KernelTables.from_json(self.kernel_tables_json)
            except MoeprofError as e:
                raise MoeprofError(f"{self.path or self.gpu}: {e}") from None
        return self._tables

    def to_json(self) -> dict:
        out = {
            "schema": SCHEMA,
            "schema_version": SCHEMA_VERSION,
            "gpu": self.gpu,
            "source": self.source,
            "note": self.note,
            "provenance": self.provenance,
            "curves": {k: c.to_json() for k, c in self.curves.items()},
            "scalars": dict(self.scalars),
            "rows": list(self.rows),
            **({"kernel_tables": self.kernel_tables_json} if self.kernel_tables_json else {}),
        }
        if self.serving_calibration is not None:
            from .catalog.calibration import serving_section

            out[serving_section.KEY] = serving_section.to_json(self.serving_calibration)
        return out

    def rows_frame(self):
        """Raw probe rows as a pandas DataFrame (one row per measurement)."""
        import pandas as pd

        return pd.DataFrame(self.rows)


def _num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


# Row fields the model and `validate` read as numbers (see the row kinds above): each must be a
# finite number (or null) of magnitude at most ROW_VALUE_MAX. Other fields are free-form.
_ROW_NUMBERS = {
    "ms", "k", "n", "m_tokens", "flop", "flop_per_s", "bytes", "buffer_bytes", "bytes_per_s", "t_tokens",
    "hidden", "num_experts", "top_k", "expert_intermediate", "shared_intermediate", "experts_touched", "batch",
    "kv_len", "num_heads", "num_kv_heads", "head_dim", "kv_bytes", "seq_tokens", "tokens", "expected_bytes",
    "measured_bytes", "device_used_bytes", "seconds", "energy_j", "j_per_flop", "j_per_byte", "message_bytes",
    "world_size", "nodes", "bus_bytes_per_s", "timestamp_s", "power_w",
}
ROW_VALUE_MAX = 1e30


def _check_row(r: dict, path, where: str) -> None:
    for k in _ROW_NUMBERS.intersection(r):
        v = r[k]
        if v is None:
            continue
        if not _num(v) or abs(v) > ROW_VALUE_MAX:
            raise ConfigError(path, f"{where}.{k}", f"must be a finite number of magnitude at most {ROW_VALUE_MAX:g}, got {str(v)[:40]!r}")


def from_json(d: dict, path="<profile>") -> Profile:
    """Validate a parsed profile; errors name the file and the field."""
    if not isinstance(d, dict):
        raise ConfigError(path, "<root>", "expected a JSON object")
    if d.get("schema") != SCHEMA:
        raise ConfigError(path, "schema", f"expected {SCHEMA!r}, got {d.get('schema')!r}")
    if d.get("schema_version") != SCHEMA_VERSION:
        raise ConfigError(
            path, "schema_version", f"unsupported version {d.get('schema_version')!r} (this moeprof reads {SCHEMA_VERSION})"
        )
    for key in ("gpu", "source"):
        if not isinstance(d.get(key), str) or not d.get(key):
            raise ConfigError(path, key, "missing or not a string")
    if d["source"] not in SOURCES:
        raise ConfigError(path, "source", f"must be one of {', '.join(SOURCES)}")
    prov = d.get("provenance")
    if not isinstance(prov, dict):
        raise ConfigError(path, "provenance", "missing or not an object")
    for key in ("curves", "scalars"):
        if d.get(key) is not None and not isinstance(d[key], dict):
            raise ConfigError(path, key, "expected a JSON object")
    curves = {}
    for name, c in (d.get("curves") or {}).items():
        where = f"curves.{name}"
        if name not in CURVE_KINDS:
            raise ConfigError(path, where, f"unknown curve (known: {', '.join(CURVE_KINDS)})")
        if not isinstance(c, dict):
            raise ConfigError(path, where, "expected an object with x and y")
        xs, ys = c.get("x"), c.get("y")
        if not isinstance(xs, list) or not isinstance(ys, list) or not xs or len(xs) != len(ys):
            raise ConfigError(path, where, "x and y must be non-empty lists of equal length")
        if not all(_num(v) and v > 0 for v in xs + ys):
            raise ConfigError(path, where, "x and y must be positive finite numbers")
        if any(b <= a for a, b in zip(xs, xs[1:])):
            raise ConfigError(path, f"{where}.x", "must be strictly increasing")
        curves[name] = Curve(tuple(float(v) for v in xs), tuple(float(v) for v in ys), str(c.get("source", "")))
    scalars = {}
    for name, v in (d.get("scalars") or {}).items():
        if name not in SCALAR_KINDS:
            raise ConfigError(path, f"scalars.{name}", f"unknown scalar (known: {', '.join(SCALAR_KINDS)})")
        if not _num(v) or v < 0:
            raise ConfigError(path, f"scalars.{name}", f"must be a non-negative number, got {v!r}")
        scalars[name] = float(v)
    rows = d.get("rows", [])
    if not isinstance(rows, list) or not all(isinstance(r, dict) and isinstance(r.get("probe"), str) for r in rows):
        raise ConfigError(path, "rows", "must be a list of objects each with a 'probe' name")
    for i, r in enumerate(rows):
        _check_row(r, path, f"rows[{i}]")
    serving = None
    if d.get("serving_calibration") is not None:
        from .catalog.calibration import serving_section

        serving = serving_section.parse(d["serving_calibration"], d["gpu"], path)
    tables = d.get("kernel_tables") or {}
    if not isinstance(tables, dict):
        raise ConfigError(path, "kernel_tables", "expected a JSON object")
    from .kernel_tables.collection import check_table_json, check_tables_json

    for name, t in tables.items():
        try:
            check_table_json(name, t)
        except MoeprofError as e:
            field, _, problem = str(e).partition(": ")
            raise ConfigError(path, field, problem) from None
    try:
        check_tables_json(tables)
    except MoeprofError as e:
        raise ConfigError(path, "kernel_tables", str(e).split(": ", 1)[-1]) from None
    return Profile(
        gpu=d["gpu"],
        source=d["source"],
        provenance=prov,
        curves=curves,
        scalars=scalars,
        rows=rows,
        note=str(d.get("note", "")),
        path=str(path),
        serving_calibration=serving,
        kernel_tables_json=tables,
    )


def load_profile(path) -> Profile:
    from .inputs import read_json_file

    p = Path(path)
    return from_json(read_json_file(p, "profile"), p)


def save_profile(profile: Profile, path) -> Path:
    """Write atomically: a temp file in the same folder, fsync, then rename over the target.

    The document is validated with the loader first, so a file on disk is always loadable;
    an error or interrupt at any point leaves the previous file (or none) and no temp file."""
    p = Path(path)
    doc = json_safe(profile.to_json())
    from_json(doc, p)  # refuse to write what load_profile would reject
    tables = doc.pop("kernel_tables", None)
    data = json.dumps(doc, indent=1, allow_nan=False)
    if tables:  # one line per table: its latency grid is data, not for reading line by line
        body = ",\n".join(f"  {json.dumps(k)}: {json.dumps(v, separators=(',', ':'), allow_nan=False)}" for k, v in tables.items())
        data = data[: data.rstrip().rfind("}")].rstrip() + ',\n "kernel_tables": {\n' + body + "\n }\n}"
    created = []  # folders this call creates, removed again if the write fails
    if str(path) != "-":
        folder = p.parent
        while str(folder) not in ("", ".") and not folder.exists() and not folder.is_symlink():
            created.append(folder)
            folder = folder.parent
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            _remove_folders(created)
            raise MoeprofError(f"{p}: cannot write profile: {p.parent}: {e.strerror or e}") from None
    try:
        write_atomic(p, data, what="profile")
    except BaseException:
        _remove_folders(created)
        raise
    return p


def _remove_folders(folders) -> None:
    for f in folders:  # deepest first; only while empty
        try:
            f.rmdir()
        except OSError:
            return


def shipped_profiles() -> dict[str, Profile]:
    """Profiles shipped in profiles/ (installed as moeprof.shipped_profiles), keyed by file stem;
    read once per process (they are package data; a Profile is never modified in place)."""
    return dict(_shipped_profiles())


@lru_cache(maxsize=1)
def _shipped_profiles() -> dict[str, Profile]:
    out = {}
    try:
        root = resources.files("moeprof.shipped_profiles")
    except ModuleNotFoundError:
        return out
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            out[entry.name[:-5]] = from_json(json.loads(entry.read_text()), f"profiles/{entry.name}")
    return out


def default_profile_for(gpu_key: str) -> Profile | None:
    """The shipped profile for a GPU: a measured one if any (newest date), else the published one.
    Profiles with kernel tables are chosen by name (`--profile h100-sxm-80gb.aic-vllm`); by
    default only prefill is timed with them (deployment.steps.prefill_profile)."""
    cands = [p for p in shipped_profiles().values() if p.gpu == gpu_key and not p.kernel_tables_json]
    if not cands:
        return None
    cands.sort(key=lambda p: (p.source == "measured", str(p.provenance.get("date", ""))))
    return cands[-1]


def load_profile_or_shipped(ref: str) -> Profile:
    """A profile file, or a shipped profile by its file stem (e.g. 'h100-sxm-80gb.aic-vllm')
    when no such file exists."""
    p = Path(ref)
    if not p.exists() and p.suffix != ".json" and "/" not in str(ref):
        shipped = shipped_profiles()
        if str(ref) in shipped:
            return shipped[str(ref)]
    return load_profile(p)


def resolve_profile(ref: str) -> Profile:
    """A profile by path, by shipped file stem (e.g. 'h100-sxm-80gb.published') or by GPU name
    or alias ('h100', 'mi300x-192gb': that GPU's default shipped profile)."""
    p = Path(ref)
    if p.suffix == ".json" or p.exists() or "/" in ref:
        return load_profile(p)
    shipped = shipped_profiles()
    if ref in shipped:
        return shipped[ref]
    from .catalog.hardware.vms import get_gpu

    gpu = get_gpu(ref)  # raises UnknownNameError with suggestions
    prof = default_profile_for(gpu.key)
    if prof is None:
        raise MoeprofError(f"no shipped profile for GPU {gpu.key}; pass a profile file path")
    return prof
