"""Whatever arrives on the wire, respond() answers with a well-formed TimeStampResp."""

from __future__ import annotations

import hashlib

from asn1crypto import tsp
from hypothesis import given, settings
from hypothesis import strategies as st

from notarium.ledger.tsa.authority import TimeStampAuthority
from notarium.ledger.tsa.fakes import CountingSerialSource

from .support import parse_response

VALID_REQUEST = bytes(
    tsp.TimeStampReq(
        {
            "version": 1,
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha256"},
                "hashed_message": hashlib.sha256(b"fuzz").digest(),
            },
            "nonce": 99,
            "cert_req": True,
        }
    ).dump()
)


@settings(max_examples=400, deadline=None)
@given(payload=st.binary(max_size=2048))
def test_arbitrary_bytes_get_a_parseable_non_granted_response(
    shared_authority: TimeStampAuthority, payload: bytes
) -> None:
    response = parse_response(shared_authority.respond(payload, CountingSerialSource()))
    status = response["status"]
    assert status["status"].native != "granted"
    assert status["fail_info"].native
    assert not response["time_stamp_token"]


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_mutated_requests_always_get_a_parseable_response(
    shared_authority: TimeStampAuthority, data: st.DataObject
) -> None:
    """Near-valid input reaches deeper into the parser than random bytes do."""
    request = bytearray(VALID_REQUEST)
    for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
        position = data.draw(st.integers(min_value=0, max_value=len(request) - 1))
        request[position] = data.draw(st.integers(min_value=0, max_value=255))
    cut = data.draw(st.integers(min_value=0, max_value=len(request)))
    payload = bytes(request[:cut]) if data.draw(st.booleans()) else bytes(request)

    response = parse_response(shared_authority.respond(payload, CountingSerialSource()))
    status = response["status"]["status"].native
    assert status in {"granted", "rejection"}
    assert bool(response["time_stamp_token"]) == (status == "granted")
