"""moeprof command line. The click group and its commands live in moeprof.cli.app, loaded
lazily: the console entry point installs signal handling before numpy, pandas or click load,
so Ctrl-C at any moment ends with one line and exit 130, never a traceback.

`from moeprof.cli import cli, main` still works (module attributes resolved on first use).
"""

from __future__ import annotations

import os
import sys


def __getattr__(name):
    if name in ("cli", "main", "CONTEXT_SETTINGS"):
        from . import app

        return getattr(app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def entry():  # console script: moeprof = moeprof.cli:entry
    from . import signals, stdout

    signals.install()
    stdout.install()  # whole writes, errors raised; names print escaped under an ASCII locale
    try:
        sys.stderr.reconfigure(errors="backslashreplace")
    except (AttributeError, ValueError):
        pass
    try:
        from .app import main
    except (MemoryError, ImportError, OSError) as e:  # e.g. numpy under a tight memory limit
        if os.environ.get("MOEPROF_DEBUG"):
            raise
        from ..errors import one_line

        os.write(2, f"moeprof: error: cannot start: {type(e).__name__}: {one_line(e)}\n".encode(errors="backslashreplace"))
        sys.exit(1)
    signals.running()
    rc = main(console=True)
    signals.finished()
    sys.exit(rc)
