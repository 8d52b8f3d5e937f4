"""OpenTimestamps ``.ots`` files for single records, and the timestamp helpers behind them.

A record's ``.ots`` file is the standard detached timestamp: the record's file
digest, the record's path up to the batch root (notarium's Merkle tree, written as
OpenTimestamps append/prepend/sha256 operations) and, from the root on, whatever
the calendars returned. The stock ``ots`` client can read and verify it; so can
:func:`verify_detached`, given only block headers.

Serialisation and the attestation check are python-opentimestamps' own; what this
module adds is input checking and errors that name what is wrong.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from bitcoin.core import CBlockHeader, CTransaction
from opentimestamps.core.notary import (
    BitcoinBlockHeaderAttestation,
    PendingAttestation,
    VerificationError,
)
from opentimestamps.core.op import Op, OpAppend, OpPrepend, OpSHA256
from opentimestamps.core.serialize import (
    BytesDeserializationContext,
    BytesSerializationContext,
    DeserializationError,
)
from opentimestamps.core.timestamp import DetachedTimestampFile, Timestamp

from notarium.core.errors import ProofVerificationError, ValidationError

DIGEST_SIZE: Final = 32
HEADER_SIZE: Final = 80
#: Real proofs are a few KiB; the cap bounds the work a hostile file can cause.
MAX_OTS_SIZE: Final = 1024 * 1024
#: Bitcoin Core's MIN_STANDARD_TX_NONWITNESS_SIZE.
MIN_TX_SIZE: Final = 65


class OtsBuildError(ValidationError):
    """The inputs given to :func:`build_detached` are malformed or do not fit together."""

    code = "INVALID_PROOF_INPUT"


class MalformedOtsError(ProofVerificationError):
    """The bytes are not an OpenTimestamps proof."""

    code = "PROOF_MALFORMED"


class OtsDigestMismatchError(ProofVerificationError):
    """The proof is about another file."""

    code = "PROOF_HASH_MISMATCH"


class OtsAttestationError(ProofVerificationError):
    """A Bitcoin attestation does not match the block header at its height."""

    code = "PROOF_OTS_ATTESTATION_INVALID"


@dataclass(frozen=True)
class BitcoinAttestation:
    height: int
    digest: bytes
    """The message the attestation commits to: the block's Merkle root, if genuine."""


@dataclass(frozen=True)
class OtsSummary:
    digest: bytes
    """The file digest the proof starts from."""
    hash_op: str
    """How the file was hashed (``sha256`` for notarium's files)."""
    pending: tuple[str, ...]
    """Calendar URIs still to be asked for an upgrade."""
    bitcoin: tuple[BitcoinAttestation, ...]
    """Bitcoin block header attestations, lowest height first."""
    bitcoin_txids: tuple[str, ...]
    """Display-order hex txids of the transactions the proof passes through."""

    @property
    def complete(self) -> bool:
        return bool(self.bitcoin)


@dataclass(frozen=True)
class BitcoinVerification:
    height: int
    block_time: datetime
    """The header time (UTC): the file existed no later than this, give or take two hours."""
    block_hash: str
    """Display-order hex of the header that was checked."""


# -- timestamps ------------------------------------------------------------------


def _sha256d(data: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def serialize_timestamp(timestamp: Timestamp) -> bytes:
    ctx = BytesSerializationContext()
    try:
        timestamp.serialize(ctx)
    except ValueError as exc:
        raise OtsBuildError(f"the timestamp cannot be serialised: {exc}") from exc
    return bytes(ctx.getbytes())


def parse_timestamp(data: bytes, msg: bytes) -> Timestamp:
    """A serialised timestamp starting from ``msg``, refusing trailing bytes."""
    if len(data) > MAX_OTS_SIZE:
        raise MalformedOtsError(
            f"the timestamp is {len(data)} bytes, more than the {MAX_OTS_SIZE} allowed"
        )
    ctx = BytesDeserializationContext(data)
    try:
        timestamp = Timestamp.deserialize(ctx, msg)
        ctx.assert_eof()
    except (DeserializationError, ValueError, TypeError, RecursionError) as exc:
        raise MalformedOtsError(f"not a serialised OpenTimestamps timestamp: {exc}") from exc
    return timestamp


#: A node's way back to the root: None at the root, else (parent's link, parent, op).
_Link = tuple[Any, Timestamp, Op] | None


def _walk(timestamp: Timestamp) -> Iterator[tuple[_Link, Timestamp]]:
    """Every node of the tree with its link back to ``timestamp``, depth first."""
    stack: list[tuple[_Link, Timestamp]] = [(None, timestamp)]
    while stack:
        link, node = stack.pop()
        yield link, node
        for op, child in sorted(node.ops.items(), key=lambda item: item[0], reverse=True):
            stack.append(((link, node, op), child))


def _path(link: _Link) -> list[tuple[Timestamp, Op]]:
    """The (node, op) steps from the root down to the node ``link`` belongs to."""
    steps: list[tuple[Timestamp, Op]] = []
    while link is not None:
        link, node, op = link
        steps.append((node, op))
    steps.reverse()
    return steps


def _txid_on(path: list[tuple[Timestamp, Op]]) -> str | None:
    """The Bitcoin transaction a path to an attestation passes through, as ``ots info``
    finds it: the last message that parses as a transaction and is then hashed twice."""
    for i in range(len(path) - 2, -1, -1):
        node, op = path[i]
        if op != OpSHA256() or path[i + 1][1] != OpSHA256():
            continue
        if _is_transaction(node.msg):
            return _sha256d(node.msg)[::-1].hex()
    return None


def _is_transaction(msg: bytes) -> bool:
    # Every inner Merkle node is hashed from 64 bytes, which can parse as a transaction
    # by chance; Bitcoin Core relays nothing that small, so neither is taken for one.
    if len(msg) < MIN_TX_SIZE:
        return False
    try:
        CTransaction.deserialize(msg)
    except Exception:
        # Any parse failure means "not a transaction"; the parser raises several types.
        return False
    return True


def bitcoin_attestations(timestamp: Timestamp) -> list[tuple[BitcoinAttestation, str | None]]:
    """Each Bitcoin attestation with the txid its path passes through, lowest height first."""
    found: dict[tuple[int, bytes], str | None] = {}
    for link, node in _walk(timestamp):
        for attestation in node.attestations:
            if isinstance(attestation, BitcoinBlockHeaderAttestation):
                key = (int(attestation.height), bytes(node.msg))
                if found.get(key) is None:
                    found[key] = _txid_on(_path(link))
    return [(BitcoinAttestation(h, d), txid) for (h, d), txid in sorted(found.items())]


def pending_attestations(timestamp: Timestamp) -> list[tuple[bytes, str]]:
    """Each (commitment, calendar URI) still pending, sorted."""
    found: set[tuple[bytes, str]] = set()
    for msg, attestation in timestamp.all_attestations():
        if isinstance(attestation, PendingAttestation):
            found.add((bytes(msg), str(attestation.uri)))
    return sorted(found)


def nodes_for(timestamp: Timestamp, msg: bytes) -> list[Timestamp]:
    """Every node of the tree whose message is ``msg``."""
    return [node for _, node in _walk(timestamp) if node.msg == msg]


# -- detached files ----------------------------------------------------------------


_OPS: Final[dict[str, Callable[[bytes], Op]]] = {
    "append": OpAppend,
    "prepend": OpPrepend,
}


def build_detached(
    file_digest: bytes,
    ops: Sequence[tuple[str, bytes | None]],
    calendar_timestamps: Sequence[bytes],
) -> bytes:
    """The ``.ots`` file of one record.

    ``ops`` lead from the record's SHA-256 file digest to the batch root, as
    ``("append" | "prepend", bytes)`` or ``("sha256", None)``; each of
    ``calendar_timestamps`` is a serialised timestamp from that root (an OpenTimestamps
    anchor's payload). At least one is needed: a file without attestations cannot be
    written.
    """
    if len(file_digest) != DIGEST_SIZE:
        raise OtsBuildError(f"a file digest is {DIGEST_SIZE} bytes, got {len(file_digest)}")
    if not calendar_timestamps:
        raise OtsBuildError("an .ots file needs at least one calendar timestamp")
    timestamp = Timestamp(file_digest)
    node = timestamp
    for position, (name, arg) in enumerate(ops):
        node = node.ops.add(_op(position, name, arg))
    root = bytes(node.msg)
    if len(root) != DIGEST_SIZE:
        raise OtsBuildError(
            f"the operations end in a {len(root)}-byte message, not a {DIGEST_SIZE}-byte root"
        )
    for index, payload in enumerate(calendar_timestamps):
        try:
            node.merge(parse_timestamp(payload, root))
        except MalformedOtsError as exc:
            raise OtsBuildError(
                f"calendar timestamp {index} does not start from root {root.hex()}: {exc.message}"
            ) from exc
    detached = DetachedTimestampFile(OpSHA256(), timestamp)
    ctx = BytesSerializationContext()
    detached.serialize(ctx)
    return bytes(ctx.getbytes())


def _op(position: int, name: str, arg: bytes | None) -> Op:
    try:
        if name == "sha256":
            if arg is not None:
                raise OtsBuildError(f"operation {position}: sha256 takes no argument")
            return OpSHA256()
        make = _OPS.get(name)
        if make is None:
            raise OtsBuildError(
                f"operation {position}: unknown operation {name!r}; "
                "expected append, prepend or sha256"
            )
        if not isinstance(arg, bytes):
            raise OtsBuildError(f"operation {position}: {name} needs a bytes argument")
        return make(arg)
    except ValueError as exc:
        raise OtsBuildError(f"operation {position}: {exc}") from exc


def _load_detached(data: bytes) -> Any:
    if len(data) > MAX_OTS_SIZE:
        raise MalformedOtsError(
            f"the .ots file is {len(data)} bytes, more than the {MAX_OTS_SIZE} allowed"
        )
    try:
        return DetachedTimestampFile.deserialize(BytesDeserializationContext(data))
    except (DeserializationError, ValueError, TypeError, RecursionError) as exc:
        raise MalformedOtsError(f"not an OpenTimestamps proof file: {exc}") from exc


def inspect_detached(data: bytes, *, file_digest: bytes | None = None) -> OtsSummary:
    """What an ``.ots`` file claims, checked for shape (and against ``file_digest`` if given)
    but not against the block chain."""
    detached = _load_detached(data)
    digest = bytes(detached.file_digest)
    if file_digest is not None and digest != file_digest:
        raise OtsDigestMismatchError(
            f"the proof is for digest {digest.hex()}, not {file_digest.hex()}"
        )
    attestations = bitcoin_attestations(detached.timestamp)
    txids = sorted({txid for _, txid in attestations if txid is not None})
    return OtsSummary(
        digest=digest,
        hash_op=str(detached.file_hash_op.TAG_NAME),
        pending=tuple(sorted({uri for _, uri in pending_attestations(detached.timestamp)})),
        bitcoin=tuple(attestation for attestation, _ in attestations),
        bitcoin_txids=tuple(txids),
    )


def verify_detached(
    data: bytes,
    file_digest: bytes,
    headers: Callable[[int], bytes | None],
) -> list[BitcoinVerification]:
    """Check every Bitcoin attestation of an ``.ots`` file against block headers.

    ``headers(height)`` returns the 80-byte header at that height from a source the
    verifier trusts, or None when it does not know it; such attestations are skipped.
    Returns one result per attestation verified, earliest block first; raises
    :class:`OtsAttestationError` if any header contradicts the proof.
    """
    summary = inspect_detached(data, file_digest=file_digest)
    results: list[BitcoinVerification] = []
    for attestation in summary.bitcoin:
        header_bytes = headers(attestation.height)
        if header_bytes is None:
            continue
        header = _parse_header(attestation.height, header_bytes)
        claim = BitcoinBlockHeaderAttestation(attestation.height)
        try:
            block_time = claim.verify_against_blockheader(attestation.digest, header)
        except VerificationError as exc:
            raise OtsAttestationError(
                f"the proof commits to {attestation.digest[::-1].hex()} at height "
                f"{attestation.height}, but that block's Merkle root is "
                f"{header.hashMerkleRoot[::-1].hex()}"
            ) from exc
        results.append(
            BitcoinVerification(
                height=attestation.height,
                block_time=datetime.fromtimestamp(int(block_time), UTC),
                block_hash=_sha256d(header_bytes)[::-1].hex(),
            )
        )
    return results


def _parse_header(height: int, header: bytes) -> Any:
    if len(header) != HEADER_SIZE:
        raise OtsAttestationError(
            f"the block header for height {height} is {len(header)} bytes, not {HEADER_SIZE}"
        )
    return CBlockHeader.deserialize(header)
