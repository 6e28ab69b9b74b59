"""Keyword arguments of the Python API, named and checked as the command's flags: `qps=10` is
`--qps 10`, `sku="nd-h200-v5"` is `--sku nd-h200-v5`, `isl=1024` is `--isl 1024`. Each value goes
through the flag's own type (its bounds and choices) and takes the flag's default, so the API and
the command line cannot drift apart."""

from __future__ import annotations

import difflib

import click

from ..errors import FlagError

OUTPUT_FLAGS = ("as_json", "as_csv")  # how the command prints: the API returns values instead


def _names(p: click.Option) -> list[str]:
    """The keyword names of an option: each long flag without '--', dashes as underscores."""
    return [o[2:].replace("-", "_") for o in p.opts if o.startswith("--")]


def keywords(command: click.Command) -> dict[str, click.Option]:
    """keyword name -> the option it sets (aliases included: isl and input_tokens)."""
    out = {}
    for p in command.params:
        if isinstance(p, click.Option) and p.name not in OUTPUT_FLAGS:
            for n in _names(p):
                out[n] = p
    return out


def _cast(p: click.Option, value, ctx: click.Context):
    if p.multiple and (isinstance(value, (str, int, float)) or value is None):
        value = () if value is None else (value,)
    elif p.multiple and isinstance(value, dict):
        value = tuple(f"{k}={v}" for k, v in value.items())
    elif not p.multiple and isinstance(value, (list, tuple)):
        value = ",".join(str(v) for v in value)  # --sku a,b given as a list
    try:
        value = p.type_cast_value(ctx, value)
        return p.callback(ctx, p, value) if p.callback is not None else value  # e.g. --redundancy N+K -> K
    except click.BadParameter as e:
        raise FlagError(p.opts[0], e.message) from None


def bind(command: click.Command, given: dict) -> dict:
    """The command's parameter values (by its Python names) for keyword arguments `given`."""
    known = keywords(command)
    for k in given:
        if k not in known:
            close = difflib.get_close_matches(k, known, n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise TypeError(f"{command.name}() got an unexpected keyword argument {k!r}{hint} "
                            f"(known: {', '.join(sorted(known))})")
    ctx = click.Context(command)
    out = {}
    for p in {id(p): p for p in known.values()}.values():
        names = [n for n in _names(p) if given.get(n) is not None]
        if len(names) > 1:
            raise TypeError(f"{command.name}() got {names[0]} and its alias {names[1]}: give one")
        if names:
            out[p.name] = _cast(p, given[names[0]], ctx)
        elif p.required:
            raise FlagError(p.opts[0], f"{command.name}() needs {_names(p)[0]}= ({p.opts[0]})", usage=True)
        else:
            default = p.get_default(ctx)
            if default is None or type(default).__name__ == "Sentinel":  # click's UNSET: no default
                default = None
            out[p.name] = None if default is None and not p.multiple else _cast(p, default, ctx)
    return out


def described(command: click.Command) -> str:
    """One line per keyword for the API function's docstring: name, flag, help text."""
    lines = []
    for p in {id(p): p for p in keywords(command).values()}.values():
        names = " / ".join(_names(p))
        lines.append(f"    {names}: {(p.help or '').split('. ')[0].rstrip('.')}")
    return "\n".join(lines)
