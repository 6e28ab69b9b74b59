"""Writing files safely: JSON without NaN/inf, and atomic writes (temp file + fsync + rename)."""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path

from .errors import MoeprofError


def json_safe(o):
    """A JSON-ready copy: non-finite floats become None, numpy scalars plain numbers, tuples lists."""
    if isinstance(o, float):
        return o if math.isfinite(o) else None
    if isinstance(o, dict):
        return {str(k): json_safe(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [json_safe(v) for v in o]
    if hasattr(o, "item") and callable(o.item) and not isinstance(o, (str, bytes)):  # numpy scalar
        return json_safe(o.item())
    return o


def write_atomic(path, text: str, what: str = "file", mode: int = 0o644) -> Path:
    """Write text through a temporary file in the same folder, fsync it, then rename it over
    `path`: an error or interrupt at any point leaves the previous file (or none) and no temp
    file. OS errors become one-line MoeprofErrors naming the path."""
    p = Path(path)
    folder = p.parent if str(p.parent) else Path(".")
    if not folder.is_dir():
        raise MoeprofError(f"{p}: cannot write {what}: folder {folder} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=folder)
    except OSError as e:
        raise MoeprofError(f"{p}: cannot write {what}: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, p)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, OSError):
            raise MoeprofError(f"{p}: cannot write {what}: {e.strerror or e}") from None
        raise
    return p
