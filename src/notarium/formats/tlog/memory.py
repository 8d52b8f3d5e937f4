"""An append-only log held in process memory: the reference for storage-backed logs and
a fake for tests of code that talks to one."""

from __future__ import annotations

from notarium.formats.signing import RecordSigner
from notarium.formats.tlog.checkpoint import Checkpoint, sign_checkpoint
from notarium.formats.tlog.errors import LogRangeError
from notarium.formats.tlog.tlogproof import format_tlog_proof
from notarium.formats.tlog.tree import HashTree, leaf_hash


class MemoryLog:
    """Entries, their RFC 6962 tree, tree heads and proofs for any past size."""

    def __init__(self, origin: str) -> None:
        # Validates the origin once, up front, rather than at the first checkpoint.
        Checkpoint(origin=origin, size=0, root=HashTree().root())
        self._origin = origin
        self._entries: list[bytes] = []
        self._tree = HashTree()

    @property
    def origin(self) -> str:
        return self._origin

    @property
    def size(self) -> int:
        return self._tree.size

    def append(self, entry: bytes) -> int:
        """Log ``entry``; returns its index."""
        if not isinstance(entry, bytes):
            raise LogRangeError("log entries are bytes")
        index = self._tree.append(leaf_hash(entry))
        self._entries.append(entry)
        return index

    def entry(self, index: int) -> bytes:
        self._tree.leaf_hash(index)  # range check with the tree's error
        return self._entries[index]

    def leaf_hash(self, index: int) -> bytes:
        return self._tree.leaf_hash(index)

    def root(self, size: int | None = None) -> bytes:
        return self._tree.root(size)

    def inclusion_proof(self, index: int, size: int | None = None) -> tuple[bytes, ...]:
        return self._tree.inclusion_proof(index, size)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> tuple[bytes, ...]:
        return self._tree.consistency_proof(old_size, new_size)

    def checkpoint(self, size: int | None = None, extensions: tuple[str, ...] = ()) -> Checkpoint:
        """The tree head at ``size`` (the current size by default)."""
        size = self.size if size is None else size
        return Checkpoint(
            origin=self._origin, size=size, root=self._tree.root(size), extensions=extensions
        )

    def signed_checkpoint(self, signer: RecordSigner, size: int | None = None) -> str:
        return sign_checkpoint(self.checkpoint(size), signer)

    def tlog_proof(
        self,
        index: int,
        signer: RecordSigner,
        size: int | None = None,
        extra: bytes | None = None,
    ) -> str:
        """A c2sp.org/tlog-proof for entry ``index`` under a freshly signed checkpoint."""
        size = self.size if size is None else size
        return format_tlog_proof(
            index,
            self._tree.inclusion_proof(index, size),
            self.signed_checkpoint(signer, size),
            extra,
        )
