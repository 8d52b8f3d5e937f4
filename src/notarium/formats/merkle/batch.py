"""The batch tree that aggregates record digests into one anchored commitment.

The tree is built so that every leaf's path to the root can be written as
OpenTimestamps operations (``append``, ``prepend``, ``sha256``), which is what lets a
leaf's proof be spliced in front of a calendar's timestamp and checked by any OTS
client:

* leaf ``i`` is ``sha256(digest_i || nonce_i)``: the record's 32-byte SHA-256 blinded
  with a fresh 16-byte nonce, as OpenTimestamps calendars do, so that a published
  path reveals nothing about the neighbouring records;
* an interior node is ``sha256(left || right)``, plain concatenation; RFC 6962's
  0x00/0x01 prefixes are left out because each would need an op of its own and
  blinding already keeps leaves and nodes apart (a leaf preimage is 48 bytes, a node
  preimage 64);
* levels are paired left to right; when a level has an odd number of nodes, the last
  one is **promoted unchanged** to the next level (no hashing with itself). This is
  the rule of OpenTimestamps' own ``make_merkle_tree`` and, unlike duplicating the
  last node as Bitcoin does, it never gives two different leaf lists the same root.
  A promoted node simply contributes no step to its leaves' paths at that level.

A ``Step`` names the side on which its sibling is concatenated: ``"left"`` means
``sha256(sibling || current)`` (OTS ``prepend``), ``"right"`` means
``sha256(current || sibling)`` (OTS ``append``). Paths run from the leaf to the root.
"""

from __future__ import annotations

import gc
import hashlib
import os
import re
import struct
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from itertools import repeat
from operator import add, itemgetter
from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias, TypeVar

from notarium.formats.merkle.errors import MalformedLeafProofError, MerkleInputError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

DIGEST_SIZE: Final = 32
NONCE_SIZE: Final = 16
# 2**64 leaves is beyond any batch; a longer path can only be garbage.
MAX_PATH_LENGTH: Final = 64

Side: TypeAlias = Literal["left", "right"]
OtsOpName: TypeAlias = Literal["append", "prepend", "sha256"]
OtsOp: TypeAlias = tuple[OtsOpName, bytes | None]

_sha256 = hashlib.sha256
_digest_of = type(hashlib.sha256()).digest
_LOWER_HEX = re.compile(r"[0-9a-f]*")
_NONCE_LAYOUT = struct.Struct(f"{NONCE_SIZE}s")


@dataclass(frozen=True, slots=True)
class Step:
    """One level of a leaf's path: ``sibling`` is concatenated on ``side``."""

    side: Side
    sibling: bytes


@dataclass(frozen=True, slots=True)
class LeafProof:
    """Everything needed to recompute the batch root from one record digest."""

    digest: bytes
    nonce: bytes
    path: tuple[Step, ...]


class Batch:
    """The root to anchor, and every leaf's path, held in the tree's levels.

    The levels are all the tree there is: the path of leaf ``i`` is read off them in
    O(log n) by :meth:`proof`. :attr:`proofs` materialises every path as objects, once,
    for callers that store them all.
    """

    __slots__ = ("_digests", "_levels", "_nonces", "_proofs", "root")

    def __init__(self, digests: list[bytes], nonces: list[bytes], levels: list[list[bytes]]):
        self.root: bytes = levels[-1][0]
        self._digests = digests
        self._nonces = nonces
        self._levels = levels
        self._proofs: tuple[LeafProof, ...] | None = None

    def __len__(self) -> int:
        return len(self._digests)

    def proof(self, index: int) -> LeafProof:
        """Leaf ``index``'s proof, in input order."""
        if not 0 <= index < len(self._digests):
            raise IndexError(f"leaf {index} is not in a batch of {len(self._digests)}")
        path: list[Step] = []
        position = index
        for level in self._levels[:-1]:
            sibling = position ^ 1
            # The last node of an odd level is promoted and adds no step.
            if sibling < len(level):
                path.append(Step("right" if position % 2 == 0 else "left", level[sibling]))
            position //= 2
        return LeafProof(self._digests[index], self._nonces[index], tuple(path))

    @property
    def proofs(self) -> tuple[LeafProof, ...]:
        """Every leaf's proof, in input order (built on first use)."""
        if self._proofs is None:
            count = len(self._digests)
            with _gc_paused():
                paths = _paths(self._levels)
                self._proofs = tuple(
                    _bulk_new(
                        LeafProof,
                        count,
                        {"digest": self._digests, "nonce": self._nonces, "path": paths},
                    )
                )
        return self._proofs


_T = TypeVar("_T", bound="DataclassInstance")


def _bulk_new(cls: type[_T], count: int, columns: Mapping[str, Iterable[Any]]) -> list[_T]:
    """Create ``count`` frozen slotted dataclass instances, one field column at a time.

    A batch of a million leaves needs about three million Step and LeafProof objects;
    the generated ``__init__`` of a frozen dataclass pays a Python-level
    ``object.__setattr__`` per field, which alone costs more than hashing the tree.
    Writing each slot through its member descriptor from C-level ``map`` calls gives
    identical objects (the classes have no ``__post_init__``) at a fraction of the cost.
    """
    if set(columns) != {field.name for field in fields(cls)}:
        raise AssertionError(f"every field of {cls.__name__} must be given")
    objects: list[_T] = list(map(object.__new__, repeat(cls, count)))
    for name, values in columns.items():
        deque(map(cls.__dict__[name].__set__, objects, values), maxlen=0)
    return objects


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Keep the cyclic collector out of a bulk build.

    Everything a build allocates is acyclic, yet each allocation threshold crossed
    makes the collector traverse the growing young generation; for a large batch those
    passes cost about as much as the hashing.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _check_digests(digests: Sequence[bytes]) -> list[bytes]:
    items = list(digests)
    if not items:
        raise MerkleInputError("a batch needs at least one digest")
    # Two C-level passes for the common case; the loop only runs to name the culprit.
    if set(map(type, items)) != {bytes} or set(map(len, items)) != {DIGEST_SIZE}:
        for position, item in enumerate(items):
            if not isinstance(item, bytes) or len(item) != DIGEST_SIZE:
                raise MerkleInputError(f"digest {position} is not {DIGEST_SIZE} bytes of SHA-256")
    return items


def _check_nonces(nonces: Sequence[bytes], count: int) -> list[bytes]:
    items = list(nonces)
    if len(items) != count:
        raise MerkleInputError(f"{len(items)} nonces given for {count} digests")
    if set(map(type, items)) != {bytes} or set(map(len, items)) != {NONCE_SIZE}:
        for position, item in enumerate(items):
            if not isinstance(item, bytes) or len(item) != NONCE_SIZE:
                raise MerkleInputError(f"nonce {position} is not {NONCE_SIZE} bytes")
    return items


def _fresh_nonces(count: int) -> list[bytes]:
    # One system call for the whole batch, cut into independent 16-byte nonces in C.
    pool = os.urandom(NONCE_SIZE * count)
    return list(map(itemgetter(0), _NONCE_LAYOUT.iter_unpack(pool)))


def _levels(leaves: list[bytes]) -> list[list[bytes]]:
    """All levels from the leaves up to the one-node root level."""
    levels = [leaves]
    level = leaves
    while len(level) > 1:
        parents = list(map(_digest_of, map(_sha256, map(add, level[0::2], level[1::2]))))
        if len(level) % 2:
            parents.append(level[-1])
        levels.append(parents)
        level = parents
    return levels


def _paths(levels: list[list[bytes]]) -> list[tuple[Step, ...]]:
    """Every leaf's path, built from the root down.

    A node's path is its own step followed by its parent's path, and a promoted node's
    path is its parent's; working top-down turns each path into one C-level tuple
    concatenation, and each Step object is shared by all the leaves below the node it
    belongs to.
    """
    paths: list[tuple[Step, ...]] = [()]
    for level in reversed(levels[:-1]):
        pairs = len(level) // 2
        even_end = 2 * pairs
        # Even nodes see their sibling on the right, odd nodes on the left.
        right_steps = _bulk_new(Step, pairs, {"side": repeat("right"), "sibling": level[1::2]})
        left_steps = _bulk_new(
            Step, pairs, {"side": repeat("left"), "sibling": level[0:even_end:2]}
        )
        below: list[tuple[Step, ...]] = [()] * len(level)
        below[0:even_end:2] = map(add, zip(right_steps), paths)
        below[1:even_end:2] = map(add, zip(left_steps), paths)
        if len(level) % 2:
            below[-1] = paths[-1]
        paths = below
    return paths


def build_batch(digests: Sequence[bytes], *, nonces: Sequence[bytes] | None = None) -> Batch:
    """Build the batch tree over ``digests`` (32-byte SHA-256 values, in order).

    ``nonces`` (16 bytes each, one per digest) exist so tests can pin the tree; in
    service every leaf gets a fresh random nonce.
    """
    digest_list = _check_digests(digests)
    count = len(digest_list)
    nonce_list = _fresh_nonces(count) if nonces is None else _check_nonces(nonces, count)
    with _gc_paused():
        leaves = list(map(_digest_of, map(_sha256, map(add, digest_list, nonce_list))))
        return Batch(digest_list, nonce_list, _levels(leaves))


def _check_proof(proof: LeafProof) -> None:
    if not isinstance(proof.digest, bytes) or len(proof.digest) != DIGEST_SIZE:
        raise MalformedLeafProofError(f"leaf proof digest must be {DIGEST_SIZE} bytes")
    if not isinstance(proof.nonce, bytes) or len(proof.nonce) != NONCE_SIZE:
        raise MalformedLeafProofError(f"leaf proof nonce must be {NONCE_SIZE} bytes")
    if not isinstance(proof.path, tuple) or len(proof.path) > MAX_PATH_LENGTH:
        raise MalformedLeafProofError(
            f"leaf proof path must be a tuple of at most {MAX_PATH_LENGTH} steps"
        )
    for position, step in enumerate(proof.path):
        if not isinstance(step, Step):
            raise MalformedLeafProofError(f"path step {position} is not a Step")
        if step.side not in ("left", "right"):
            raise MalformedLeafProofError(f"path step {position} has side {step.side!r}")
        if not isinstance(step.sibling, bytes) or len(step.sibling) != DIGEST_SIZE:
            raise MalformedLeafProofError(
                f"path step {position} sibling must be {DIGEST_SIZE} bytes"
            )


def root_from_proof(proof: LeafProof) -> bytes:
    """The batch root that ``proof`` leads to (compare it with the anchored root)."""
    _check_proof(proof)
    current = _sha256(proof.digest + proof.nonce).digest()
    for step in proof.path:
        if step.side == "left":
            current = _sha256(step.sibling + current).digest()
        else:
            current = _sha256(current + step.sibling).digest()
    return current


def ots_ops(proof: LeafProof) -> list[OtsOp]:
    """The OpenTimestamps operations that lead from ``proof.digest`` to the root.

    Applied in order to the digest they give exactly ``root_from_proof(proof)``:
    ``append`` the nonce, ``sha256``, then per step ``prepend`` (sibling on the left)
    or ``append`` (sibling on the right) followed by ``sha256``. ``sha256`` carries no
    argument (``None``).
    """
    _check_proof(proof)
    ops: list[OtsOp] = [("append", proof.nonce), ("sha256", None)]
    for step in proof.path:
        ops.append(("prepend" if step.side == "left" else "append", step.sibling))
        ops.append(("sha256", None))
    return ops


def proof_to_json(proof: LeafProof) -> dict[str, Any]:
    """The proof as JSON-ready data, bytes as lowercase hex."""
    _check_proof(proof)
    return {
        "digest": proof.digest.hex(),
        "nonce": proof.nonce.hex(),
        "path": [{"side": step.side, "sibling": step.sibling.hex()} for step in proof.path],
    }


def _hex_field(data: Mapping[str, object], key: str, size: int, where: str) -> bytes:
    value = data[key]
    if not isinstance(value, str) or len(value) != 2 * size or not _LOWER_HEX.fullmatch(value):
        raise MalformedLeafProofError(f"{where}{key} must be {size} bytes as lowercase hex")
    return bytes.fromhex(value)


def _exact_keys(data: object, keys: set[str], where: str) -> Mapping[str, object]:
    if not isinstance(data, dict):
        raise MalformedLeafProofError(f"{where or 'leaf proof'} must be a JSON object")
    if set(data) != keys:
        missing = sorted(keys - set(data))
        extra = sorted(str(key) for key in set(data) - keys)
        raise MalformedLeafProofError(
            f"{where or 'leaf proof'} has missing keys {missing} or unexpected keys {extra}"
        )
    return data


def proof_from_json(data: object) -> LeafProof:
    """Parse the output of ``proof_to_json``; anything else raises MalformedLeafProofError."""
    top = _exact_keys(data, {"digest", "nonce", "path"}, "")
    digest = _hex_field(top, "digest", DIGEST_SIZE, "")
    nonce = _hex_field(top, "nonce", NONCE_SIZE, "")
    raw_path = top["path"]
    if not isinstance(raw_path, list):
        raise MalformedLeafProofError("path must be a JSON array")
    if len(raw_path) > MAX_PATH_LENGTH:
        raise MalformedLeafProofError(f"path has more than {MAX_PATH_LENGTH} steps")
    path: list[Step] = []
    for position, raw_step in enumerate(raw_path):
        where = f"path[{position}]"
        step = _exact_keys(raw_step, {"side", "sibling"}, where)
        side = step["side"]
        if side != "left" and side != "right":
            raise MalformedLeafProofError(f"{where}.side must be 'left' or 'right'")
        sibling = _hex_field(step, "sibling", DIGEST_SIZE, f"{where}.")
        path.append(Step(side=side, sibling=sibling))
    return LeafProof(digest=digest, nonce=nonce, path=tuple(path))
