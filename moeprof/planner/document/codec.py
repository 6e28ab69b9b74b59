"""One codec for every record of the plan document: a record is a dataclass whose fields carry
their type (the annotation) and, where a number or a name has limits, a `spec(...)` in the field's
metadata; `decode(cls, value, path, where)` checks a JSON value against them and builds the record,
`encode(record)` writes its JSON form (non-finite floats as null).

Types understood: str, bool, int, float, X | None, list[X], dict[str, X], a bare dict (any JSON
object: sources, engine settings) and nested records. Every failure is one ConfigError naming the
file and the field's path (`charts.kv[2].max_seqs`), never a TypeError.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import operator
import types
import typing

from ...errors import ConfigError
from ...inputs import has_control

MAX_TEXT_CHARS = 100_000  # a note or a source; far above any the planner writes
MAX_LIST = 1_000_000  # items in one list of a document


def spec(lo: float | None = None, hi: float | None = None, *, lo_open: bool = False, why: str = "",
         choices: tuple[str, ...] | None = None, nonempty: bool = False, name: bool = False) -> dict:
    """Field metadata: numeric bounds [lo, hi] (lo excluded with lo_open, `why` says where they come
    from), the strings allowed (`choices`), a non-empty string, or a name (no control characters)."""
    return {"moeprof": {"lo": lo, "hi": hi, "lo_open": lo_open, "why": why, "choices": choices, "nonempty": nonempty,
                        "name": name}}


def field(default=dataclasses.MISSING, default_factory=dataclasses.MISSING, **kw):
    """dataclasses.field with a spec(...)."""
    if default_factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=spec(**kw))
    return dataclasses.field(default=default, metadata=spec(**kw))


_NONE = {"lo": None, "hi": None, "lo_open": False, "why": "", "choices": None, "nonempty": False, "name": False}


@functools.cache
def _hints(cls) -> dict:
    return typing.get_type_hints(cls)


def _fail(path, where: str, message: str):
    raise ConfigError(path, where, message)


def _is_optional(tp) -> tuple[bool, object]:
    args = typing.get_args(tp)
    if (typing.get_origin(tp) in (typing.Union, types.UnionType)) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return True, rest[0] if len(rest) == 1 else functools.reduce(operator.or_, rest)
    return False, tp


def _is_collection(tp) -> bool:
    return tp in (list, dict) or typing.get_origin(tp) in (list, dict)


def _number(v, s: dict, path, where: str, integer: bool):
    what = "an integer" if integer else "a finite number"
    if isinstance(v, bool) or not isinstance(v, (int, float)) or (integer and not isinstance(v, int)):
        _fail(path, where, f"must be {what}, got {v!r}")
    if not integer and not math.isfinite(v):
        _fail(path, where, f"must be {what}, got {v!r}")
    lo, hi = s["lo"], s["hi"]
    if (lo is not None and (v < lo or (s["lo_open"] and v == lo))) or (hi is not None and v > hi):
        rng = f"{'(' if s['lo_open'] else '['}{lo if lo is not None else '-inf'}, {hi if hi is not None else 'inf'}]"
        _fail(path, where, f"must be in {rng}{' (' + s['why'] + ')' if s['why'] else ''}, got {v!r}")
    return int(v) if integer else float(v)


def _value(tp, v, s: dict, path, where: str):
    optional, tp = _is_optional(tp)
    if v is None:
        if optional:
            return None
        _fail(path, where, "missing or null")
    origin = typing.get_origin(tp)
    if tp is str:
        if not isinstance(v, str):
            _fail(path, where, f"must be a string, got {type(v).__name__}")
        if s["nonempty"] and not v:
            _fail(path, where, "must not be empty")
        if len(v) > MAX_TEXT_CHARS:
            _fail(path, where, f"longer than {MAX_TEXT_CHARS:,} characters")
        if s["name"] and has_control(v):
            _fail(path, where, "contains control or line-break characters")
        if s["choices"] is not None and v not in s["choices"]:
            _fail(path, where, f"{v!r} is not one of {', '.join(s['choices'])}")
        return v
    if tp is bool:
        if not isinstance(v, bool):
            _fail(path, where, f"must be true or false, got {v!r}")
        return v
    if tp is int or tp is float:
        return _number(v, s, path, where, tp is int)
    if origin is list or tp is list:
        if not isinstance(v, list):
            _fail(path, where, f"must be a list, got {type(v).__name__}")
        if len(v) > MAX_LIST:
            _fail(path, where, f"more than {MAX_LIST:,} items")
        (item,) = typing.get_args(tp) or (typing.Any,)
        return [_value(item, x, s, path, f"{where}[{i}]") for i, x in enumerate(v)]
    if origin is dict or tp is dict:
        if not isinstance(v, dict):
            _fail(path, where, f"must be an object, got {type(v).__name__}")
        args = typing.get_args(tp)
        if not args:
            return v
        return {str(k): _value(args[1], x, s, path, f"{where}.{k}") for k, x in v.items()}
    if tp is typing.Any or tp is object:
        return v
    if dataclasses.is_dataclass(tp):
        own = getattr(tp, "decode_at", None)  # a record with a schema of its own (PlanRow's ROW_SCHEMA)
        return own(v, path, where) if own is not None else decode(tp, v, path, where)
    raise TypeError(f"codec: unsupported field type {tp!r} at {where}")  # a programming error, not an input's


def decode(cls, d, path, where: str):
    """A `cls` record from the JSON object `d`: every field checked against its type and spec; a
    field absent from `d` takes its default, or is an error when it has none."""
    if not isinstance(d, dict):
        _fail(path, where, f"must be an object, got {type(d).__name__}")
    hints = _hints(cls)
    vals = {}
    for f in dataclasses.fields(cls):
        key = f"{where}.{f.name}" if where else f.name
        has_default = f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
        if f.name not in d or (d[f.name] is None and has_default and _is_collection(hints[f.name])):
            if has_default:  # absent, or a list / object written as null by a plan made before it had one
                continue
            _fail(path, key, "missing")
        vals[f.name] = _value(hints[f.name], d[f.name], f.metadata.get("moeprof", _NONE), path, key)
    out = cls(**vals)
    check = getattr(out, "check_decoded", None)  # a record's own consistency rule across its fields
    if check is not None:
        check(path, where)
    return out


def encode(obj):
    """The JSON form of a record, list or value: records as objects of their fields, non-finite floats as null."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: encode(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [encode(x) for x in obj]
    if isinstance(obj, dict):
        return {k: encode(v) for k, v in obj.items()}
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj
