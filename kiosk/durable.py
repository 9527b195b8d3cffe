"""The kiosk's own files: private to the kiosk user (folders 0700, files 0600, whatever the umask), and written
so that they survive a crash or power loss whole: the old version or the new one, never half of one."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

PRIVATE_FOLDER = 0o700
PRIVATE_FILE = 0o600


def private_folder(path: Path) -> Path:
    """The folder, with every missing one on the way made 0700; folders that exist are left as they are (an
    installer may have set them up)."""
    missing = [folder for folder in (path, *path.parents) if not folder.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=PRIVATE_FOLDER, exist_ok=True)
    return path


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def process_folder(parent: Path) -> Path:
    """An empty private folder of this process's own under `parent` (named by its pid). What a process leaves
    there is stale once it ends: everything in `parent` but the folders of running processes is removed here (a
    bench or a second `run` beside the kiosk service must not delete the service's files)."""
    private_folder(parent)
    for entry in parent.iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid() and _running(int(entry.name)):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
    folder = parent / str(os.getpid())  # one of a pid reused from an earlier boot went with the rest
    folder.mkdir(mode=PRIVATE_FOLDER)
    return folder


def private_file(path: Path) -> Path:
    """Creates the file empty and 0600 when it is missing (before a library such as SQLite opens it with its own
    mode); an existing file is left as it is."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    except FileExistsError:
        pass
    return path


def write_durably(path: Path, data: bytes, mode: int = PRIVATE_FILE) -> None:
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
