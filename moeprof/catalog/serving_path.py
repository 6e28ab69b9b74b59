"""The serving path of a request outside the engine's steps (moeprof/data/serving_path.json), per
engine and version: the frontend (HTTP, IPC, detokenising, SSE), the CPU time per prompt token
(tokenising) and whether the first token leaves one step late (async scheduling / overlap). And
engine versions as the benchmark records and --engine-version write them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ..errors import ConfigError, MoeprofError
from .values import data_path, read_data_json, sourced

NAME = "serving_path.json"
_VERSION = re.compile(r"(?:^|vllm_|sglang_|v)(\d+)\.(\d+)(?:\.(\d+))?(?:\.?post(\d+))?")


def parse_version(text: str | None) -> tuple[int, ...] | None:
    """(major, minor, patch, post) of a version as records and images name it ('v0.5.5.post3-rocm700-mi30x',
    'rocm7.0_ubuntu_22.04_vllm_0.10.1_instinct_...', '0.23.0 (docker image)'), or None when it names none."""
    m = _VERSION.search(str(text or "").strip())
    if not m:
        return None
    return tuple(int(x or 0) for x in m.groups())


def version_text(v: tuple[int, ...]) -> str:
    major, minor, patch, post = (tuple(v) + (0, 0, 0, 0))[:4]
    return f"{major}.{minor}.{patch}" + (f".post{post}" if post else "")


@dataclass(frozen=True)
class ServingPath:
    engine: str
    version: str
    frontend_s: float
    cpu_s_per_input_token: float
    output_delay_steps: float
    sources: dict


@lru_cache(maxsize=1)
def _load() -> dict:
    return read_data_json(NAME).get("engines", {})


def _engine(engine: str) -> dict:
    d = _load().get(engine)
    if not isinstance(d, dict):
        raise MoeprofError(f"engine {engine!r} has no serving path in {data_path(NAME)} (known: {', '.join(sorted(_load()))})")
    return d


def newest_covered(engine: str) -> str:
    """The newest version of `engine` the shipped data covers (the default engine version)."""
    v = parse_version(_engine(engine).get("newest_covered"))
    if v is None:
        raise ConfigError(data_path(NAME), f"engines.{engine}.newest_covered", "expected a version such as 0.5.12")
    return version_text(v)


def resolve_version(engine: str, version: str | None) -> str:
    """The version asked (normalised), else the newest covered; a text that names no version is an error."""
    if version is None:
        return newest_covered(engine)
    v = parse_version(version)
    if v is None:
        raise MoeprofError(f"--engine-version {version!r}: expected a version such as 0.13.0 or v0.5.5.post3")
    return version_text(v)


def serving_path(engine: str, version: str | None = None) -> ServingPath:
    """The serving-path terms of `engine` at `version` (None: the newest covered)."""
    d, path = _engine(engine), data_path(NAME)
    ver = resolve_version(engine, version)
    v = parse_version(ver)
    if v is None:
        raise ConfigError(path, f"engines.{engine}", f"version {ver!r} is not a version")
    front, s_front, _ = sourced(d.get("frontend_s"), path, f"engines.{engine}.frontend_s", positive=False)
    tok, s_tok, _ = sourced(d.get("cpu_s_per_input_token"), path, f"engines.{engine}.cpu_s_per_input_token", positive=False)
    entries = d.get("versions") or []
    picked = None
    for i, e in enumerate(entries):
        since = parse_version(e.get("since")) if isinstance(e, dict) else None
        if since is None:
            raise ConfigError(path, f"engines.{engine}.versions[{i}].since", "expected a version")
        if since <= v and (picked is None or since >= picked[0]):
            picked = (since, e, i)
    if picked is None:
        raise MoeprofError(f"{engine} {ver}: older than every version {path} describes")
    delay, s_delay, _ = sourced(picked[1].get("output_delay_steps"), path, f"engines.{engine}.versions[{picked[2]}].output_delay_steps",
                                positive=False)
    return ServingPath(engine, ver, float(front), float(tok), float(delay),
                       {"frontend_s": s_front, "cpu_s_per_input_token": s_tok, "output_delay_steps": s_delay})
