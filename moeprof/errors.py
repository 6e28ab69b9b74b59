"""moeprof's own error types; the CLI maps them to one-line messages and exit codes."""


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


def one_line(text) -> str:
    """`text` on one line: control and line-break characters (NEL and U+2028/9 included) are
    shown escaped, so an error message never spans or forges lines."""
    import re

    return re.sub(
        r"[\x00-\x1f\x7f-\x9f\u2028\u2029]",
        lambda m: {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(m.group(), f"\\x{ord(m.group()):02x}" if ord(m.group()) < 256 else f"\\u{ord(m.group()):04x}"),
        str(text),
    )
