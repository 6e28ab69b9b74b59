"""The Python API (moeprof.plan, compare, evaluate, memory, load_model): the commands' keyword
arguments and results; loaded on first use so `import moeprof` stays light.

workflows/ holds what a command and its API function both run; it never imports the command line.
"""

from __future__ import annotations

NAMES = ("plan", "compare", "evaluate", "memory", "load_model")


def __getattr__(name):
    if name in NAMES:
        from . import functions

        return getattr(functions, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
