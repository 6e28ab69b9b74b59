"""moeprof's own error types; the CLI maps them to one-line messages and exit codes."""

import re


class MoeprofError(Exception):
    """A user-facing error: bad value, unknown name, malformed file. CLI exit code 1."""


class ConfigError(MoeprofError):
    """A config file (model config.json, VM file, profile) is malformed; names the file and field."""

    def __init__(self, path, field: str, problem: str):
        self.path = str(path)
        self.field = field
        self.problem = problem
        super().__init__(f"{self.path}: field '{field}': {problem}")


class UnknownNameError(MoeprofError):
    """An unknown catalog name; suggests close matches."""

    def __init__(self, kind: str, name: str, known):
        import difflib

        self.kind, self.name = kind, name
        close = difflib.get_close_matches(name.lower(), [k.lower() for k in known], n=3, cutoff=0.4)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        super().__init__(f"unknown {kind} '{name}'{hint} (known: {', '.join(sorted(known))})")


# What a terminal must never receive from a file: C0 and C1 controls (ESC, CSI, OSC, BEL, CR...),
# DEL, line and paragraph separators, and the format characters that reorder or hide text
# (bidirectional overrides and isolates, zero-width characters, the BOM).
_FORMAT = "\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb"
_UNPRINTABLE = "\x00-\x1f\x7f-\x9f" + _FORMAT
_UNPRINTABLE_IN_STREAM = "\x00-\x08\x0b-\x1f\x7f-\x9f" + _FORMAT  # line feeds and tabs kept
_PATTERNS: dict[str, re.Pattern[str]] = {}


def _escape(m) -> str:
    c = m.group()
    return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(c, f"\\x{ord(c):02x}" if ord(c) < 256 else f"\\u{ord(c):04x}")


def _sub(chars: str, s: str) -> str:
    if chars not in _PATTERNS:
        _PATTERNS[chars] = re.compile(f"[{chars}]")
    return _PATTERNS[chars].sub(_escape, s)


def printable(text) -> str:
    """`text` (an id, a name, a file name, a source: anything read from a file) safe to print on
    a terminal, on one line: every control, line-break and text-reordering character is shown
    escaped (ESC as \\x1b, a line feed as \\n, U+202E as \\u202e), so it can neither move the
    cursor, set the window title, clear the screen nor forge a line."""
    s = str(text)
    return s if s.isprintable() else _sub(_UNPRINTABLE, s)


def printable_lines(text: str) -> str:
    """Like printable, but keeps line feeds and tabs: for whole output streams."""
    return _sub(_UNPRINTABLE_IN_STREAM, text)


def one_line(text) -> str:
    """`text` on one line: control and line-break characters (NEL and U+2028/9 included) are
    shown escaped, so an error message never spans or forges lines."""
    return printable(text)


class FlagError(MoeprofError):
    """A bad value of one option, named as its command-line flag (`--context`) so the same message
    serves the CLI and the Python API (whose keyword is the flag's name). With `usage`, a missing or
    conflicting option: the CLI exits 2."""

    def __init__(self, flag: str, problem: str, usage: bool = False):
        self.flag, self.problem, self.usage = flag, problem, usage
        super().__init__(problem if usage else f"invalid value for {flag}: {problem}")
