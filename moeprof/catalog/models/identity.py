"""Which model a plan is of: the reference that loads it again (a built-in short name, or the
config.json path as given) apart from the name it is shown by. A config file's `_moeprof.name`
is only a display name: exports and reports load the file itself, never a built-in model that
happens to share the name."""

from __future__ import annotations

BUILTIN_PREFIX = "moeprof/data/models/"


def is_builtin(spec) -> bool:
    return str(spec.source_path).startswith(BUILTIN_PREFIX)


def model_ref(spec) -> str:
    """What `load_model` needs to load this model again."""
    return spec.name if is_builtin(spec) else str(spec.source_path)


def is_builtin_ref(ref: str) -> bool:
    from . import model_names

    return str(ref).strip().lower() in model_names()
