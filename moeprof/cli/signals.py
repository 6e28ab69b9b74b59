"""Signals for the console entry point: SIGINT and SIGTERM end moeprof with one line on stderr
and exit 128 + signum, removing any temporary file being written.

Installed before anything heavy is imported. While modules load (the import phase) the handler
exits at once; once a command runs it raises KeyboardInterrupt / Terminated instead, so
`finally` blocks run (child processes are ended, temporary folders removed) and the CLI prints
its one line. Only the standard library and moeprof.tempfiles are imported here.
"""

from __future__ import annotations

import os
import signal

from .. import tempfiles

_running = False


class Terminated(BaseException):
    """SIGTERM while a command runs (a BaseException, like KeyboardInterrupt: no `except
    Exception` swallows it)."""


def _handler(signum, frame):
    tempfiles.remove_all()
    if not _running:
        name = "interrupted" if signum == signal.SIGINT else "terminated"
        try:
            os.write(2, f"moeprof: {name}\n".encode())
        finally:
            os._exit(128 + signum)
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Terminated


def install() -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            signal.signal(sig, _handler)
        except (ValueError, OSError):  # not the main thread, or unsupported
            pass


def running() -> None:
    """Modules are loaded: from now on a signal raises in the running command."""
    global _running
    _running = True


def finished() -> None:
    """The command is done (its output flushed, its temporary files removed): a Ctrl-C from now
    on, while the interpreter shuts down (atexit, joining child processes), is ignored, so the
    process ends with the command's own exit code. Python resets a handler written in Python to
    the default action when it starts shutting down, and SIGINT would then end the process as
    killed by the signal, with no line on stderr. SIGTERM keeps its handler: it still ends a
    shutdown that hangs."""
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    except (ValueError, OSError):
        pass
