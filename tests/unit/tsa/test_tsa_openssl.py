"""Every token is checked by the real ``openssl ts -verify``, not only by our parser."""

from __future__ import annotations

import hashlib

import pytest
from asn1crypto import cms

from notarium.core.clock import FrozenClock
from notarium.ledger.tsa.authority import TimeStampAuthority
from notarium.ledger.tsa.fakes import CountingSerialSource
from notarium.ledger.tsa.ports import TokenSigner

from .support import OTHER_POLICY, POLICY, OpenSSLTs, parse_response, token_of, tst_info_of

DATA = b"notarium: the quick brown fox jumps over the lazy dog\n"


@pytest.mark.parametrize("algorithm", ["sha256", "sha384", "sha512"])
def test_reply_to_openssl_query_verifies(
    authority: TimeStampAuthority, openssl: OpenSSLTs, algorithm: str
) -> None:
    data = openssl.write_data(DATA)
    query = openssl.query(data, algorithm=algorithm, cert=True)
    reply = openssl.save(authority.respond(query.read_bytes(), CountingSerialSource(4242)))

    by_query = openssl.verify(reply, queryfile=query)
    assert by_query.verified, by_query.stderr
    by_data = openssl.verify(reply, data=data)
    assert by_data.verified, by_data.stderr

    text = openssl.reply_text(reply)
    assert "Status: Granted." in text
    assert f"Hash Algorithm: {algorithm}" in text
    assert "Serial number: 0x1092" in text  # 4242
    assert f"Policy OID: {POLICY}" in text
    assert "Accuracy: 0x01 seconds, 0x01F4 millis" in text
    assert "Ordering: no" in text
    assert "Nonce: 0x" in text
    assert "TSA: DirName:/O=Notarium Test/CN=Notarium Test Time-Stamping Authority" in text


def test_openssl_sees_the_same_nonce(authority: TimeStampAuthority, openssl: OpenSSLTs) -> None:
    data = openssl.write_data(DATA)
    query = openssl.query(data)
    query_text = openssl.run("-query", "-in", str(query), "-text")
    nonce_line = next(line for line in query_text.stdout.splitlines() if "Nonce" in line)
    reply = openssl.save(authority.respond(query.read_bytes(), CountingSerialSource()))
    assert nonce_line.strip() in openssl.reply_text(reply)


def test_genTime_has_milliseconds_in_openssl_text(
    authority: TimeStampAuthority, openssl: OpenSSLTs
) -> None:
    query = openssl.query(openssl.write_data(DATA))
    reply = openssl.save(authority.respond(query.read_bytes(), CountingSerialSource()))
    # FROZEN_AT carries .123456 seconds: the TSA keeps exactly the milliseconds.
    assert ".123 " in next(
        line for line in openssl.reply_text(reply).splitlines() if "Time stamp:" in line
    )


def test_without_cert_req_token_has_no_certificates_and_needs_untrusted(
    authority: TimeStampAuthority, openssl: OpenSSLTs
) -> None:
    data = openssl.write_data(DATA)
    query = openssl.query(data, cert=False)
    response = authority.respond(query.read_bytes(), CountingSerialSource())
    signed_data = token_of(parse_response(response))["content"]
    assert not signed_data["certificates"]
    reply = openssl.save(response)

    assert not openssl.verify(reply, queryfile=query).verified
    with_untrusted = openssl.verify(reply, queryfile=query, untrusted=True)
    assert with_untrusted.verified, with_untrusted.stderr
    by_data = openssl.verify(reply, data=data, untrusted=True)
    assert by_data.verified, by_data.stderr


def test_query_without_nonce(authority: TimeStampAuthority, openssl: OpenSSLTs) -> None:
    data = openssl.write_data(DATA)
    query = openssl.query(data, nonce=False)
    response = authority.respond(query.read_bytes(), CountingSerialSource())
    assert tst_info_of(token_of(parse_response(response)))["nonce"].native is None
    reply = openssl.save(response)
    result = openssl.verify(reply, queryfile=query)
    assert result.verified, result.stderr


def test_requested_accepted_policy_is_used(
    authority: TimeStampAuthority, openssl: OpenSSLTs
) -> None:
    data = openssl.write_data(DATA)
    query = openssl.query(data, policy=OTHER_POLICY)
    reply = openssl.save(authority.respond(query.read_bytes(), CountingSerialSource()))
    result = openssl.verify(reply, queryfile=query)
    assert result.verified, result.stderr
    assert f"Policy OID: {OTHER_POLICY}" in openssl.reply_text(reply)


def test_unsupported_policy_is_rejected(authority: TimeStampAuthority, openssl: OpenSSLTs) -> None:
    query = openssl.query(openssl.write_data(DATA), policy="1.2.3.4.5")
    reply = openssl.save(authority.respond(query.read_bytes(), CountingSerialSource()))
    text = openssl.reply_text(reply)
    assert "Status: Rejected." in text
    assert "Failure info: the requested TSA policy is not supported by the TSA" in text


def test_sha1_query_is_rejected_with_bad_alg(
    authority: TimeStampAuthority, openssl: OpenSSLTs
) -> None:
    query = openssl.query(openssl.write_data(DATA), algorithm="sha1")
    response = authority.respond(query.read_bytes(), CountingSerialSource())
    status = parse_response(response)["status"]
    assert status["status"].native == "rejection"
    assert status["fail_info"].native == {"bad_alg"}
    text = openssl.reply_text(openssl.save(response))
    assert "Status: Rejected." in text
    assert "Failure info: unrecognized or unsupported algorithm identifier" in text


def test_garbage_is_rejected_with_bad_data_format(
    authority: TimeStampAuthority, openssl: OpenSSLTs
) -> None:
    text = openssl.reply_text(
        openssl.save(authority.respond(b"not DER at all", CountingSerialSource()))
    )
    assert "Status: Rejected." in text
    assert "Failure info: the data submitted has the wrong format" in text


@pytest.mark.parametrize("include_certs", [True, False])
def test_bare_token_from_issue_verifies_with_token_in(
    authority: TimeStampAuthority, openssl: OpenSSLTs, include_certs: bool
) -> None:
    data = openssl.write_data(DATA)
    issued = authority.issue(
        digest=hashlib.sha256(DATA).digest(), serial=77, include_certs=include_certs
    )
    token = openssl.save(issued.der, "token.der")
    by_data = openssl.verify(token, data=data, token_in=True, untrusted=not include_certs)
    assert by_data.verified, by_data.stderr
    by_digest = openssl.run(
        "-verify",
        "-token_in",
        "-in",
        str(token),
        "-digest",
        hashlib.sha256(DATA).hexdigest(),
        "-CAfile",
        str(openssl.files.ca),
        *([] if include_certs else ["-untrusted", str(openssl.files.tsa)]),
    )
    assert by_digest.verified, by_digest.stderr
    assert "Serial number: 0x4D" in openssl.reply_text(token, token_in=True)


@pytest.mark.parametrize("algorithm", ["sha384", "sha512"])
def test_issue_with_longer_hashes_verifies(
    authority: TimeStampAuthority, openssl: OpenSSLTs, algorithm: str
) -> None:
    data = openssl.write_data(DATA)
    issued = authority.issue(
        digest=hashlib.new(algorithm, DATA).digest(), hash_algorithm=algorithm, serial=5
    )
    result = openssl.verify(openssl.save(issued.der), data=data, token_in=True)
    assert result.verified, result.stderr


def test_token_without_signing_time_or_tsa_name_verifies(
    signer: TokenSigner, clock: FrozenClock, openssl: OpenSSLTs
) -> None:
    plain = TimeStampAuthority(
        signer,
        policy_oid=POLICY,
        accuracy_ms=0,
        clock=clock,
        include_signing_time=False,
        include_tsa_name=False,
    )
    data = openssl.write_data(DATA)
    query = openssl.query(data)
    reply = openssl.save(plain.respond(query.read_bytes(), CountingSerialSource()))
    result = openssl.verify(reply, queryfile=query)
    assert result.verified, result.stderr
    text = openssl.reply_text(reply)
    assert "Accuracy: unspecified" in text
    assert "TSA: unspecified" in text


def _flip(der: bytes, marker: bytes) -> bytes:
    at = der.index(marker) + len(marker) - 1
    return der[:at] + bytes([der[at] ^ 0x01]) + der[at + 1 :]


@pytest.mark.parametrize("part", ["imprint", "serial", "signature"])
def test_tampered_token_fails_verification(
    authority: TimeStampAuthority, openssl: OpenSSLTs, part: str
) -> None:
    data = openssl.write_data(DATA)
    digest = hashlib.sha256(DATA).digest()
    issued = authority.issue(digest=digest, serial=0x5A5A5A)
    assert openssl.verify(openssl.save(issued.der), data=data, token_in=True).verified

    if part == "imprint":
        # Change the imprint inside TSTInfo and verify against the altered digest: the
        # imprint check then passes, so only the signature check can catch it.
        tampered = issued.der.replace(digest, digest[:-1] + bytes([digest[-1] ^ 1]))
        result = openssl.run(
            "-verify",
            "-token_in",
            "-in",
            str(openssl.save(tampered, "tampered.der")),
            "-digest",
            (digest[:-1] + bytes([digest[-1] ^ 1])).hex(),
            "-CAfile",
            str(openssl.files.ca),
        )
    else:
        if part == "serial":
            tampered = _flip(issued.der, b"\x02\x03\x5a\x5a\x5a")
        else:
            signature = _signature_of(issued.der)
            tampered = issued.der.replace(signature, signature[:-1] + bytes([signature[-1] ^ 1]))
        result = openssl.verify(openssl.save(tampered, "tampered.der"), data=data, token_in=True)
    assert not result.verified
    assert result.returncode != 0


def _signature_of(der: bytes) -> bytes:
    signer_info = cms.ContentInfo.load(der)["content"]["signer_infos"][0]
    signature: bytes = signer_info["signature"].native
    return signature
