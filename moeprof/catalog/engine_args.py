"""Which command-line flags a released serving engine accepts (moeprof/data/engine_args/*.json).

    engine_flags("vllm", "0.11")            frozenset of "--flag" strings `vllm serve` 0.11.0 accepts
    shipped_engine_versions("sglang")       ["0.5.3", "0.5.23"]
    check_argv("vllm", "0.11", argv)        the flags in argv that release does not accept

The files are extracted from each release's PyPI wheel by scripts/extract_engine_args.py (the ast
of vLLM's EngineArgs / FrontendArgs and SGLang's ServerArgs; nothing is imported). A version picks
the newest shipped release at or before it: "0.11" means the 0.11 series (0.11.x), "0.11.2" means
0.11.2 or the nearest older shipped release; None means the newest shipped release.

check_argv reads an argv the way the engine's argparse parser does: `--flag=value` and
`--flag value` forms, `--no-flag` for boolean-optional flags, vLLM's `--flag_name` underscore
spelling and `--json-flag.key value` dotted form, short flags (`-tp`, `-O3`), and argparse's unique
prefixes (`--tp` for SGLang's `--tp-size`) where the parser allows abbreviations. A leading launcher
(`vllm serve`, `python -m sglang.launch_server`) is dropped; tokens that do not start with '-' (the
model, values) and everything after a bare `--` are skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

from ..errors import ConfigError
from ..inputs import read_json_file, require_ident, require_object

FOLDER = "engine_args"
_LABEL = f"moeprof/data/{FOLDER}"
_VERSION = re.compile(r"^\s*v?(\d+(?:\.\d+)*)(?:\.?post(\d+))?")
_NUMBER = re.compile(r"^-\d|^-\.\d")  # a negative number is a value, not a flag


@dataclass(frozen=True)
class EngineArgList:
    """The flags one engine release accepts."""

    engine: str
    version: str
    command: str
    flags: frozenset[str]  # long flags, --no-x forms included
    short_flags: frozenset[str]
    boolean_flags: frozenset[str]
    refused: tuple[tuple[str, str], ...]  # (flag, why): argparse knows it, the command rejects it
    underscores_as_dashes: bool
    dotted_json_keys: bool
    allow_abbrev: bool


def version_key(version: str) -> tuple[int, ...]:
    """(major, minor, patch, ..., post) of a release string ("0.8.5.post1" -> (0, 8, 5, 1));
    ConfigError when it does not start with a release number."""
    hit = _VERSION.match(str(version))
    if not hit:
        raise ConfigError(_LABEL, "version", f"{str(version)[:40]!r} is not a release number such as 0.11.0")
    key = tuple(int(x) for x in hit.group(1).split("."))
    return key + (int(hit.group(2)),) if hit.group(2) else key


def _folder():
    return resources.files("moeprof") / "data" / FOLDER


@lru_cache(maxsize=1)
def _index() -> dict[str, dict[str, str]]:
    """{engine: {version: file name}} of the shipped files (engine-version.json)."""
    out: dict[str, dict[str, str]] = {}
    for p in _folder().iterdir():
        if p.name.endswith(".json") and "-" in p.name:
            engine, version = p.name[: -len(".json")].split("-", 1)
            out.setdefault(engine, {})[version] = p.name
    return out


def shipped_engine_versions(engine: str) -> list[str]:
    """Releases of `engine` with a shipped flag list, oldest first; ConfigError for an engine
    without any."""
    versions = _index().get(str(engine).lower())
    if not versions:
        known = ", ".join(sorted(_index())) or "none"
        raise ConfigError(_LABEL, "engine", f"no shipped argument list for engine {str(engine)[:40]!r} (shipped: {known})")
    return sorted(versions, key=version_key)


def _resolve(engine: str, version: str | None) -> str:
    shipped = shipped_engine_versions(engine)
    if version is None:
        return shipped[-1]
    asked = version_key(version)
    fits = [v for v in shipped if version_key(v)[: len(asked)] <= asked]
    if not fits:
        raise ConfigError(_LABEL, "version", f"no shipped {engine} argument list at or before {str(version)[:40]} (shipped: {', '.join(shipped)})")
    return fits[-1]


def _strings(doc: dict, label: str, field: str) -> frozenset[str]:
    v = doc.get(field, [])
    if not isinstance(v, list) or not all(isinstance(x, str) and x.startswith("-") and len(x) <= 200 for x in v):
        raise ConfigError(label, field, "expected a list of flags starting with '-'")
    return frozenset(v)


@cache
def engine_arg_list(engine: str, version: str | None = None) -> EngineArgList:
    """The shipped flag list of `engine` nearest at or before `version` (see the module doc)."""
    engine = str(engine).lower()
    chosen = _resolve(engine, version)
    name = _index()[engine][chosen]
    label = f"{_LABEL}/{name}"
    with resources.as_file(_folder() / name) as path:  # a real file even from a zip install
        doc = require_object(read_json_file(path, "engine argument list"), label, "<root>")
    if doc.get("engine") != engine or doc.get("version") != chosen:
        raise ConfigError(label, "engine", f"the file says {doc.get('engine')!r} {doc.get('version')!r}, its name {engine!r} {chosen!r}")
    flags = _strings(doc, label, "flags")
    if not flags or not all(f.startswith("--") for f in flags):
        raise ConfigError(label, "flags", "expected a non-empty list of --flags")
    rules = require_object(doc.get("argv_rules", {}), label, "argv_rules")
    refused = require_object(doc.get("refused", {}), label, "refused")
    return EngineArgList(
        engine=engine,
        version=chosen,
        command=require_ident(doc.get("command"), label, "command"),
        flags=flags,
        short_flags=_strings(doc, label, "short_flags"),
        boolean_flags=_strings(doc, label, "boolean_flags"),
        refused=tuple(sorted((str(k), str(v)) for k, v in refused.items())),
        underscores_as_dashes=rules.get("underscores_as_dashes") is True,
        dotted_json_keys=rules.get("dotted_json_keys") is True,
        allow_abbrev=rules.get("allow_abbrev", True) is not False,
    )


def engine_flags(engine: str, version: str | None = None) -> frozenset[str]:
    """The long flags (`--x`, and `--no-x` for boolean-optional ones) the engine release accepts."""
    return engine_arg_list(engine, version).flags


def _long_name(token: str, args: EngineArgList) -> str:
    name = token.split("=", 1)[0]
    if args.dotted_json_keys and "." in name:
        name = name.split(".", 1)[0]  # --compilation-config.level 3 -> --compilation-config
    if args.underscores_as_dashes:
        name = "--" + name[2:].replace("_", "-")
    return name


def _long_ok(name: str, args: EngineArgList) -> bool:
    if name in args.flags:
        return True
    if not args.allow_abbrev:
        return False
    matches = [f for f in args.flags if f.startswith(name)]
    return len(matches) == 1  # argparse takes a unique prefix; an ambiguous one is an error


def _short_ok(token: str, args: EngineArgList) -> bool:
    name = token.split("=", 1)[0]
    if name in args.short_flags:
        return True
    if args.dotted_json_keys and "." in name and name.split(".", 1)[0] in args.short_flags:
        return True  # -O.level 3, -cc.pass_config...
    return any(len(s) == 2 and token.startswith(s) for s in args.short_flags)  # -O3: value attached


def check_argv(engine: str, version: str | None, argv: list[str]) -> list[str]:
    """The flags in `argv` (as written, without their values) that the engine release does not
    accept, in order of first appearance; flags the command refuses (vLLM 0.11 `vllm serve
    --model`) count as not accepted."""
    args = engine_arg_list(engine, version)
    refused = {flag for flag, _ in args.refused}
    argv = [str(t) for t in argv]
    launcher = args.command.split()[-1]  # "serve", "sglang.launch_server": what precedes it is not the engine's
    if launcher in argv:
        argv = argv[argv.index(launcher) + 1 :]
    bad: list[str] = []
    for token in argv:
        if token == "--":
            break
        if not token.startswith("-") or token == "-" or _NUMBER.match(token):
            continue
        if token.startswith("--"):
            name = _long_name(token, args)
            ok = name not in refused and _long_ok(name, args)
        else:
            ok = _short_ok(token, args)
        shown = token.split("=", 1)[0]
        if not ok and shown not in bad:
            bad.append(shown)
    return bad
