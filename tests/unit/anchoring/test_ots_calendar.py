"""OtsCalendarAnchor against the fake calendar (and a few hand-made answers)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator

import httpx
import pytest
from bitcoin.core import CBlockHeader
from opentimestamps.core.notary import BitcoinBlockHeaderAttestation, PendingAttestation
from opentimestamps.core.op import OpAppend, OpSHA256
from opentimestamps.core.serialize import BytesDeserializationContext, BytesSerializationContext
from opentimestamps.core.timestamp import Timestamp

from fakes.calendar import FakeCalendar
from fakes.chain import FakeChain
from fakes.loopback import Reply
from notarium.ledger.anchoring.ots_calendar import (
    MAX_POLLS_PER_UPGRADE,
    MAX_RESPONSE_SIZE,
    CorruptOtsPayloadError,
    InvalidOtsRootError,
    OtsCalendarAnchor,
    OtsConfigurationError,
)
from notarium.ledger.anchoring.ports import Anchor, AnchorState, AnchorUnavailable


@pytest.fixture
def chain() -> FakeChain:
    return FakeChain()


@pytest.fixture
def calendar(chain: FakeChain) -> Iterator[FakeCalendar]:
    with FakeCalendar(chain) as server:
        yield server


def _root(label: bytes = b"batch") -> bytes:
    return hashlib.sha256(label + os.urandom(8)).digest()


def _timestamp(payload: bytes, root: bytes) -> Timestamp:
    return Timestamp.deserialize(BytesDeserializationContext(payload), root)


def _serialize(timestamp: Timestamp) -> bytes:
    ctx = BytesSerializationContext()
    timestamp.serialize(ctx)
    return bytes(ctx.getbytes())


def test_satisfies_the_anchor_protocol() -> None:
    anchor = OtsCalendarAnchor("https://alice.btc.calendar.opentimestamps.org/")
    assert isinstance(anchor, Anchor)
    assert anchor.kind == "ots"
    assert anchor.name == "ots:https://alice.btc.calendar.opentimestamps.org"


def test_submit_stamp_upgrade(calendar: FakeCalendar, chain: FakeChain) -> None:
    anchor = OtsCalendarAnchor(calendar.url)
    root = _root()
    state = anchor.submit(root)
    assert not state.complete
    assert state.bitcoin_txid is None and state.bitcoin_height is None
    [request] = calendar.requests
    assert request.method == "POST" and request.path == "/digest"
    assert request.body == root
    assert request.headers["accept"] == "application/vnd.opentimestamps.v1"
    assert request.headers["user-agent"] == "notarium"
    [(_, attestation)] = list(_timestamp(state.payload, root).all_attestations())
    assert attestation == PendingAttestation(calendar.url)

    assert anchor.upgrade(root, state) is state  # 404: still pending

    height = calendar.stamp_pending()
    assert height is not None
    done = anchor.upgrade(root, state)
    assert done.complete
    assert done.bitcoin_height == height
    assert done.bitcoin_txid == chain.txids(height)[1]
    assert done.bitcoin_block_time is None
    attestations = list(_timestamp(done.payload, root).all_attestations())
    # The pending attestation is resolved, so it is dropped.
    assert [a for _, a in attestations] == [BitcoinBlockHeaderAttestation(height)]
    [(merkle_root, _)] = attestations
    header = CBlockHeader.deserialize(chain.header(height))
    assert BitcoinBlockHeaderAttestation(height).verify_against_blockheader(merkle_root, header)

    requests = len(calendar.requests)
    assert anchor.upgrade(root, done) is done
    assert len(calendar.requests) == requests


def test_a_caller_that_forgot_completion_gets_it_back(calendar: FakeCalendar) -> None:
    anchor = OtsCalendarAnchor(calendar.url)
    root = _root()
    state = anchor.submit(root)
    calendar.stamp_pending()
    done = anchor.upgrade(root, state)
    again = anchor.upgrade(root, AnchorState(done.payload, complete=False))
    assert again == done


def test_many_roots_share_one_calendar_transaction(
    calendar: FakeCalendar, chain: FakeChain
) -> None:
    anchor = OtsCalendarAnchor(calendar.url)
    roots = [_root(b"%d" % i) for i in range(5)]
    states = [anchor.submit(root) for root in roots]
    height = calendar.stamp_pending()
    done = [anchor.upgrade(root, state) for root, state in zip(roots, states, strict=True)]
    assert {d.bitcoin_height for d in done} == {height}
    assert {d.bitcoin_txid for d in done} == {chain.txids(height or 0)[1]}


def test_404_keeps_state_and_500_raises(calendar: FakeCalendar) -> None:
    anchor = OtsCalendarAnchor(calendar.url)
    root = _root()
    state = anchor.submit(root)
    assert anchor.upgrade(root, state) is state
    calendar.fail_next()
    with pytest.raises(AnchorUnavailable, match="HTTP 500"):
        anchor.upgrade(root, state)
    calendar.fail_next()
    with pytest.raises(AnchorUnavailable, match="HTTP 500") as raised:
        anchor.submit(root)
    assert raised.value.code == "OTS_PROVIDER_ERROR"


def test_timeout_and_offline(calendar: FakeCalendar) -> None:
    anchor = OtsCalendarAnchor(calendar.url, timeout=0.2)
    calendar.delay = 1.0
    with pytest.raises(AnchorUnavailable, match=r"did not answer within 0\.2 s"):
        anchor.submit(_root())
    calendar.delay = 0
    calendar.offline = True
    with pytest.raises(AnchorUnavailable, match="could not be reached"):
        anchor.submit(_root())


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<html>busy</html>",
        b"\xf0\x10" + b"x" * 16,  # truncated: an append and then nothing
        b"\x00" + PendingAttestation.TAG + b"\x02\x01!",  # a URI with a forbidden character
    ],
    ids=["empty", "html", "truncated", "bad-uri"],
)
def test_garbage_answers(calendar: FakeCalendar, body: bytes) -> None:
    calendar.reply_next(Reply(200, body))
    with pytest.raises(AnchorUnavailable, match="not a timestamp"):
        OtsCalendarAnchor(calendar.url).submit(_root())


def test_trailing_bytes_are_refused(calendar: FakeCalendar) -> None:
    root = _root()
    timestamp = Timestamp(root)
    timestamp.ops.add(OpSHA256()).attestations.add(PendingAttestation(calendar.url))
    calendar.reply_next(Reply(200, _serialize(timestamp) + b"\x00"))
    with pytest.raises(AnchorUnavailable, match="not a timestamp"):
        OtsCalendarAnchor(calendar.url).submit(root)


def test_oversized_answers_are_refused(calendar: FakeCalendar) -> None:
    root = _root()
    timestamp = Timestamp(root)
    node = timestamp
    for _ in range(25):
        node = node.ops.add(OpAppend(os.urandom(500))).ops.add(OpSHA256())
    node.attestations.add(PendingAttestation(calendar.url))
    body = _serialize(timestamp)
    assert len(body) > MAX_RESPONSE_SIZE
    calendar.reply_next(Reply(200, body))
    with pytest.raises(AnchorUnavailable, match="bytes allowed"):
        OtsCalendarAnchor(calendar.url).submit(root)


def test_oversized_answer_without_length_is_cut_off() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        chunks = (b"\x00" * 4096 for _ in range(10))
        return httpx.Response(200, content=chunks)

    anchor = OtsCalendarAnchor("http://127.0.0.1:9", transport=httpx.MockTransport(handler))
    with pytest.raises(AnchorUnavailable, match="larger than the 10000 bytes"):
        anchor.submit(_root())


def test_submit_checks_the_root_and_config() -> None:
    anchor = OtsCalendarAnchor("http://127.0.0.1:9")
    with pytest.raises(InvalidOtsRootError):
        anchor.submit(b"short")
    for bad in ("ftp://calendar", "calendar.example", "https://u:p@calendar.example"):
        with pytest.raises(OtsConfigurationError):
            OtsCalendarAnchor(bad)
    with pytest.raises(OtsConfigurationError):
        OtsCalendarAnchor("https://calendar.example", timeout=0)


def test_corrupt_stored_payload() -> None:
    anchor = OtsCalendarAnchor("http://127.0.0.1:9")
    with pytest.raises(CorruptOtsPayloadError):
        anchor.upgrade(_root(), AnchorState(b"\xff\xff", complete=False))


def test_pool_answers_are_followed_to_whitelisted_calendars_only() -> None:
    """A pool names the calendar it forwarded to; only whitelisted ones are asked."""
    root = _root()
    seen: list[str] = []
    trusted = "https://alice.btc.calendar.opentimestamps.org"
    stranger = "https://evil.example"
    timestamp = Timestamp(root)
    to_trusted = timestamp.ops.add(OpAppend(b"a" * 16)).ops.add(OpSHA256())
    to_trusted.attestations.add(PendingAttestation(trusted))
    to_stranger = timestamp.ops.add(OpAppend(b"b" * 16)).ops.add(OpSHA256())
    to_stranger.attestations.add(PendingAttestation(stranger))
    upgrade = Timestamp(to_trusted.msg)
    upgrade.ops.add(OpSHA256()).attestations.add(BitcoinBlockHeaderAttestation(123))

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if request.url.path == "/digest":
            return httpx.Response(200, content=_serialize(timestamp))
        if request.url.path == f"/timestamp/{to_trusted.msg.hex()}":
            return httpx.Response(200, content=_serialize(upgrade))
        return httpx.Response(404)

    anchor = OtsCalendarAnchor(
        "https://a.pool.opentimestamps.org", transport=httpx.MockTransport(handler)
    )
    state = anchor.submit(root)
    done = anchor.upgrade(root, state)
    assert done.complete and done.bitcoin_height == 123
    assert done.bitcoin_txid is None  # no transaction on that hand-made path
    assert seen == [
        "https://a.pool.opentimestamps.org/digest",
        f"{trusted}/timestamp/{to_trusted.msg.hex()}",
    ]
    pending = [a for _, a in _timestamp(done.payload, root).all_attestations()]
    assert PendingAttestation(stranger) in pending
    assert PendingAttestation(trusted) not in pending


def test_progress_survives_another_calendars_failure() -> None:
    root = _root()
    first = "https://alice.btc.calendar.opentimestamps.org"
    second = "https://bob.btc.calendar.opentimestamps.org"
    timestamp = Timestamp(root)
    a = timestamp.ops.add(OpAppend(b"a" * 16)).ops.add(OpSHA256())
    a.attestations.add(PendingAttestation(first))
    b = timestamp.ops.add(OpAppend(b"b" * 16)).ops.add(OpSHA256())
    b.attestations.add(PendingAttestation(second))
    upgrade = Timestamp(a.msg)
    upgrade.ops.add(OpSHA256()).attestations.add(BitcoinBlockHeaderAttestation(7))

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host.startswith("alice"):
            return httpx.Response(200, content=_serialize(upgrade))
        return httpx.Response(503)

    anchor = OtsCalendarAnchor(first, transport=httpx.MockTransport(handler))
    state = AnchorState(_serialize(timestamp), complete=False)
    assert anchor.upgrade(root, state).complete

    def failing(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503)

    anchor = OtsCalendarAnchor(first, transport=httpx.MockTransport(failing))
    with pytest.raises(AnchorUnavailable, match="HTTP 503"):
        anchor.upgrade(root, state)


def test_only_a_few_pending_commitments_are_polled_per_upgrade() -> None:
    root = _root()
    url = "https://alice.btc.calendar.opentimestamps.org"
    timestamp = Timestamp(root)
    for i in range(20):
        node = timestamp.ops.add(OpAppend(bytes([i]) * 16)).ops.add(OpSHA256())
        node.attestations.add(PendingAttestation(url))
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(404)

    anchor = OtsCalendarAnchor(url, transport=httpx.MockTransport(handler))
    state = AnchorState(_serialize(timestamp), complete=False)
    assert anchor.upgrade(root, state) is state
    assert len(seen) == MAX_POLLS_PER_UPGRADE


def test_answers_may_not_grow_the_payload_without_bound() -> None:
    root = _root()
    url = "https://alice.btc.calendar.opentimestamps.org"
    timestamp = Timestamp(root)
    commitments = []
    for i in range(MAX_POLLS_PER_UPGRADE):
        node = timestamp.ops.add(OpAppend(bytes([i]) * 16)).ops.add(OpSHA256())
        node.attestations.add(PendingAttestation(url))
        commitments.append(node.msg)

    def handler(request: httpx.Request) -> httpx.Response:
        commitment = bytes.fromhex(request.url.path.rsplit("/", 1)[1])
        answer = Timestamp(commitment)
        tip = answer
        for _ in range(18):
            tip = tip.ops.add(OpAppend(os.urandom(500))).ops.add(OpSHA256())
        tip.attestations.add(PendingAttestation(url))
        return httpx.Response(200, content=_serialize(answer))

    anchor = OtsCalendarAnchor(url, transport=httpx.MockTransport(handler))
    with pytest.raises(AnchorUnavailable, match="grew the timestamp"):
        anchor.upgrade(root, AnchorState(_serialize(timestamp), complete=False))
