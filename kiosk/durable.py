"""Files that survive a crash or power loss whole: the old version or the new one, never half of one."""
from __future__ import annotations

import os
from pathlib import Path


def write_durably(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write beside, fsync, rename over, fsync the folder (so the rename itself is on disk); the file gets `mode`.
    On any failure (a full disk) the partial file beside is removed and the error raised."""
    temporary = path.with_suffix(path.suffix + ".tmp")
    try:
        temporary.unlink(missing_ok=True)  # O_CREAT applies the mode only to a new file
        with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode), "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
