"""Token and response structure, request validation and error mapping."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from asn1crypto import algos, cms, core, tsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from notarium.core.clock import FrozenClock
from notarium.core.errors import TimestampingError, ValidationError
from notarium.ledger.tsa.authority import MAX_REQUEST_SIZE, IssuedToken, TimeStampAuthority
from notarium.ledger.tsa.errors import (
    MalformedTimestampRequestError,
    TokenSigningError,
    TsaConfigurationError,
    UnacceptedPolicyError,
    UnsupportedHashAlgorithmError,
)
from notarium.ledger.tsa.fakes import CountingSerialSource, FailingTokenSigner
from notarium.ledger.tsa.ports import TokenSigner

from .support import (
    ACCURACY_MS,
    FROZEN_AT,
    OTHER_POLICY,
    POLICY,
    parse_response,
    token_of,
    tst_info_of,
)

DIGEST = hashlib.sha256(b"document").digest()


def make_request(
    *,
    algorithm: str = "sha256",
    digest: bytes = DIGEST,
    nonce: int | None = 12345678901234567890,
    cert_req: bool = True,
    policy: str | None = None,
    parameters: Any = None,
    version: int = 1,
    extensions: list[dict[str, Any]] | None = None,
) -> bytes:
    hash_algorithm: dict[str, Any] = {"algorithm": algorithm}
    if parameters is not None:
        hash_algorithm["parameters"] = parameters
    fields: dict[str, Any] = {
        "version": version,
        "message_imprint": {"hash_algorithm": hash_algorithm, "hashed_message": digest},
        "cert_req": cert_req,
    }
    if nonce is not None:
        fields["nonce"] = nonce
    if policy is not None:
        fields["req_policy"] = policy
    if extensions is not None:
        fields["extensions"] = extensions
    return bytes(tsp.TimeStampReq(fields).dump())


def granted_token(response_der: bytes) -> cms.ContentInfo:
    response = parse_response(response_der)
    assert response["status"]["status"].native == "granted"
    return token_of(response)


def failure_of(response_der: bytes) -> set[str]:
    response = parse_response(response_der)
    status = response["status"]
    assert status["status"].native == "rejection"
    assert not response["time_stamp_token"]
    failure: set[str] = status["fail_info"].native
    return failure


def assert_exact_der(value: core.Asn1Value) -> None:
    """Re-encoding from the fully parsed schema must reproduce the bytes exactly."""
    original = value.dump()
    reparsed = type(value).load(original)
    reparsed.native  # noqa: B018
    assert reparsed.dump(force=True) == original


# -- token structure -----------------------------------------------------------------


def test_token_is_exact_der_under_the_cms_and_tsp_schemas(
    authority: TimeStampAuthority,
) -> None:
    for include_certs in (True, False):
        issued = authority.issue(digest=DIGEST, serial=1, nonce=7, include_certs=include_certs)
        token = cms.ContentInfo.load(issued.der, strict=True)
        assert_exact_der(token)
        assert_exact_der(tst_info_of(token))


def test_response_is_exact_der(authority: TimeStampAuthority) -> None:
    response = parse_response(authority.respond(make_request(), CountingSerialSource()), full=True)
    assert_exact_der(response)
    rejection = parse_response(authority.respond(b"\x00", CountingSerialSource()), full=True)
    assert_exact_der(rejection)


def test_signed_data_layout(authority: TimeStampAuthority, signer: TokenSigner) -> None:
    token = cms.ContentInfo.load(authority.issue(digest=DIGEST, serial=9).der)
    assert token["content_type"].native == "signed_data"
    signed_data = token["content"]
    assert signed_data["version"].native == "v3"
    assert [a["algorithm"].native for a in signed_data["digest_algorithms"]] == ["sha256"]
    assert signed_data["encap_content_info"]["content_type"].native == "tst_info"
    # A SET OF: DER orders it by encoding, so compare contents, not order.
    certificates = {c.chosen.dump() for c in signed_data["certificates"]}
    assert certificates == {
        signer.certificate.public_bytes(Encoding.DER),
        *(c.public_bytes(Encoding.DER) for c in signer.chain),
    }
    assert len(signed_data["certificates"]) == 1 + len(signer.chain)
    (signer_info,) = signed_data["signer_infos"]
    assert signer_info["version"].native == "v1"
    assert signer_info["signature_algorithm"]["algorithm"].dotted == "1.2.840.10045.4.3.2"
    assert signer_info["digest_algorithm"]["algorithm"].native == "sha256"
    sid = signer_info["sid"].chosen
    assert sid["serial_number"].native == signer.certificate.serial_number
    assert sid["issuer"].dump() == signer.certificate.issuer.public_bytes()


def test_signed_attributes_and_signature(
    authority: TimeStampAuthority, signer: TokenSigner
) -> None:
    token = cms.ContentInfo.load(authority.issue(digest=DIGEST, serial=9).der)
    signed_data = token["content"]
    signer_info = signed_data["signer_infos"][0]
    attributes = {a["type"].native: a["values"] for a in signer_info["signed_attrs"]}
    assert set(attributes) == {
        "content_type",
        "message_digest",
        "signing_time",
        "signing_certificate_v2",
    }
    assert attributes["content_type"][0].native == "tst_info"
    tst_der = signed_data["encap_content_info"]["content"].parsed.dump()
    assert attributes["message_digest"][0].native == hashlib.sha256(tst_der).digest()
    assert attributes["signing_time"][0].chosen.native == FROZEN_AT.replace(microsecond=0)

    (ess,) = attributes["signing_certificate_v2"][0]["certs"]
    leaf_der = signer.certificate.public_bytes(Encoding.DER)
    assert ess["hash_algorithm"]["algorithm"].native == "sha256"
    assert ess["cert_hash"].native == hashlib.sha256(leaf_der).digest()
    (issuer_name,) = ess["issuer_serial"]["issuer"]
    assert issuer_name.name == "directory_name"
    assert issuer_name.chosen.untag().dump() == signer.certificate.issuer.public_bytes()
    assert ess["issuer_serial"]["serial_number"].native == signer.certificate.serial_number

    # RFC 5652 §5.4: the signature is over the attributes re-tagged as a SET.
    signed = signer_info["signed_attrs"].untag()
    public_key = signer.certificate.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    public_key.verify(signer_info["signature"].native, signed.dump(), ec.ECDSA(hashes.SHA256()))


def test_tst_info_fields(authority: TimeStampAuthority, signer: TokenSigner) -> None:
    issued = authority.issue(digest=DIGEST, serial=31337, nonce=42)
    tst = tst_info_of(cms.ContentInfo.load(issued.der))
    assert tst["version"].native == "v1"
    assert tst["policy"].dotted == POLICY
    assert tst["message_imprint"]["hash_algorithm"]["algorithm"].native == "sha256"
    assert tst["message_imprint"]["hashed_message"].native == DIGEST
    assert tst["serial_number"].native == 31337
    assert tst["nonce"].native == 42
    assert tst["accuracy"].native == {"seconds": 1, "millis": 500, "micros": None}
    assert tst["ordering"].native is False
    assert tst["tsa"].name == "directory_name"
    assert tst["tsa"].chosen.untag().dump() == signer.certificate.subject.public_bytes()
    assert not tst["extensions"]


def test_gen_time_is_utc_with_milliseconds(authority: TimeStampAuthority) -> None:
    issued = authority.issue(digest=DIGEST, serial=1)
    expected = FROZEN_AT.replace(microsecond=123000)
    assert issued.gen_time == expected
    assert issued.gen_time.utcoffset() == timedelta(0)
    gen_time = tst_info_of(cms.ContentInfo.load(issued.der))["gen_time"]
    assert gen_time.native == expected
    assert gen_time.contents.decode() == expected.strftime("%Y%m%d%H%M%S") + ".123Z"


@pytest.mark.parametrize(
    ("microsecond", "suffix"),
    [(0, "Z"), (120999, ".12Z"), (100000, ".1Z"), (999999, ".999Z"), (500, "Z")],
)
def test_gen_time_fraction_is_der(signer: TokenSigner, microsecond: int, suffix: str) -> None:
    """X.690 §11.7: no trailing zeros in the fraction, and no point for a whole second."""
    instant = datetime(2030, 5, 6, 7, 8, 9, microsecond, tzinfo=UTC)
    authority = TimeStampAuthority(
        signer, policy_oid=POLICY, accuracy_ms=1, clock=FrozenClock(instant)
    )
    tst = tst_info_of(cms.ContentInfo.load(authority.issue(digest=DIGEST, serial=1).der))
    assert tst["gen_time"].contents.decode() == "20300506070809" + suffix


def test_non_utc_clock_is_converted_to_utc(signer: TokenSigner) -> None:
    cet = timezone(timedelta(hours=1))
    authority = TimeStampAuthority(
        signer,
        policy_oid=POLICY,
        accuracy_ms=1,
        clock=FrozenClock(datetime(2030, 1, 1, 1, 0, 0, tzinfo=cet)),
    )
    issued = authority.issue(digest=DIGEST, serial=1)
    assert issued.gen_time == datetime(2030, 1, 1, 0, 0, 0, tzinfo=UTC)
    assert issued.gen_time.tzinfo == UTC


def test_signing_time_switches_to_generalized_time_in_2050(signer: TokenSigner) -> None:
    authority = TimeStampAuthority(
        signer,
        policy_oid=POLICY,
        accuracy_ms=1,
        clock=FrozenClock(datetime(2050, 1, 1, tzinfo=UTC)),
    )
    token = cms.ContentInfo.load(authority.issue(digest=DIGEST, serial=1).der)
    attributes = {
        a["type"].native: a["values"] for a in token["content"]["signer_infos"][0]["signed_attrs"]
    }
    assert attributes["signing_time"][0].name == "generalized_time"
    assert attributes["signing_time"][0].chosen.native == datetime(2050, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("accuracy_ms", "expected"),
    [
        (1500, {"seconds": 1, "millis": 500, "micros": None}),
        (250, {"seconds": None, "millis": 250, "micros": None}),
        (3000, {"seconds": 3, "millis": None, "micros": None}),
        (0, None),
    ],
)
def test_accuracy(signer: TokenSigner, accuracy_ms: int, expected: object) -> None:
    authority = TimeStampAuthority(
        signer, policy_oid=POLICY, accuracy_ms=accuracy_ms, clock=FrozenClock(FROZEN_AT)
    )
    tst = tst_info_of(cms.ContentInfo.load(authority.issue(digest=DIGEST, serial=1).der))
    assert tst["accuracy"].native == expected


def test_issued_token_value(authority: TimeStampAuthority) -> None:
    digest = hashlib.sha384(b"x").digest()
    issued = authority.issue(digest=digest, hash_algorithm="sha384", serial=3)
    assert isinstance(issued, IssuedToken)
    assert (issued.serial, issued.hash_algorithm, issued.digest) == (3, "sha384", digest)
    with pytest.raises(AttributeError):
        issued.serial = 4  # type: ignore[misc]


def test_policy_override_on_issue(authority: TimeStampAuthority) -> None:
    issued = authority.issue(digest=DIGEST, serial=1, policy_oid=OTHER_POLICY)
    assert tst_info_of(cms.ContentInfo.load(issued.der))["policy"].dotted == OTHER_POLICY
    with pytest.raises(UnacceptedPolicyError):
        authority.issue(digest=DIGEST, serial=1, policy_oid="1.2.3")


def test_policy_oid_is_configurable(signer: TokenSigner) -> None:
    authority = TimeStampAuthority(
        signer, policy_oid="2.25.1234", accuracy_ms=ACCURACY_MS, clock=FrozenClock(FROZEN_AT)
    )
    assert authority.policy_oid == "2.25.1234"
    token = granted_token(authority.respond(make_request(), CountingSerialSource()))
    assert tst_info_of(token)["policy"].dotted == "2.25.1234"
    assert failure_of(authority.respond(make_request(policy=POLICY), CountingSerialSource())) == {
        "unaccepted_policy"
    }


# -- respond() -----------------------------------------------------------------------


def test_nonce_is_echoed(authority: TimeStampAuthority) -> None:
    for nonce in (0, 1, 2**64 - 1, 2**200):
        token = granted_token(authority.respond(make_request(nonce=nonce), CountingSerialSource()))
        assert tst_info_of(token)["nonce"].native == nonce


def test_cert_req_controls_certificates(authority: TimeStampAuthority) -> None:
    with_certs = granted_token(
        authority.respond(make_request(cert_req=True), CountingSerialSource())
    )
    assert len(with_certs["content"]["certificates"]) == 2
    without = granted_token(authority.respond(make_request(cert_req=False), CountingSerialSource()))
    assert not without["content"]["certificates"]


def test_serials_are_unique_and_increasing(authority: TimeStampAuthority) -> None:
    serials = CountingSerialSource(1000)
    seen = [
        tst_info_of(granted_token(authority.respond(make_request(nonce=i), serials)))[
            "serial_number"
        ].native
        for i in range(300)
    ]
    assert seen == sorted(set(seen))
    assert seen == list(range(1000, 1300))


def test_rejections_do_not_consume_serials(authority: TimeStampAuthority) -> None:
    serials = CountingSerialSource()
    authority.respond(b"junk", serials)
    authority.respond(make_request(algorithm="sha1", digest=b"\x00" * 20), serials)
    token = granted_token(authority.respond(make_request(), serials))
    assert tst_info_of(token)["serial_number"].native == 1


def test_gen_time_follows_the_clock(authority: TimeStampAuthority, clock: FrozenClock) -> None:
    clock.advance(timedelta(seconds=90, microseconds=4500))
    token = granted_token(authority.respond(make_request(), CountingSerialSource()))
    expected = FROZEN_AT + timedelta(seconds=90, microseconds=4500)
    assert tst_info_of(token)["gen_time"].native == expected.replace(
        microsecond=expected.microsecond // 1000 * 1000
    )


@pytest.mark.parametrize(
    ("request_kwargs", "failure"),
    [
        ({"algorithm": "sha1", "digest": b"\x01" * 20}, "bad_alg"),
        ({"algorithm": "md5", "digest": b"\x01" * 16}, "bad_alg"),
        ({"algorithm": "1.2.3.4.5.6", "digest": b"\x01" * 32}, "bad_alg"),
        ({"algorithm": "sha3_256", "digest": b"\x01" * 32}, "bad_alg"),
        ({"digest": b"\x01" * 31}, "bad_data_format"),
        ({"digest": b""}, "bad_data_format"),
        ({"algorithm": "sha384", "digest": b"\x01" * 32}, "bad_data_format"),
        ({"algorithm": "sha512", "digest": b"\x01" * 65}, "bad_data_format"),
        ({"version": 2}, "bad_data_format"),
        ({"policy": "1.2.3.4"}, "unaccepted_policy"),
        (
            {"extensions": [{"extn_id": "1.2.3.4", "critical": False, "extn_value": b"\x05\x00"}]},
            "unaccepted_extensions",
        ),
    ],
)
def test_request_rejections(
    authority: TimeStampAuthority, request_kwargs: dict[str, Any], failure: str
) -> None:
    assert failure_of(
        authority.respond(make_request(**request_kwargs), CountingSerialSource())
    ) == {failure}


def test_non_null_hash_parameters_are_rejected(authority: TimeStampAuthority) -> None:
    """RFC 5754 allows only absent or NULL parameters for SHA-2, so the identifier is
    malformed rather than an unknown algorithm."""
    # asn1crypto insists on NULL for SHA-2, so assemble the identifier from its fields.
    with_integer = algos.DigestAlgorithm(
        contents=core.ObjectIdentifier("2.16.840.1.101.3.4.2.1").dump() + core.Integer(5).dump()
    )
    request = tsp.TimeStampReq(
        {
            "version": 1,
            "message_imprint": {"hash_algorithm": with_integer, "hashed_message": DIGEST},
        }
    ).dump()
    assert failure_of(authority.respond(request, CountingSerialSource())) == {"bad_data_format"}


def test_explicit_null_parameters_are_accepted(authority: TimeStampAuthority) -> None:
    granted_token(authority.respond(make_request(parameters=core.Null()), CountingSerialSource()))


def test_absent_parameters_are_accepted(authority: TimeStampAuthority) -> None:
    imprint_algorithm = algos.DigestAlgorithm({"algorithm": "sha256"})
    # asn1crypto adds NULL for SHA-2 by default; strip it to send absent parameters.
    request = tsp.TimeStampReq(
        {
            "version": 1,
            "message_imprint": {
                "hash_algorithm": algos.DigestAlgorithm(
                    contents=imprint_algorithm["algorithm"].dump()
                ),
                "hashed_message": DIGEST,
            },
        }
    ).dump()
    assert b"\x05\x00" not in request
    granted_token(authority.respond(request, CountingSerialSource()))


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"\x00",
        b"\x30",
        b"\x30\x80",
        b"\x30\x84\xff\xff\xff\xff",
        b"\xff" * 100,
        make_request()[:-1],
        make_request() + b"\x00",
        bytes(core.Integer(1).dump()),
        bytes(cms.ContentInfo({"content_type": "data", "content": b"x"}).dump()),
        b"\x30" + b"\x82\xff\xff" + b"\x00" * 10,
    ],
)
def test_undecodable_requests_are_bad_data_format(
    authority: TimeStampAuthority, payload: bytes
) -> None:
    assert failure_of(authority.respond(payload, CountingSerialSource())) == {"bad_data_format"}


def test_oversized_request_is_refused_before_parsing(authority: TimeStampAuthority) -> None:
    padded = make_request() + b"\x00" * MAX_REQUEST_SIZE
    assert failure_of(authority.respond(padded, CountingSerialSource())) == {"bad_data_format"}


def test_deeply_nested_input_is_rejected(authority: TimeStampAuthority) -> None:
    nested = b""
    for _ in range(5000):
        nested = bytes(core.Sequence(contents=nested).dump())
        if len(nested) > MAX_REQUEST_SIZE - 16:
            break
    assert failure_of(authority.respond(nested, CountingSerialSource())) == {"bad_data_format"}


def test_failing_signer_yields_system_failure(signer: TokenSigner) -> None:
    authority = TimeStampAuthority(
        FailingTokenSigner(signer), policy_oid=POLICY, accuracy_ms=1, clock=FrozenClock()
    )
    assert failure_of(authority.respond(make_request(), CountingSerialSource())) == {
        "system_failure"
    }
    with pytest.raises(TokenSigningError) as caught:
        authority.issue(digest=DIGEST, serial=1)
    assert isinstance(caught.value, TimestampingError)


def test_failing_serial_source_yields_system_failure(authority: TimeStampAuthority) -> None:
    class BrokenSerials:
        def next_serial(self) -> int:
            raise ConnectionError("database unavailable")

    assert failure_of(authority.respond(make_request(), BrokenSerials())) == {"system_failure"}


# -- issue() validation --------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["sha1", "md5", "SHA256", "sha3_256", ""])
def test_issue_rejects_unsupported_hash(authority: TimeStampAuthority, algorithm: str) -> None:
    with pytest.raises(UnsupportedHashAlgorithmError) as caught:
        authority.issue(digest=DIGEST, hash_algorithm=algorithm, serial=1)
    assert isinstance(caught.value, ValidationError)
    assert caught.value.failure_info == "bad_alg"


@pytest.mark.parametrize(
    ("algorithm", "length"), [("sha256", 31), ("sha256", 48), ("sha384", 32), ("sha512", 0)]
)
def test_issue_rejects_wrong_digest_length(
    authority: TimeStampAuthority, algorithm: str, length: int
) -> None:
    with pytest.raises(MalformedTimestampRequestError):
        authority.issue(digest=b"\x00" * length, hash_algorithm=algorithm, serial=1)


@pytest.mark.parametrize("serial", [0, -1, 2**160])
def test_issue_rejects_out_of_range_serials(authority: TimeStampAuthority, serial: int) -> None:
    with pytest.raises(TsaConfigurationError):
        authority.issue(digest=DIGEST, serial=serial)


def test_large_serial_is_accepted(authority: TimeStampAuthority) -> None:
    issued = authority.issue(digest=DIGEST, serial=2**160 - 1)
    assert tst_info_of(cms.ContentInfo.load(issued.der))["serial_number"].native == 2**160 - 1


def test_naive_clock_is_a_configuration_error(signer: TokenSigner) -> None:
    class NaiveClock:
        def now(self) -> datetime:
            return datetime(2030, 1, 1)

    authority = TimeStampAuthority(signer, policy_oid=POLICY, accuracy_ms=1, clock=NaiveClock())
    with pytest.raises(TsaConfigurationError):
        authority.issue(digest=DIGEST, serial=1)


def test_invalid_configuration(signer: TokenSigner) -> None:
    with pytest.raises(TsaConfigurationError):
        TimeStampAuthority(signer, policy_oid=POLICY, accuracy_ms=-1, clock=FrozenClock())
    with pytest.raises(TsaConfigurationError):
        TimeStampAuthority(signer, policy_oid="not an oid", accuracy_ms=1, clock=FrozenClock())


def test_certificate_without_chain(signer: TokenSigner) -> None:
    class LeafOnly:
        certificate: x509.Certificate = signer.certificate
        chain: tuple[x509.Certificate, ...] = ()

        def sign(self, data: bytes) -> bytes:
            return signer.sign(data)

    authority = TimeStampAuthority(
        LeafOnly(), policy_oid=POLICY, accuracy_ms=1, clock=FrozenClock()
    )
    token = cms.ContentInfo.load(authority.issue(digest=DIGEST, serial=1).der)
    assert len(token["content"]["certificates"]) == 1
