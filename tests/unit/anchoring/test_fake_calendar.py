"""The fake calendar speaks the OpenTimestamps calendar protocol (checked with the
reference library, not with notarium's client)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import pytest
from bitcoin.core import CBlockHeader
from opentimestamps.calendar import CommitmentNotFoundError, RemoteCalendar
from opentimestamps.core.notary import BitcoinBlockHeaderAttestation, PendingAttestation
from opentimestamps.core.serialize import BytesDeserializationContext
from opentimestamps.core.timestamp import Timestamp

from fakes.calendar import FakeCalendar
from fakes.chain import FakeChain


@pytest.fixture
def chain() -> FakeChain:
    return FakeChain()


@pytest.fixture
def calendar(chain: FakeChain) -> Iterator[FakeCalendar]:
    with FakeCalendar(chain) as server:
        yield server


def _commitment(timestamp: Timestamp) -> bytes:
    [(msg, attestation)] = list(timestamp.all_attestations())
    assert isinstance(attestation, PendingAttestation)
    return bytes(msg)


def test_reference_client_round_trip(calendar: FakeCalendar, chain: FakeChain) -> None:
    remote = RemoteCalendar(calendar.url + "/")
    digests = [os.urandom(32) for _ in range(5)]
    stamps = [remote.submit(digest, timeout=5) for digest in digests]
    commitments = [_commitment(stamp) for stamp in stamps]
    assert len(set(commitments)) == 5
    assert all(
        attestation == PendingAttestation(calendar.url)
        for stamp in stamps
        for _, attestation in stamp.all_attestations()
    )
    with pytest.raises(CommitmentNotFoundError):
        remote.get_timestamp(commitments[0], timeout=5)

    height = calendar.stamp_pending()
    assert height == chain.tip
    header = CBlockHeader.deserialize(chain.header(height))
    for commitment in commitments:
        upgraded = remote.get_timestamp(commitment, timeout=5)
        [(msg, attestation)] = list(upgraded.all_attestations())
        assert attestation == BitcoinBlockHeaderAttestation(height)
        assert attestation.verify_against_blockheader(msg, header) == header.nTime
    assert calendar.pending == []
    assert calendar.stamp_pending() is None


def test_path_passes_through_the_calendar_transaction(
    calendar: FakeCalendar, chain: FakeChain
) -> None:
    digest = os.urandom(32)
    answer = httpx.post(calendar.url + "/digest", content=digest)
    stamp = Timestamp.deserialize(BytesDeserializationContext(answer.content), digest)
    commitment = _commitment(stamp)
    height = calendar.stamp_pending()
    assert height is not None
    body = httpx.get(f"{calendar.url}/timestamp/{commitment.hex()}").content
    upgraded = Timestamp.deserialize(BytesDeserializationContext(body), commitment)
    tree = upgraded.str_tree()
    calendar_txid = chain.txids(height)[1]
    assert f"Transaction id {calendar_txid}" in tree


def test_digest_size_limits(calendar: FakeCalendar) -> None:
    assert httpx.post(calendar.url + "/digest", content=b"x" * 65).status_code == 400
    assert httpx.post(calendar.url + "/digest", content=b"").status_code == 400
    assert httpx.post(calendar.url + "/digest", content=b"x" * 64).status_code == 200


def test_unknown_commitment_and_paths(calendar: FakeCalendar) -> None:
    assert httpx.get(calendar.url + "/timestamp/" + "ab" * 32).status_code == 404
    assert httpx.get(calendar.url + "/timestamp/abc").status_code in (400, 404)
    assert httpx.get(calendar.url + "/nothing").status_code == 404


def test_failure_knobs(calendar: FakeCalendar) -> None:
    calendar.fail_next(2)
    assert httpx.post(calendar.url + "/digest", content=b"x" * 32).status_code == 500
    assert httpx.post(calendar.url + "/digest", content=b"x" * 32).status_code == 500
    assert httpx.post(calendar.url + "/digest", content=b"x" * 32).status_code == 200
    url = calendar.url
    calendar.offline = True
    with pytest.raises(httpx.ConnectError):
        httpx.post(url + "/digest", content=b"x" * 32)
    calendar.offline = False
    assert calendar.url == url
    assert httpx.post(url + "/digest", content=b"x" * 32).status_code == 200
    calendar.delay = 1.0
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(url + "/digest", content=b"x" * 32, timeout=0.2)
