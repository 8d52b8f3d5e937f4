"""The data directory and the embedded database file: private to the service's user.

The directory holds keys, the database and uploaded files, so it is created 0700; the
SQLite file is created 0600 before SQLite opens it, because SQLite would create it 0644
(less the umask) and gives its ``-wal`` and ``-shm`` files the database file's mode."""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from typing import Final

DIRECTORY_MODE: Final = 0o700
FILE_MODE: Final = 0o600
SQLITE_COMPANIONS: Final = ("-wal", "-shm", "-journal")


def ensure_data_dir(path: Path) -> None:
    """Create ``path`` (and any missing parents) 0700 whatever the umask; an existing
    directory is left as the operator made it."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):
            directory.mkdir(mode=DIRECTORY_MODE)
            # mkdir's mode passes through the umask, which only removes bits.
            os.chmod(directory, DIRECTORY_MODE)


def ensure_private_sqlite(database: Path) -> None:
    """Create the database file 0600 if it does not exist, and take group and other
    access away from an existing one and its companions (best effort: a file owned by
    someone else keeps its mode)."""
    ensure_data_dir(database.parent)
    with contextlib.suppress(FileExistsError):
        fd = os.open(database, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE)
        try:
            os.fchmod(fd, FILE_MODE)
        finally:
            os.close(fd)
    for path in (database, *(Path(f"{database}{suffix}") for suffix in SQLITE_COMPANIONS)):
        with contextlib.suppress(OSError):
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode & 0o077:
                os.chmod(path, mode & ~0o077)
