"""A standard output that never loses data silently.

CPython's buffered stdout drops the rest of a short write (what a write past `ulimit -f` or
onto a nearly full disk returns) without an error. The console entry point replaces
sys.stdout with a writer that loops until every byte is written, so the next write raises
(EFBIG, ENOSPC) and the CLI reports it. Standard library only.
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


def install() -> None:
    old = sys.stdout
    try:
        fd = old.fileno()
    except (AttributeError, ValueError, io.UnsupportedOperation):
        return
    try:
        old.flush()
    except OSError:
        pass
    sys.stdout = io.TextIOWrapper(
        io.BufferedWriter(_WholeWrites(fd)),
        encoding=old.encoding,
        errors="backslashreplace",
        line_buffering=old.line_buffering,
        write_through=False,
    )
