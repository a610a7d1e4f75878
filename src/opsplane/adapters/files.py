"""Writing generated artefacts to disk, atomically so a crash never leaves half a file."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from opsplane.errors import OutputError


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` via a temporary file and an atomic rename.

    Raises:
        OutputError: the file or its folder cannot be written.
    """
    try:
        return _write_atomically(path, text)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise OutputError(f"cannot write {path}: {reason}") from exc


def _write_atomically(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json(path: Path, data: Any) -> Path:
    """Pretty, key-stable JSON (dashboards diff well in git)."""
    return write_text(path, json.dumps(data, indent=2, sort_keys=False) + "\n")
