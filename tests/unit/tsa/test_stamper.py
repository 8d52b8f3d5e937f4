"""The one stamper interface: the in-process stamper and the fake both hand out tokens
over the digest asked for, each under its own serial."""

from __future__ import annotations

import hashlib

import pytest
from asn1crypto import cms

from notarium.formats.rfc3161.token import parse_timestamp_token
from notarium.ledger.tsa.authority import TimeStampAuthority
from notarium.ledger.tsa.errors import UnsupportedHashAlgorithmError
from notarium.ledger.tsa.fakes import CountingSerialSource, FakeStamper
from notarium.ledger.tsa.stamper import InProcessStamper, TimeStamper

from .support import POLICY, parse_response, token_of

DIGEST = hashlib.sha256(b"one stamper").digest()


@pytest.fixture(params=["in-process", "fake"])
def stamper(request: pytest.FixtureRequest, authority: TimeStampAuthority) -> InProcessStamper:
    if request.param == "fake":
        return FakeStamper(authority, start=7)
    return InProcessStamper(authority, CountingSerialSource(7))


def test_both_are_time_stampers(stamper: InProcessStamper) -> None:
    assert isinstance(stamper, TimeStamper)


def test_a_token_binds_the_digest_under_fresh_serials(stamper: InProcessStamper) -> None:
    first = stamper.stamp(DIGEST)
    second = stamper.stamp(DIGEST)
    assert (first.serial, second.serial) == (7, 8)
    token = parse_timestamp_token(first.der)
    assert (token.imprint, token.imprint_algorithm) == (DIGEST, "sha256")
    assert (token.serial_number, token.policy, token.gen_time) == (7, POLICY, first.gen_time)
    assert token.certificates, "certificates are included"


def test_other_hashes_are_stamped_as_named(stamper: InProcessStamper) -> None:
    digest = hashlib.sha384(b"x").digest()
    issued = stamper.stamp(digest, hash_algo="sha384")
    token = parse_timestamp_token(issued.der)
    assert (token.imprint, token.imprint_algorithm) == (digest, "sha384")


def test_timestamp_is_the_der_of_a_stamp(stamper: InProcessStamper) -> None:
    der = stamper.timestamp(DIGEST)
    assert parse_timestamp_token(der).imprint == DIGEST
    assert isinstance(cms.ContentInfo.load(der), cms.ContentInfo)


def test_a_refused_digest_raises_and_draws_no_serial(stamper: InProcessStamper) -> None:
    with pytest.raises(UnsupportedHashAlgorithmError):
        stamper.stamp(DIGEST, hash_algo="sha1")
    assert stamper.stamp(DIGEST).serial == 7


def test_the_fake_remembers_what_it_stamped(authority: TimeStampAuthority) -> None:
    fake = FakeStamper(authority)
    fake.stamp(DIGEST)
    fake.timestamp(b"\x01" * 32)
    assert fake.stamped == [DIGEST, b"\x01" * 32]


def test_respond_answers_a_request_with_the_stamper_serials(
    authority: TimeStampAuthority,
) -> None:
    from asn1crypto import tsp

    stamper = InProcessStamper(authority, CountingSerialSource(40))
    request = tsp.TimeStampReq(
        {
            "version": 1,
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha256"},
                "hashed_message": DIGEST,
            },
            "cert_req": True,
        }
    ).dump()
    token = parse_timestamp_token(token_of(parse_response(stamper.respond(request))).dump())
    assert (token.imprint, token.serial_number) == (DIGEST, 40)
    assert parse_response(stamper.respond(b"garbage"))["status"]["status"].native == "rejection"
    assert stamper.stamp(DIGEST).serial == 41
