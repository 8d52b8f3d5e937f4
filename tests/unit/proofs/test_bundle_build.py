from __future__ import annotations

import base64
import dataclasses
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from cryptography import x509

from notarium.core.errors import ValidationError
from notarium.core.hashing import sha256_bytes
from notarium.formats.bundle import RecordFacts, build_bundle, format_created_at
from notarium.formats.canonical import canonical_json
from notarium.formats.errors import BundleBuildError, CanonicalizationError
from notarium.formats.signing import Ed25519RecordSigner, verify_ed25519

from .conftest import DOCUMENT, facts_for
from .tokenfactory import OpenSSLTsa


def test_bundle_layout(
    good_token: bytes, openssl_tsa: OpenSSLTsa, signer: Ed25519RecordSigner
) -> None:
    facts = facts_for(DOCUMENT)
    bundle = build_bundle(
        facts, token_der=good_token, tsa_chain_pem=openssl_tsa.chain_pem, signer=signer
    )
    assert list(bundle) == [
        "format", "version", "record", "hash", "rfc3161", "signature",
        "merkle", "anchors", "log", "seal",
    ]  # fmt: skip
    assert bundle["format"] == "notarium-proof"
    assert bundle["version"] == 1
    assert bundle["record"] == {
        **dataclasses.asdict(facts),
        "tsa_token_sha256": sha256_bytes(good_token),
    }
    assert bundle["hash"] == {"algorithm": "sha256", "value": facts.sha256}
    assert base64.b64decode(bundle["rfc3161"]["token"]) == good_token
    chain = [x509.load_pem_x509_certificate(p.encode()) for p in bundle["rfc3161"]["chain"]]
    assert chain == [openssl_tsa.tsa.cert, openssl_tsa.ca.cert]
    sig = bundle["signature"]
    assert sig["algorithm"] == "ed25519"
    assert sig["signed"] == "record"
    assert sig["key_name"] == signer.name
    assert sig["key_id"] == signer.key_id
    assert base64.b64decode(sig["public_key"]) == signer.public_key_raw
    assert verify_ed25519(
        signer.public_key_raw,
        base64.b64decode(sig["value"]),
        canonical_json(bundle["record"]),
    )
    assert bundle["merkle"] is None and bundle["anchors"] == [] and bundle["log"] is None
    unsealed = {key: value for key, value in bundle.items() if key != "seal"}
    assert bundle["seal"]["algorithm"] == "ed25519"
    assert verify_ed25519(
        signer.public_key_raw, base64.b64decode(bundle["seal"]["value"]), canonical_json(unsealed)
    )


def test_reserved_sections_are_passed_through(
    good_token: bytes, openssl_tsa: OpenSSLTsa, signer: Ed25519RecordSigner
) -> None:
    merkle = {"root": "ab" * 32, "path": []}
    anchors: list[dict[str, Any]] = [{"type": "opentimestamps"}]
    log = {"index": 3}
    bundle = build_bundle(
        facts_for(DOCUMENT),
        token_der=good_token,
        tsa_chain_pem=openssl_tsa.chain_pem,
        signer=signer,
        merkle=merkle,
        anchors=anchors,
        log=log,
    )
    assert (bundle["merkle"], bundle["anchors"], bundle["log"]) == (merkle, anchors, log)


def test_reserved_sections_must_be_canonicalisable(
    good_token: bytes, openssl_tsa: OpenSSLTsa, signer: Ed25519RecordSigner
) -> None:
    with pytest.raises(CanonicalizationError, match=r"float at \$\.merkle\.height"):
        build_bundle(
            facts_for(DOCUMENT),
            token_der=good_token,
            tsa_chain_pem=openssl_tsa.chain_pem,
            signer=signer,
            merkle={"height": 1.5},
        )


def test_token_for_another_hash_is_refused(
    good_token: bytes, openssl_tsa: OpenSSLTsa, signer: Ed25519RecordSigner
) -> None:
    with pytest.raises(BundleBuildError, match="does not stamp the record's SHA-256"):
        build_bundle(
            facts_for(b"another document"),
            token_der=good_token,
            tsa_chain_pem=openssl_tsa.chain_pem,
            signer=signer,
        )


def test_garbage_token_is_refused(openssl_tsa: OpenSSLTsa, signer: Ed25519RecordSigner) -> None:
    with pytest.raises(BundleBuildError, match="token_der"):
        build_bundle(
            facts_for(DOCUMENT),
            token_der=b"\x30\x03\x02\x01\x01",
            tsa_chain_pem=openssl_tsa.chain_pem,
            signer=signer,
        )


@pytest.mark.parametrize("chain", [b"", b"not pem at all"])
def test_chain_must_hold_certificates(
    good_token: bytes, signer: Ed25519RecordSigner, chain: bytes
) -> None:
    with pytest.raises(BundleBuildError, match="TSA chain"):
        build_bundle(facts_for(DOCUMENT), token_der=good_token, tsa_chain_pem=chain, signer=signer)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sha256": "AB" * 32}, "64 lowercase hex"),
        ({"sha256": "ab" * 31}, "64 lowercase hex"),
        ({"file_size_bytes": -1}, "file_size_bytes"),
        ({"file_size_bytes": True}, "file_size_bytes"),
        ({"file_size_bytes": 2**53}, "file_size_bytes"),
        ({"id": ""}, "id must be a non-empty string"),
        ({"certificate_id": ""}, "certificate_id must be a non-empty string"),
        ({"created_at": "2026-03-14T15:09:26Z"}, "created_at"),
        ({"created_at": "2026-03-14T15:09:26.535+00:00"}, "created_at"),
        ({"created_at": "2026-02-30T15:09:26.535Z"}, "created_at"),
        ({"file_type": 3}, "file_type"),
    ],
)
def test_record_facts_are_validated(change: dict[str, Any], message: str) -> None:
    base = dataclasses.asdict(facts_for(DOCUMENT))
    with pytest.raises(ValidationError, match=message):
        RecordFacts(**{**base, **change})


def test_format_created_at() -> None:
    instant = datetime(2026, 3, 14, 16, 9, 26, 535897, tzinfo=timezone(timedelta(hours=1)))
    assert format_created_at(instant) == "2026-03-14T15:09:26.535Z"
    assert format_created_at(datetime(2026, 1, 1, tzinfo=UTC)) == "2026-01-01T00:00:00.000Z"
    with pytest.raises(ValidationError, match="timezone-aware"):
        format_created_at(datetime(2026, 1, 1))
