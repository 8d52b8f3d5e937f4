"""Write-once files for key material: created complete, with their final mode, and never
replacing a file that already exists."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path


def publish_new(final: Path, data: bytes, mode: int) -> bool:
    """Write ``final`` only if it does not exist; False if another writer won. Raises
    OSError for any other failure.

    The file is completed under a temporary name and hard-linked into place: a hard link
    never replaces an existing name and makes the file appear complete, so a crash cannot
    leave a truncated key behind.
    """
    temporary = final.with_name(f".{final.name}.{secrets.token_hex(8)}.tmp")
    try:
        write_new(temporary, data, mode)
        try:
            os.link(temporary, final)
        except FileExistsError:
            return False
        except OSError:
            # Some filesystems lack hard links; O_EXCL still guarantees no clobber.
            try:
                write_new(final, data, mode)
            except FileExistsError:
                return False
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
    return True


def write_new(path: Path, data: bytes, mode: int) -> None:
    """Create ``path`` (which must not exist) holding ``data``, synced to disk."""
    # Created with its final mode so there is no moment at which a private key is
    # readable by anyone else; fchmod undoes any narrowing by the umask.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    try:
        os.fchmod(fd, mode)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            path.unlink()
        raise
    os.close(fd)
