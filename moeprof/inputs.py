"""One validation layer for every file moeprof reads (model configs, VM files, profiles, plans).

`read_json_file` reads regular files only (never a FIFO, a device or /dev/zero), at most
MAX_FILE_BYTES, decodes strict UTF-8 whatever the locale, and parses JSON with limits: integers
of at most MAX_INT_DIGITS digits, no NaN / Infinity / overflowing floats, nesting at most
MAX_DEPTH deep, at most MAX_CONTAINERS objects and lists and MAX_JSON_VALUES values (checked
before parsing, in memory linear and small in the input). The type and bounds helpers raise ConfigError, one line naming the file and
the field.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
from typing import Any

from .errors import ConfigError, MoeprofError, one_line

MAX_FILE_BYTES = 64 * 2**20  # the largest shipped profile is well under 1 MB
MAX_INT_DIGITS = 24  # 10^24 exceeds any count or byte size a deployment can have
MAX_DEPTH = 64  # shipped files nest at most 6 levels
MAX_IDENT_CHARS = 200  # names, SKUs, Hugging Face ids
MAX_CONTAINERS = 1_000_000  # objects and lists in one file: the largest shipped file has under 10,000
MAX_JSON_VALUES = 4_000_000  # values in one file (a vLLM result with per-request lists has ~10^5)

# Control characters and every Unicode line or paragraph separator (NEL U+0085 included).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class _Limit(ValueError):
    pass


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _Limit(f"an integer of {len(text.lstrip('-')):,} digits (at most {MAX_INT_DIGITS})")
    return int(text)


def _parse_float(text: str) -> float:
    if len(text) > 100:
        raise _Limit(f"a number of {len(text):,} characters")
    v = float(text)
    if not math.isfinite(v):
        raise _Limit(f"{text} overflows a double")
    return v


def _parse_constant(text: str):
    raise _Limit(f"{text} is not a number JSON allows")


_STRING = re.compile(r'"[^"]*"')  # a string once its escaped quotes and backslashes are removed
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def _structure(text: str, label) -> None:
    """Check the nesting and the number of objects and lists before parsing, in memory linear and
    small in the input (a few copies of the text, never a per-character stack): escaped
    backslashes and quotes are removed, then strings, then everything but brackets; what is left
    is at most 2 x MAX_CONTAINERS characters, scanned for depth. So deep nesting never reaches the
    recursive parser and a file cannot make the parser build millions of objects."""
    if "\\" in text:
        text = text.replace("\\\\", "").replace('\\"', "")
    if '"' in text:
        text = _STRING.sub("", text)
    values = text.count(",") + 1
    if values > MAX_JSON_VALUES:
        raise ConfigError(label, "<json>", f"more than {MAX_JSON_VALUES:,} values (at most {MAX_JSON_VALUES:,} in a file moeprof reads)")
    opened = max(text.count("[") + text.count("{"), text.count("]") + text.count("}"))
    if opened > MAX_CONTAINERS:
        raise ConfigError(label, "<json>", f"{opened:,} objects and lists (at most {MAX_CONTAINERS:,} in a file moeprof reads)")
    depth = 0
    for c in _NOT_BRACKET.sub("", text):
        if c in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise ConfigError(label, "<json>", f"nested more than {MAX_DEPTH} levels deep")
        else:
            depth -= 1


def _infinity_only(text: str):
    if text == "Infinity":
        return math.inf
    raise _Limit(f"{text} is not a number this file may hold")


def parse_json_text(text: str, label, allow_infinity: bool = False) -> Any:
    """Parse bounded JSON; `allow_infinity` admits the bare Infinity that Python's json writes for
    an unlimited rate (benchmark result files), never NaN."""
    _structure(text, label)
    try:
        constant = _infinity_only if allow_infinity else _parse_constant
        return json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=constant)
    except _Limit as e:
        raise ConfigError(label, "<json>", f"refused: {e}") from None
    except json.JSONDecodeError as e:
        raise ConfigError(label, "<json>", f"not valid JSON, file truncated or corrupt ({e.msg} at line {e.lineno})") from None
    except RecursionError:
        raise ConfigError(label, "<json>", f"nested more than {MAX_DEPTH} levels deep") from None


# Every file this process has read, by (device, inode): no output may replace one of them
# (moeprof.fileio.check_output_target), whatever path, hard link or symbolic link names it.
INPUTS_READ: dict[tuple[int, int], str] = {}


def forget_input(path) -> None:
    """A file read only to be updated in place (a profile the probes merge into): no longer an input
    an output must not replace."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return
    INPUTS_READ.pop((st.st_dev, st.st_ino), None)


def input_named(path) -> str | None:
    """The input this process read that `path` is (the same file), or None."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return INPUTS_READ.get((st.st_dev, st.st_ino))


def read_text_file(path, what: str = "file", max_bytes: int = MAX_FILE_BYTES) -> str:
    """The UTF-8 text of a regular file of at most max_bytes; one-line errors naming it."""
    p = os.fspath(path)
    if "\x00" in str(p):
        raise MoeprofError(f"{one_line(p)}: cannot read {what}: a path cannot hold a NUL character")
    try:
        st = os.stat(p)
    except OSError as e:
        raise MoeprofError(f"{p}: cannot read {what}: {e.strerror or e}") from None
    if stat.S_ISDIR(st.st_mode):
        raise MoeprofError(f"{p}: cannot read {what}: is a folder")
    if not stat.S_ISREG(st.st_mode):
        raise MoeprofError(f"{p}: cannot read {what}: not a regular file (a device, FIFO or socket)")
    if st.st_size > max_bytes:
        raise MoeprofError(f"{p}: cannot read {what}: {st.st_size:,} bytes, more than the {max_bytes:,} a {what} can be")
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as f:
            fst = os.fstat(f.fileno())
            if not stat.S_ISREG(fst.st_mode):  # replaced since the stat
                raise MoeprofError(f"{p}: cannot read {what}: not a regular file")
            INPUTS_READ.setdefault((fst.st_dev, fst.st_ino), p)
            data = f.read(max_bytes + 1)
    except OSError as e:
        raise MoeprofError(f"{p}: cannot read {what}: {e.strerror or e}") from None
    if len(data) > max_bytes:
        raise MoeprofError(f"{p}: cannot read {what}: more than {max_bytes:,} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(p, "<json>", f"not UTF-8 text (byte {e.start}; a binary or pickled file?)") from None


def read_json_file(path, what: str = "file") -> Any:
    return parse_json_text(read_text_file(path, what), os.fspath(path))


# ---- type and bounds helpers -------------------------------------------------------------
def is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def require_object(v, path, field: str) -> dict:
    if not isinstance(v, dict):
        raise ConfigError(path, field, f"expected a JSON object, got {type_name(v)}")
    return v


def require_number(v, path, field: str, lo: float, hi: float, why: str = "", lo_open: bool = False) -> float:
    """A finite number in [lo, hi] ((lo, hi] with lo_open); `why` says what the bound is for."""
    if not is_number(v):
        raise ConfigError(path, field, f"expected a number, got {short(v)}")
    if v > hi or v < lo or (lo_open and v == lo):
        low = f"> {lo:g}" if lo_open else f">= {lo:g}"
        raise ConfigError(path, field, f"{v:g} is out of range: must be {low} and <= {hi:g}" + (f" ({why})" if why else ""))
    return v


def require_int(v, path, field: str, lo: int, hi: int, why: str = "") -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise ConfigError(path, field, f"expected an integer, got {short(v)}")
    if v < lo or v > hi:
        raise ConfigError(path, field, f"{v:,} is out of range: must be between {lo:,} and {hi:,}" + (f" ({why})" if why else ""))
    return v


def require_ident(v, path, field: str, max_chars: int = MAX_IDENT_CHARS) -> str:
    """A name or id: a non-empty string of at most max_chars, no control or line-break characters
    (they would end a line in a comment, a YAML scalar or a terminal)."""
    if not isinstance(v, str) or not v.strip():
        raise ConfigError(path, field, f"expected a non-empty string, got {short(v)}")
    if len(v) > max_chars:
        raise ConfigError(path, field, f"{len(v):,} characters, at most {max_chars} in a name")
    if _CONTROL.search(v):
        raise ConfigError(path, field, f"{one_line(repr(v))} has control or line-break characters")
    return v


# A Hugging Face repository id: `org/name`, each part letters, digits, '.', '_' or '-', starting with a
# letter or digit, at most 96 characters (the Hub's own rule). A checkpoint may also be a local path,
# written absolute or starting with ./ or ../ so that it never starts with '-'.
_HF_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}")
_UNSAFE_ARG = re.compile(r"[\x00-\x20\x7f-\x9f\u2028\u2029\"'`$\\]")


def model_id_problem(v) -> str | None:
    """Why `v` cannot be handed to an inference engine as its model argument, or None: it must be
    a Hugging Face id `org/name` or a path (`/...`, `./...`, `../...`), never an option (`-...`)."""
    if not isinstance(v, str) or not v:
        return f"expected a Hugging Face id (org/name) or a path, got {short(v)}"
    if v.startswith("-"):
        return f"{short(v)} starts with '-': an engine would read it as an option"
    if _HF_ID.fullmatch(v):
        if "--" in v or ".." in v:
            return f"{short(v)}: a Hugging Face id has no '--' or '..'"
        return None
    if v.startswith(("/", "./", "../")) and len(v) <= 4096 and not _UNSAFE_ARG.search(v):
        return None
    return f"{short(v)} is neither a Hugging Face id (org/name) nor a path starting with / or ./"


def require_model_id(v, path, field: str) -> str:
    problem = model_id_problem(v)
    if problem:
        raise ConfigError(path, field, problem)
    return v


def has_control(text: str) -> bool:
    return bool(_CONTROL.search(text))


def type_name(v) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "true/false", type(None): "null"}.get(type(v), "a number")


def short(v, limit: int = 60) -> str:
    """repr of a value for a message: one line, at most `limit` characters."""
    if isinstance(v, int) and not isinstance(v, bool) and abs(v) > 10**limit:
        return "an integer too large to show"
    s = one_line(repr(v))
    return s if len(s) <= limit else s[: limit - 3] + "..."
