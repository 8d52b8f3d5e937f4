"""RFC 6962 / RFC 9162 Merkle tree hashing, proofs and their verification.

Pure functions over leaf hashes (``leaf_hash(entry)`` values, in log order); where the
entries are stored is up to the caller. ``HashTree`` keeps the hash of every complete,
aligned subtree of 2**k leaves, so that once built (or appended to, amortised O(1) per
entry) any tree head or proof is O(log² n) instead of rehashing the log; the
module-level proof functions build one over the leaves they are given.

Hashes, as in RFC 6962 §2.1::

    MTH({})      = SHA-256()
    leaf hash    = SHA-256(0x00 || entry)
    node hash    = SHA-256(0x01 || left || right)
    MTH(D[0:n])  = node hash(MTH(D[0:k]), MTH(D[k:n])), k the largest power of 2 < n

Proofs are lists of 32-byte hashes, leaf side first (RFC 6962 §2.1.1 and §2.1.2);
verification follows RFC 9162 §2.1.3.2 and §2.1.4.2 and never raises: anything
malformed is simply not a valid proof.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from itertools import islice, repeat
from operator import add
from typing import Final

from notarium.formats.tlog.errors import InvalidLogHashError, LogRangeError

HASH_SIZE: Final = 32
LEAF_PREFIX: Final = b"\x00"
NODE_PREFIX: Final = b"\x01"
EMPTY_ROOT: Final = hashlib.sha256(b"").digest()

_sha256 = hashlib.sha256
_digest_of = type(hashlib.sha256()).digest


def leaf_hash(data: bytes) -> bytes:
    """RFC 6962 hash of one log entry."""
    return _sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962 hash of an interior node."""
    return _sha256(NODE_PREFIX + left + right).digest()


def _node_hashes(lefts: Iterable[bytes], rights: Iterable[bytes]) -> list[bytes]:
    # A whole level at once in C-level maps; stops at the shorter side, so an unpaired
    # last node is left out.
    return list(
        map(_digest_of, map(_sha256, map(add, map(add, repeat(NODE_PREFIX), lefts), rights)))
    )


def _largest_power_of_two_below(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def _checked_hashes(leaf_hashes: Iterable[bytes]) -> list[bytes]:
    hashes = list(leaf_hashes)
    if set(map(type, hashes)) - {bytes} or set(map(len, hashes)) - {HASH_SIZE}:
        for position, value in enumerate(hashes):
            if not _is_hash(value):
                raise InvalidLogHashError(f"leaf hash {position} is not {HASH_SIZE} bytes")
    return hashes


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of the whole sequence.

    Pairing each level left to right and carrying an unpaired last node up unchanged
    yields exactly the RFC 6962 tree, whose recursive split at the largest power of two
    leaves the right-hand subtrees short in the same places.
    """
    level = _checked_hashes(leaf_hashes)
    if not level:
        return EMPTY_ROOT
    while len(level) > 1:
        parents = _node_hashes(level[0::2], level[1::2])
        if len(level) % 2:
            parents.append(level[-1])
        level = parents
    return level[0]


class HashTree:
    """Hashes of all complete aligned subtrees of an append-only list of leaf hashes.

    ``levels[k][j]`` is MTH of leaves ``[j * 2**k, (j + 1) * 2**k)``. These never change
    once complete, so they serve every later tree size: a tree head or proof for any
    size up to the current one needs only O(log n) of them per subtree.
    """

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        level = _checked_hashes(leaf_hashes)
        self._levels: list[list[bytes]] = [level]
        while len(level) >= 2:
            level = _node_hashes(level[0::2], level[1::2])
            self._levels.append(level)

    @property
    def size(self) -> int:
        return len(self._levels[0])

    def leaf_hash(self, index: int) -> bytes:
        self._check_index(index, self.size)
        return self._levels[0][index]

    def append(self, leaf_hash: bytes) -> int:
        """Add one leaf hash; returns its index."""
        if not _is_hash(leaf_hash):
            raise InvalidLogHashError(f"leaf hash must be {HASH_SIZE} bytes")
        levels = self._levels
        levels[0].append(leaf_hash)
        height = 0
        # Each level that now ends in a complete pair completes one node above it.
        while len(levels[height]) % 2 == 0:
            below = levels[height]
            if height + 1 == len(levels):
                levels.append([])
            levels[height + 1].append(node_hash(below[-2], below[-1]))
            height += 1
        return len(levels[0]) - 1

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Add many leaf hashes, hashing each level's new pairs in one pass."""
        new = _checked_hashes(leaf_hashes)
        levels = self._levels
        levels[0].extend(new)
        height = 0
        while len(levels[height]) >= 2:
            below = levels[height]
            if height + 1 == len(levels):
                levels.append([])
            above = levels[height + 1]
            first_unpaired = 2 * len(above)
            if len(below) - first_unpaired < 2:
                break  # nothing new completes here, so nothing above changes either
            above.extend(_node_hashes(below[first_unpaired::2], below[first_unpaired + 1 :: 2]))
            height += 1

    def subtree_root(self, start: int, end: int) -> bytes:
        """MTH of leaves ``[start, end)``; O(log n) for the ranges proofs ask for."""
        if not (_is_count(start) and _is_count(end)) or not start <= end <= self.size:
            raise LogRangeError(f"range [{start}, {end}) is not within a log of {self.size}")
        if start == end:
            return EMPTY_ROOT
        return self._mth(start, end)

    def _mth(self, start: int, end: int) -> bytes:
        count = end - start
        if count & (count - 1) == 0 and start % count == 0:
            height = count.bit_length() - 1
            return self._levels[height][start >> height]
        split = start + _largest_power_of_two_below(count)
        return node_hash(self._mth(start, split), self._mth(split, end))

    def root(self, size: int | None = None) -> bytes:
        """MTH of the first ``size`` leaves (all of them by default)."""
        size = self._check_size(size)
        return EMPTY_ROOT if size == 0 else self._mth(0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> tuple[bytes, ...]:
        """RFC 6962 §2.1.1 PATH(index, D[0:size]), leaf side first."""
        size = self._check_size(size)
        self._check_index(index, size)
        proof: list[bytes] = []
        start, end = 0, size
        while end - start > 1:
            split = start + _largest_power_of_two_below(end - start)
            if index < split:
                proof.append(self._mth(split, end))
                end = split
            else:
                proof.append(self._mth(start, split))
                start = split
        proof.reverse()
        return tuple(proof)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> tuple[bytes, ...]:
        """RFC 6962 §2.1.2 PROOF(old_size, D[0:new_size]).

        Empty when either size is 0 or both are equal; verifiers accept exactly that.
        """
        new_size = self._check_size(new_size)
        if not _is_count(old_size) or old_size > new_size:
            raise LogRangeError(f"old size {old_size} is not between 0 and {new_size}")
        if old_size == 0 or old_size == new_size:
            return ()
        proof: list[bytes] = []
        start, end, remaining, whole = 0, new_size, old_size, True
        while remaining != end - start:
            split = start + _largest_power_of_two_below(end - start)
            if start + remaining <= split:
                proof.append(self._mth(split, end))
                end = split
            else:
                proof.append(self._mth(start, split))
                remaining -= split - start
                start = split
                whole = False
        if not whole:
            proof.append(self._mth(start, end))
        proof.reverse()
        return tuple(proof)

    def _check_size(self, size: int | None) -> int:
        if size is None:
            return self.size
        if not _is_count(size) or size > self.size:
            raise LogRangeError(f"tree size {size} is not between 0 and {self.size}")
        return size

    @staticmethod
    def _check_index(index: int, size: int) -> None:
        if not _is_count(index) or index >= size:
            raise LogRangeError(f"index {index} is not in a tree of size {size}")


def _tree_of(leaf_hashes: Sequence[bytes], size: int) -> HashTree:
    if not _is_count(size) or size > len(leaf_hashes):
        raise LogRangeError(f"tree size {size} is not between 0 and {len(leaf_hashes)}")
    return HashTree(islice(leaf_hashes, size))


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int, size: int) -> tuple[bytes, ...]:
    """Inclusion proof for leaf ``index`` in the tree of the first ``size`` leaf hashes."""
    return _tree_of(leaf_hashes, size).inclusion_proof(index, size)


def consistency_proof(
    leaf_hashes: Sequence[bytes], old_size: int, new_size: int
) -> tuple[bytes, ...]:
    """Consistency proof from the tree of ``old_size`` leaves to that of ``new_size``."""
    return _tree_of(leaf_hashes, new_size).consistency_proof(old_size, new_size)


def _shift_past_right_border(fn: int, sn: int) -> tuple[int, int]:
    # RFC 9162: "right-shift both fn and sn equally until either LSB(fn) is set or fn
    # is 0"; these levels are where the right-hand subtree was carried up unpaired.
    while fn and not fn & 1:
        fn >>= 1
        sn >>= 1
    return fn, sn


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2: does ``proof`` put ``leaf_hash`` at ``index`` under ``root``?

    ``size`` and ``root`` must come from the same tree head (e.g. one signed checkpoint):
    the proof binds the leaf to the root, not the root to the size.
    """
    if not (_is_hash(leaf_hash) and _is_hash(root) and _is_count(index) and _is_count(size)):
        return False
    if index >= size or isinstance(proof, (bytes, str)):
        return False
    fn, sn = index, size - 1
    current = leaf_hash
    for element in proof:
        if not _is_hash(element) or sn == 0:
            return False
        if fn & 1 or fn == sn:
            current = node_hash(element, current)
            if not fn & 1:
                fn, sn = _shift_past_right_border(fn, sn)
        else:
            current = node_hash(current, element)
        fn >>= 1
        sn >>= 1
    return sn == 0 and hmac.compare_digest(current, root)


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: is the tree ``new_root`` an extension of ``old_root``?

    Equal sizes need an empty proof and equal roots. An old size of 0 needs an empty
    proof and the empty-tree root as ``old_root`` (every tree extends the empty one, but
    a non-empty "root" for it means the caller mixed something up).
    """
    if not (_is_count(old_size) and _is_count(new_size)):
        return False
    if not (_is_hash(old_root) and _is_hash(new_root)) or isinstance(proof, (bytes, str)):
        return False
    elements = list(proof)
    if not all(map(_is_hash, elements)) or old_size > new_size:
        return False
    if old_size == new_size:
        return not elements and hmac.compare_digest(old_root, new_root)
    if old_size == 0:
        return not elements and hmac.compare_digest(old_root, EMPTY_ROOT)
    if not elements:
        return False
    if old_size & (old_size - 1) == 0:
        # The old tree is a complete subtree of the new one; its root is left implicit.
        elements.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    old_current = new_current = elements[0]
    for element in elements[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            old_current = node_hash(element, old_current)
            new_current = node_hash(element, new_current)
            if not fn & 1:
                fn, sn = _shift_past_right_border(fn, sn)
        else:
            new_current = node_hash(new_current, element)
        fn >>= 1
        sn >>= 1
    return (
        sn == 0
        and hmac.compare_digest(old_current, old_root)
        and hmac.compare_digest(new_current, new_root)
    )
