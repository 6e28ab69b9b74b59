"""A standard output that never loses data silently.

CPython's buffered stdout drops the rest of a short write (what a write past `ulimit -f` or
onto a nearly full disk returns) without an error. The console entry point replaces
sys.stdout with a writer that loops until every byte is written, so the next write raises
(EFBIG, ENOSPC) and the CLI reports it. Standard library only.

Both streams are also made safe for a terminal: whatever reaches them (a name, an id or a
source read from a file included) has its control and text-reordering characters shown
escaped (moeprof.errors.printable_lines); line feeds and tabs pass. So no file can set the window
title, clear the screen or forge text, on a terminal or through a pipe.
"""

from __future__ import annotations

import io
import os
import sys


class _WholeWrites(io.RawIOBase):
    def __init__(self, fd: int):
        self._fd = fd

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def isatty(self) -> bool:
        return os.isatty(self._fd)

    def write(self, b) -> int:
        view = memoryview(b).cast("B")
        done = 0
        while done < len(view):
            done += os.write(self._fd, view[done:])
        return done


class _Printable(io.TextIOWrapper):
    """A text stream whose writes are made printable (line feeds and tabs kept)."""

    def write(self, s) -> int:
        from ..errors import printable_lines

        super().write(printable_lines(s))
        return len(s)


def install() -> None:
    old = sys.stdout
    try:
        fd = old.fileno()
    except (AttributeError, ValueError, io.UnsupportedOperation):
        fd = None
    if fd is not None:
        try:
            old.flush()
        except OSError:
            pass
        sys.stdout = _Printable(io.BufferedWriter(_WholeWrites(fd)), encoding=old.encoding, errors="backslashreplace",
                                line_buffering=old.line_buffering, write_through=False)
    err = sys.stderr
    if hasattr(err, "buffer"):  # the C file object stays: a signal cannot interrupt a write half done
        try:
            err.flush()
        except OSError:
            pass
        sys.stderr = _Printable(err.buffer, encoding=err.encoding, errors="backslashreplace", line_buffering=True,
                                write_through=True)
