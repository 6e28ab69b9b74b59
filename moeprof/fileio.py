"""Writing files safely: JSON without NaN/inf, and atomic writes (temp file + fsync + rename)."""

from __future__ import annotations

import math
import os
import stat
import tempfile
from pathlib import Path

from . import tempfiles
from .errors import MoeprofError, one_line


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


def check_output_target(path, what: str = "file", inputs=()) -> int | None:
    """Refuse an output path that is not, or would not be, a regular file we may write: a
    device, a FIFO, a symbolic link (`/dev/stdout` is one), a read-only file, a folder under a
    regular file, a file the command reads (`inputs`, or any file read so far). Returns the
    existing file's permission bits (kept on replace) or None."""
    if "\x00" in str(path):
        raise MoeprofError(f"{one_line(path)}: cannot write {what}: a path cannot hold a NUL character")
    p = Path(path)
    folder = p.parent if str(p.parent) else Path(".")
    if not folder.is_dir():
        why = "is not a folder" if folder.exists() else "does not exist"
        raise MoeprofError(f"{p}: cannot write {what}: {folder} {why}")
    try:
        st = os.lstat(p)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise MoeprofError(f"{p}: cannot write {what}: {e.strerror or e}") from None
    refuse_input(p, what, inputs)
    if stat.S_ISLNK(st.st_mode):
        raise MoeprofError(f"{p}: cannot write {what}: is a symbolic link (use - for standard output)")
    if stat.S_ISDIR(st.st_mode):
        raise MoeprofError(f"{p}: cannot write {what}: is a folder")
    if not stat.S_ISREG(st.st_mode):
        raise MoeprofError(f"{p}: cannot write {what}: not a regular file (a device, FIFO or socket; use - for standard output)")
    if not os.access(p, os.W_OK) or not st.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        raise MoeprofError(f"{p}: cannot write {what}: the file is read-only")
    return stat.S_IMODE(st.st_mode)


def refuse_input(path, what: str = "file", inputs=()) -> None:
    """Refuse an output that is one of the command's inputs: a file this process has read, or
    one of `inputs` (paths it is about to read), compared by device and inode."""
    from .inputs import input_named

    same = input_named(path)
    if same is None:
        try:
            st = os.stat(path)
            for q in inputs:
                if q is not None and str(q) != "-" and os.path.exists(q) and os.path.samestat(st, os.stat(q)):
                    same = str(q)
                    break
        except (OSError, ValueError):
            return
    if same is not None:
        raise MoeprofError(f"{one_line(path)}: cannot write {what}: it is an input of this command "
                           f"({one_line(same)}); choose another output file")


def write_stdout(text: str, what: str = "output") -> None:
    """Write text to standard output and flush it, so a full disk is an error here."""
    import sys

    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as e:
        raise MoeprofError(f"cannot write {what} to standard output: {e.strerror or e}") from None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True


def remove_stale_temp_files(path) -> list[str]:
    """Remove the temp files a killed writer of `path` left (`.NAME.PID.XXXX.tmp` whose process is
    gone, owned by this user): a SIGKILL cannot be caught, so the next write cleans up."""
    p = Path(path)
    folder = p.parent if str(p.parent) else Path(".")
    head = f".{p.name}."
    removed: list[str] = []
    try:
        names = [n for n in os.listdir(folder) if n.startswith(head) and n.endswith(".tmp")]
    except OSError:
        return removed
    for n in names:
        pid = n[len(head):].split(".", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid() or _alive(int(pid)):
            continue
        f = folder / n
        try:
            st = os.lstat(f)
            if stat.S_ISREG(st.st_mode) and st.st_uid == os.getuid():
                os.unlink(f)
                removed.append(str(f))
        except OSError:
            pass
    return removed


def write_atomic(path, text: str, what: str = "file", mode: int = 0o644) -> Path | None:
    """Write text through a temporary file in the same folder, fsync it, then rename it over
    `path`: an error or interrupt at any point leaves the previous file (or none) and no temp
    file (and a later write removes what a killed writer left). `-` writes to standard output (returns None). An existing file keeps its permissions;
    targets that are not regular files, and read-only files, are refused. OS errors become
    one-line MoeprofErrors naming the path."""
    if str(path) == "-":
        write_stdout(text, what)
        return None
    p = Path(path)
    existing_mode = check_output_target(p, what)
    folder = p.parent if str(p.parent) else Path(".")
    remove_stale_temp_files(p)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.{os.getpid()}.", suffix=".tmp", dir=folder)
    except OSError as e:
        raise MoeprofError(f"{p}: cannot write {what}: {e.strerror or e}") from None
    tempfiles.register(tmp)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, existing_mode if existing_mode is not None else mode)
        os.replace(tmp, p)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, OSError):
            raise MoeprofError(f"{p}: cannot write {what}: {e.strerror or e}") from None
        raise
    finally:
        tempfiles.release(tmp)
    return p
