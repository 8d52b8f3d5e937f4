"""Per-record .ots files: built from a record's path and the calendars' payloads,
read back by the reference library and verified against the fake chain's headers."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from bitcoin.core import CBlockHeader
from opentimestamps.core.notary import BitcoinBlockHeaderAttestation, PendingAttestation
from opentimestamps.core.op import OpSHA256
from opentimestamps.core.serialize import BytesDeserializationContext
from opentimestamps.core.timestamp import DetachedTimestampFile

from fakes.calendar import FakeCalendar
from fakes.chain import FakeChain
from notarium.core.errors import ProofVerificationError
from notarium.formats.ots import (
    MalformedOtsError,
    OtsAttestationError,
    OtsBuildError,
    OtsDigestMismatchError,
    build_detached,
    inspect_detached,
    verify_detached,
)
from notarium.ledger.anchoring.ots_calendar import OtsCalendarAnchor
from notarium.ledger.anchoring.ports import AnchorState

Ops = list[tuple[str, bytes | None]]


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def two_leaf_path() -> tuple[bytes, Ops, bytes]:
    """A record's file digest, its path to the root of a 2-leaf RFC 6962-style tree,
    and that root."""
    file_digest = _sha256(b"the record's file")
    other_leaf = _sha256(b"\x00" + _sha256(b"another record's file"))
    leaf = _sha256(b"\x00" + file_digest)
    root = _sha256(b"\x01" + leaf + other_leaf)
    ops: Ops = [
        ("prepend", b"\x00"),
        ("sha256", None),
        ("append", other_leaf),
        ("prepend", b"\x01"),
        ("sha256", None),
    ]
    return file_digest, ops, root


@pytest.fixture
def chain() -> FakeChain:
    return FakeChain()


@pytest.fixture
def calendars(chain: FakeChain) -> Iterator[list[FakeCalendar]]:
    with ExitStack() as stack:
        yield [stack.enter_context(FakeCalendar(chain)) for _ in range(3)]


def _anchored(
    calendars: list[FakeCalendar], root: bytes
) -> tuple[list[AnchorState], list[AnchorState]]:
    anchors = [OtsCalendarAnchor(calendar.url) for calendar in calendars]
    pending = [anchor.submit(root) for anchor in anchors]
    for calendar in calendars:
        calendar.stamp_pending()
    done = [a.upgrade(root, s) for a, s in zip(anchors, pending, strict=True)]
    assert all(state.complete for state in done)
    return pending, done


def test_complete_file_verifies_with_the_reference_library(
    calendars: list[FakeCalendar], chain: FakeChain
) -> None:
    file_digest, ops, root = two_leaf_path()
    _, done = _anchored(calendars, root)
    data = build_detached(file_digest, ops, [state.payload for state in done])

    detached = DetachedTimestampFile.deserialize(BytesDeserializationContext(data))
    assert detached.file_hash_op == OpSHA256()
    assert detached.file_digest == file_digest
    checked = 0
    for msg, attestation in detached.timestamp.all_attestations():
        assert isinstance(attestation, BitcoinBlockHeaderAttestation)
        header = CBlockHeader.deserialize(chain.header(attestation.height))
        assert attestation.verify_against_blockheader(msg, header) == header.nTime
        checked += 1
    assert checked == 3  # every calendar contributed its own block

    results = verify_detached(data, file_digest, chain.header)
    heights = [state.bitcoin_height for state in done]
    assert [r.height for r in results] == sorted(h for h in heights if h is not None)
    for result in results:
        assert result.block_time == chain.block_time(result.height)
        assert result.block_hash == chain.block_hash(result.height)

    summary = inspect_detached(data, file_digest=file_digest)
    assert summary.complete and summary.pending == ()
    assert summary.hash_op == "sha256"
    assert summary.bitcoin_txids == tuple(sorted(state.bitcoin_txid or "" for state in done))
    assert {txid for h in heights if h is not None for txid in chain.txids(h)[1:]} == set(
        summary.bitcoin_txids
    )


def test_pending_file_lists_its_calendars(calendars: list[FakeCalendar]) -> None:
    file_digest, ops, root = two_leaf_path()
    pending, _ = _anchored(calendars, root)
    data = build_detached(file_digest, ops, [state.payload for state in pending])
    summary = inspect_detached(data)
    assert summary.digest == file_digest
    assert summary.pending == tuple(sorted(c.url for c in calendars))
    assert summary.bitcoin == () and not summary.complete
    assert verify_detached(data, file_digest, lambda height: None) == []
    detached = DetachedTimestampFile.deserialize(BytesDeserializationContext(data))
    assert {a for _, a in detached.timestamp.all_attestations()} == {
        PendingAttestation(c.url) for c in calendars
    }


def test_mixed_pending_and_complete(calendars: list[FakeCalendar], chain: FakeChain) -> None:
    file_digest, ops, root = two_leaf_path()
    pending, done = _anchored(calendars, root)
    data = build_detached(file_digest, ops, [done[0].payload, pending[1].payload])
    summary = inspect_detached(data)
    assert summary.pending == (calendars[1].url,)
    assert [b.height for b in summary.bitcoin] == [done[0].bitcoin_height]
    assert len(verify_detached(data, file_digest, chain.header)) == 1


def test_header_of_another_block_is_rejected(
    calendars: list[FakeCalendar], chain: FakeChain
) -> None:
    file_digest, ops, root = two_leaf_path()
    _, done = _anchored(calendars[:1], root)
    data = build_detached(file_digest, ops, [done[0].payload])
    with pytest.raises(OtsAttestationError, match="Merkle root"):
        verify_detached(data, file_digest, lambda height: chain.header(0))
    with pytest.raises(OtsAttestationError, match="80"):
        verify_detached(data, file_digest, lambda height: chain.header(height)[:79])


def test_unknown_heights_are_skipped(calendars: list[FakeCalendar]) -> None:
    file_digest, ops, root = two_leaf_path()
    _, done = _anchored(calendars[:1], root)
    data = build_detached(file_digest, ops, [done[0].payload])
    assert verify_detached(data, file_digest, lambda height: None) == []


def test_wrong_file_digest(calendars: list[FakeCalendar], chain: FakeChain) -> None:
    file_digest, ops, root = two_leaf_path()
    _, done = _anchored(calendars[:1], root)
    data = build_detached(file_digest, ops, [done[0].payload])
    with pytest.raises(OtsDigestMismatchError) as raised:
        verify_detached(data, _sha256(b"another file"), chain.header)
    assert isinstance(raised.value, ProofVerificationError)


def test_tampered_files(calendars: list[FakeCalendar], chain: FakeChain) -> None:
    file_digest, ops, root = two_leaf_path()
    _, done = _anchored(calendars[:1], root)
    data = build_detached(file_digest, ops, [done[0].payload])
    with pytest.raises(MalformedOtsError):
        inspect_detached(data[:-1])
    with pytest.raises(MalformedOtsError):
        inspect_detached(data + b"\x00")
    with pytest.raises(MalformedOtsError, match="magic"):
        inspect_detached(b"\x01" + data[1:])
    with pytest.raises(MalformedOtsError):
        inspect_detached(b"")
    # Changing an operand anywhere in the path changes the digest that reaches the block.
    other_leaf = ops[2][1]
    assert other_leaf is not None
    at = data.index(other_leaf)
    forged = data[:at] + bytes([data[at] ^ 1]) + data[at + 1 :]
    with pytest.raises(OtsAttestationError):
        verify_detached(forged, file_digest, chain.header)


def test_build_rejects_bad_input(calendars: list[FakeCalendar]) -> None:
    file_digest, ops, root = two_leaf_path()
    _, done = _anchored(calendars[:1], root)
    payloads = [done[0].payload]
    with pytest.raises(OtsBuildError, match="at least one"):
        build_detached(file_digest, ops, [])
    with pytest.raises(OtsBuildError, match="32 bytes"):
        build_detached(file_digest[:20], ops, payloads)
    with pytest.raises(OtsBuildError, match="unknown operation"):
        build_detached(file_digest, [*ops[:-1], ("sha512", None)], payloads)
    with pytest.raises(OtsBuildError, match="no argument"):
        build_detached(file_digest, [*ops[:-1], ("sha256", b"x")], payloads)
    with pytest.raises(OtsBuildError, match="needs a bytes argument"):
        build_detached(file_digest, [("append", None), *ops], payloads)
    with pytest.raises(OtsBuildError, match="can't be empty"):
        build_detached(file_digest, [("append", b""), *ops], payloads)
    with pytest.raises(OtsBuildError, match="not a 32-byte root"):
        build_detached(file_digest, [*ops, ("append", b"x")], payloads)
    with pytest.raises(OtsBuildError, match="does not start from root"):
        build_detached(file_digest, ops, [b"garbage"])


def test_library_built_file_is_read(chain: FakeChain) -> None:
    """A file made by the reference library alone (no notarium code) is understood."""
    from opentimestamps.core.serialize import BytesSerializationContext
    from opentimestamps.core.timestamp import Timestamp

    digest = _sha256(os.urandom(16))
    timestamp = Timestamp(digest)
    timestamp.ops.add(OpSHA256()).attestations.add(PendingAttestation("https://x.example"))
    ctx = BytesSerializationContext()
    DetachedTimestampFile(OpSHA256(), timestamp).serialize(ctx)
    summary = inspect_detached(ctx.getbytes(), file_digest=digest)
    assert summary.pending == ("https://x.example",)
