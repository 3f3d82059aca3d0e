"""Files on disk: replaced atomically, and text files that must hold some lines."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def write_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so that a reader sees the old file or the new one, never half."""
    import tempfile  # here: it costs a read-only command's start-up some 30 ms

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def with_lines(text: str, lines: tuple[str, ...]) -> str:
    """`text` with whichever of `lines` it lacks appended."""
    have = set(text.splitlines())
    missing = [line for line in lines if line not in have]
    if not missing:
        return text
    prefix = "" if not text or text.endswith("\n") else "\n"
    return text + prefix + "".join(line + "\n" for line in missing)


def read_text(path: Path) -> str:
    return path.read_text("utf-8") if path.exists() else ""


def ensure_lines(path: Path, lines: tuple[str, ...]) -> bool:
    """Append whichever of `lines` the text file lacks; whether it had to."""
    text = read_text(path)
    updated = with_lines(text, lines)
    if updated != text:
        write_atomic(path, updated.encode("utf-8"))
    return updated != text
