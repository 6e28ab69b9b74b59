"""Temporary files being written, so every exit path (signal handlers included) removes them.
Standard library only: the signal handlers import it before anything else loads."""

from __future__ import annotations

import os

_PATHS: set[str] = set()


def register(path: str) -> None:
    _PATHS.add(path)


def release(path: str) -> None:
    _PATHS.discard(path)


def remove_all() -> None:
    for p in list(_PATHS):
        try:
            os.unlink(p)
        except OSError:
            pass
        _PATHS.discard(p)
