from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from asn1crypto import cms
from cryptography import x509

from notarium.core.errors import ProofVerificationError, ValidationError
from notarium.core.hashing import sha256_bytes
from notarium.formats.bundle import build_bundle
from notarium.formats.canonical import canonical_json
from notarium.formats.errors import (
    ChainValidationError,
    HashMismatchError,
    MalformedProofError,
    RecordSignatureError,
    TokenBindingError,
    TokenSignatureError,
    TsaCertificateError,
    UnsupportedProofFormatError,
    UntrustedServiceKeyError,
)
from notarium.formats.signing import Ed25519RecordSigner
from notarium.verify.bundle import VerifiedRecord, load_bundle, verify_bundle

from .conftest import DOCUMENT, Good, facts_for
from .tokenfactory import (
    POLICY_OID,
    POLICY_OID_DER,
    Issued,
    OpenSSLTsa,
    flip_byte,
    make_ca,
    make_tsa,
    resign_token,
)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def resign_record(bundle: dict[str, Any], signer: Ed25519RecordSigner) -> None:
    """What a service holding ``signer`` could do after editing the record."""
    bundle["signature"]["value"] = b64(signer.sign(canonical_json(bundle["record"])))
    bundle["signature"]["public_key"] = b64(signer.public_key_raw)
    bundle["signature"]["key_id"] = signer.key_id
    bundle["signature"]["key_name"] = signer.name


def rebind_token(bundle: dict[str, Any], token: bytes, signer: Ed25519RecordSigner) -> None:
    """Swap in another token and re-sign, so only the token's own checks can object."""
    bundle["rfc3161"]["token"] = b64(token)
    bundle["record"]["tsa_token_sha256"] = sha256_bytes(token)
    resign_record(bundle, signer)


# --- the good path ----------------------------------------------------------------


def test_good_bundle_verifies(
    good: Good, ca: Issued, tsa: Issued, signer: Ed25519RecordSigner
) -> None:
    report = verify_bundle(
        good.bundle,
        sha256=good.sha256.upper(),
        trust_roots=[ca.cert],
        service_public_keys=[signer.public_key_raw],
    )
    assert report.ok
    assert report.file_hash_checked and report.service_key_pinned
    assert report.record_signature_valid and report.token_valid and report.chain_valid
    assert not report.anchored and not report.log_included
    assert report.sha256 == good.sha256
    assert report.record_id == "rec_01J9Z8Q4W6V3"
    assert report.policy == POLICY_OID
    assert report.tsa_subject == tsa.cert.subject.rfc4514_string()
    assert report.chain_subjects == (
        tsa.cert.subject.rfc4514_string(),
        ca.cert.subject.rfc4514_string(),
    )
    assert report.serial >= 1
    assert abs(report.gen_time - datetime.now(UTC)) < timedelta(hours=1)
    assert report.service_key_id == signer.key_id
    statuses = {c.name: (c.status, c.detail) for c in report.checks}
    assert [c.name for c in report.checks] == [
        "format", "structure", "file_hash", "record_signature", "service_key",
        "token_binding", "token_signature", "tsa_certificate", "chain",
        "merkle", "anchors", "log",
    ]  # fmt: skip
    for name in ("merkle", "anchors", "log"):
        assert statuses[name] == ("absent", "not yet anchored")


def test_bundle_survives_json_round_trip(good: Good, ca: Issued) -> None:
    reloaded = json.loads(json.dumps(good.bundle, indent=2))
    verify_bundle(reloaded, sha256=good.sha256, trust_roots=[ca.cert])


def test_without_file_hash_or_pinned_keys_checks_are_reported_skipped(
    good: Good, ca: Issued
) -> None:
    report = verify_bundle(good.bundle, trust_roots=[ca.cert])
    statuses = {c.name: c.status for c in report.checks}
    assert statuses["file_hash"] == "skipped"
    assert statuses["service_key"] == "skipped"
    assert not report.file_hash_checked and not report.service_key_pinned


def test_unknown_top_level_keys_are_ignored(good: Good, ca: Issued) -> None:
    good.bundle["x-future-extension"] = {"anything": [1, 2, 3]}
    verify_bundle(good.bundle, trust_roots=[ca.cert])


def test_signer_certificate_may_come_from_the_bundle_chain_only(
    openssl_tsa: OpenSSLTsa, ca: Issued, signer: Ed25519RecordSigner
) -> None:
    token = openssl_tsa.issue(DOCUMENT, include_certs=False)
    signed_data = cms.ContentInfo.load(token)["content"]
    assert signed_data["certificates"].native is None
    bundle = build_bundle(
        facts_for(DOCUMENT), token_der=token, tsa_chain_pem=openssl_tsa.chain_pem, signer=signer
    )
    verify_bundle(bundle, trust_roots=[ca.cert])


def test_missing_signer_certificate_is_reported(
    openssl_tsa: OpenSSLTsa, ca: Issued, signer: Ed25519RecordSigner
) -> None:
    token = openssl_tsa.issue(DOCUMENT, include_certs=False)
    bundle = build_bundle(
        facts_for(DOCUMENT), token_der=token, tsa_chain_pem=openssl_tsa.ca.pem, signer=signer
    )
    with pytest.raises(TokenSignatureError, match="neither embedded in the token nor present"):
        verify_bundle(bundle, trust_roots=[ca.cert])


# --- format ------------------------------------------------------------------------


def test_unknown_version_is_rejected(good: Good, ca: Issued) -> None:
    good.bundle["version"] = 2
    with pytest.raises(UnsupportedProofFormatError, match="unsupported proof version 2"):
        verify_bundle(good.bundle, trust_roots=[ca.cert])


@pytest.mark.parametrize("version", ["1", True, 1.0, None])
def test_non_integer_version_is_rejected(good: Good, ca: Issued, version: object) -> None:
    good.bundle["version"] = version
    with pytest.raises(UnsupportedProofFormatError, match="must be an integer"):
        verify_bundle(good.bundle, trust_roots=[ca.cert])


def test_unknown_format_is_rejected(good: Good, ca: Issued) -> None:
    good.bundle["format"] = "someone-elses-proof"
    with pytest.raises(UnsupportedProofFormatError, match="not a notarium proof"):
        verify_bundle(good.bundle, trust_roots=[ca.cert])


def test_extra_record_field_is_rejected(
    good: Good, ca: Issued, signer: Ed25519RecordSigner
) -> None:
    good.bundle["record"]["owner"] = "mallory"
    resign_record(good.bundle, signer)
    with pytest.raises(MalformedProofError, match="does not define: owner"):
        verify_bundle(good.bundle, trust_roots=[ca.cert])


def test_missing_section_is_rejected(good: Good, ca: Issued) -> None:
    del good.bundle["signature"]
    with pytest.raises(MalformedProofError, match="no 'signature' section"):
        verify_bundle(good.bundle, trust_roots=[ca.cert])


def test_hash_section_must_agree_with_record(good: Good, ca: Issued) -> None:
    good.bundle["hash"]["value"] = "0" * 64
    with pytest.raises(MalformedProofError, match=r"hash.value differs from record.sha256"):
        verify_bundle(good.bundle, trust_roots=[ca.cert])


def test_non_canonical_base64_is_rejected(good: Good, ca: Issued) -> None:
    good.bundle["rfc3161"]["token"] = good.bundle["rfc3161"]["token"].rstrip("=") + "\n"
    with pytest.raises(MalformedProofError, match=r"rfc3161.token"):
        verify_bundle(good.bundle, trust_roots=[ca.cert])


# --- the user's file ---------------------------------------------------------------


def test_wrong_file_is_rejected(good: Good, ca: Issued) -> None:
    other = sha256_bytes(b"a different document")
    with pytest.raises(HashMismatchError, match="this proof is for a different file"):
        verify_bundle(good.bundle, sha256=other, trust_roots=[ca.cert])


def test_malformed_file_hash_is_a_validation_error(good: Good, ca: Issued) -> None:
    with pytest.raises(ValidationError) as info:
        verify_bundle(good.bundle, sha256="not-a-hash", trust_roots=[ca.cert])
    assert info.value.code == "INVALID_SHA256_HASH"


# --- the record signature ----------------------------------------------------------


def test_changed_record_hash_breaks_the_record_signature(good: Good, ca: Issued) -> None:
    forged = sha256_bytes(b"forged")
    good.bundle["record"]["sha256"] = forged
    good.bundle["hash"]["value"] = forged
    with pytest.raises(RecordSignatureError, match="record was altered or signed by another key"):
        verify_bundle(good.bundle, sha256=forged, trust_roots=[ca.cert])


def test_changed_record_resigned_by_another_key_is_untrusted(
    good: Good, ca: Issued, signer: Ed25519RecordSigner, other_signer: Ed25519RecordSigner
) -> None:
    forged = sha256_bytes(b"forged")
    good.bundle["record"]["sha256"] = forged
    good.bundle["hash"]["value"] = forged
    resign_record(good.bundle, other_signer)
    with pytest.raises(UntrustedServiceKeyError, match="not one of the service public keys"):
        verify_bundle(
            good.bundle, trust_roots=[ca.cert], service_public_keys=[signer.public_key_raw]
        )


def test_changed_record_resigned_by_the_service_fails_on_the_token_imprint(
    good: Good, ca: Issued, signer: Ed25519RecordSigner
) -> None:
    forged = sha256_bytes(b"forged")
    good.bundle["record"]["sha256"] = forged
    good.bundle["hash"]["value"] = forged
    resign_record(good.bundle, signer)
    with pytest.raises(TokenBindingError, match=f"not the record's hash {forged}"):
        verify_bundle(
            good.bundle, trust_roots=[ca.cert], service_public_keys=[signer.public_key_raw]
        )


def test_signature_by_a_different_key_than_the_one_shown_is_rejected(
    good: Good, ca: Issued, other_signer: Ed25519RecordSigner
) -> None:
    good.bundle["signature"]["value"] = b64(
        other_signer.sign(canonical_json(good.bundle["record"]))
    )
    with pytest.raises(RecordSignatureError, match="does not verify"):
        verify_bundle(good.bundle, trust_roots=[ca.cert])


def test_public_key_swapped_with_consistent_key_id_is_rejected(
    good: Good, ca: Issued, other_signer: Ed25519RecordSigner
) -> None:
    good.bundle["signature"]["public_key"] = b64(other_signer.public_key_raw)
    good.bundle["signature"]["key_id"] = other_signer.key_id
    with pytest.raises(RecordSignatureError, match="does not verify"):
        verify_bundle(good.bundle, trust_roots=[ca.cert])


def test_key_id_must_match_name_and_key(good: Good, ca: Issued) -> None:
    good.bundle["signature"]["key_id"] = "00000000"
    with pytest.raises(RecordSignatureError, match="is not the key id"):
        verify_bundle(good.bundle, trust_roots=[ca.cert])


def test_unpinned_service_key_is_rejected_when_keys_are_given(
    good: Good, ca: Issued, other_signer: Ed25519RecordSigner
) -> None:
    with pytest.raises(UntrustedServiceKeyError, match="not one of the service public keys"):
        verify_bundle(
            good.bundle, trust_roots=[ca.cert], service_public_keys=[other_signer.public_key_raw]
        )


# --- the token ---------------------------------------------------------------------


def test_flipped_token_byte_breaks_the_token_binding(good: Good, ca: Issued) -> None:
    good.bundle["rfc3161"]["token"] = b64(flip_byte(good.token, len(good.token) // 2))
    with pytest.raises(TokenBindingError, match=r"differs from record.tsa_token_sha256"):
        verify_bundle(good.bundle, trust_roots=[ca.cert])


def test_token_for_another_file_is_rejected(
    good: Good, ca: Issued, openssl_tsa: OpenSSLTsa, signer: Ed25519RecordSigner
) -> None:
    rebind_token(good.bundle, openssl_tsa.issue(b"some other file"), signer)
    with pytest.raises(TokenBindingError, match="time-stamp token stamps"):
        verify_bundle(good.bundle, trust_roots=[ca.cert])


def test_altered_tstinfo_breaks_the_message_digest(
    good: Good, ca: Issued, signer: Ed25519RecordSigner
) -> None:
    assert good.token.count(POLICY_OID_DER) == 1
    offset = good.token.index(POLICY_OID_DER) + len(POLICY_OID_DER) - 1
    rebind_token(good.bundle, flip_byte(good.token, offset), signer)
    with pytest.raises(TokenSignatureError, match="messageDigest attribute does not match"):
        verify_bundle(good.bundle, trust_roots=[ca.cert])


def test_altered_cms_signature_is_rejected(
    good: Good, ca: Issued, signer: Ed25519RecordSigner
) -> None:
    signer_info = cms.ContentInfo.load(good.token)["content"]["signer_infos"][0]
    signature = signer_info["signature"].native
    offset = good.token.index(signature) + 10
    rebind_token(good.bundle, flip_byte(good.token, offset), signer)
    with pytest.raises(TokenSignatureError, match="CMS signature of the time-stamp token does not"):
        verify_bundle(good.bundle, trust_roots=[ca.cert])


def test_token_resigned_by_our_factory_verifies(
    good: Good, ca: Issued, tsa: Issued, signer: Ed25519RecordSigner
) -> None:
    # Guards the helper the following tests rely on: a faithful re-signing passes.
    token = resign_token(good.token, key=tsa.key, signer_cert=tsa.cert, certificates=[tsa.cert])
    rebind_token(good.bundle, token, signer)
    verify_bundle(good.bundle, trust_roots=[ca.cert])


def test_signing_certificate_v2_must_name_the_signer(
    good: Good, ca: Issued, tsa: Issued, signer: Ed25519RecordSigner
) -> None:
    token = resign_token(
        good.token, key=tsa.key, signer_cert=tsa.cert, certificates=[tsa.cert], ess_cert=ca.cert
    )
    rebind_token(good.bundle, token, signer)
    with pytest.raises(TokenSignatureError, match="ESSCertIDv2 hash does not match"):
        verify_bundle(good.bundle, trust_roots=[ca.cert])


def test_signature_by_another_key_than_the_certificate_is_rejected(
    good: Good, ca: Issued, tsa: Issued, signer: Ed25519RecordSigner
) -> None:
    impostor = make_tsa(ca)
    token = resign_token(
        good.token, key=impostor.key, signer_cert=tsa.cert, certificates=[tsa.cert]
    )
    rebind_token(good.bundle, token, signer)
    with pytest.raises(TokenSignatureError, match="does not verify with the TSA certificate"):
        verify_bundle(good.bundle, trust_roots=[ca.cert])


# --- the TSA certificate -----------------------------------------------------------


def test_non_critical_eku_is_rejected(
    good: Good, ca: Issued, tsa: Issued, signer: Ed25519RecordSigner
) -> None:
    # OpenSSL refuses to sign with such a certificate, so re-sign its token instead.
    lax = make_tsa(ca, eku_critical=False, key=tsa.key)
    token = resign_token(good.token, key=tsa.key, signer_cert=lax.cert, certificates=[lax.cert])
    rebind_token(good.bundle, token, signer)
    with pytest.raises(TsaCertificateError, match="extended key usage extension must be critical"):
        verify_bundle(good.bundle, trust_roots=[ca.cert])


def test_certificate_without_eku_is_rejected(
    good: Good, ca: Issued, tsa: Issued, signer: Ed25519RecordSigner
) -> None:
    from cryptography.hazmat.primitives import hashes

    bare = (
        x509.CertificateBuilder()
        .subject_name(tsa.cert.subject)
        .issuer_name(ca.cert.subject)
        .public_key(tsa.key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(tsa.cert.not_valid_before_utc)
        .not_valid_after(tsa.cert.not_valid_after_utc)
        .sign(ca.key, hashes.SHA384())
    )
    token = resign_token(good.token, key=tsa.key, signer_cert=bare, certificates=[bare])
    rebind_token(good.bundle, token, signer)
    with pytest.raises(TsaCertificateError, match="no extended key usage"):
        verify_bundle(good.bundle, trust_roots=[ca.cert])


# --- the chain ---------------------------------------------------------------------


def test_wrong_trust_root_with_the_same_name_is_rejected(good: Good) -> None:
    lookalike = make_ca()
    with pytest.raises(ChainValidationError, match="does not verify with the key"):
        verify_bundle(good.bundle, trust_roots=[lookalike.cert])


def test_unrelated_trust_root_is_rejected(good: Good) -> None:
    unrelated = make_ca("Somebody Else's Root")
    with pytest.raises(ChainValidationError, match="not one of the trust roots"):
        verify_bundle(good.bundle, trust_roots=[unrelated.cert])


def test_no_trust_roots_is_rejected(good: Good) -> None:
    with pytest.raises(ChainValidationError, match="no trust roots"):
        verify_bundle(good.bundle, trust_roots=[])


def test_ca_expired_at_gen_time_is_rejected(
    make_openssl_tsa: Any, signer: Ed25519RecordSigner
) -> None:
    ca = make_ca(
        not_before=datetime(2019, 1, 1, tzinfo=UTC), not_after=datetime(2020, 1, 1, tzinfo=UTC)
    )
    tsa = make_tsa(ca)
    authority = make_openssl_tsa(ca, tsa)
    bundle = build_bundle(
        facts_for(DOCUMENT),
        token_der=authority.issue(DOCUMENT),
        tsa_chain_pem=authority.chain_pem,
        signer=signer,
    )
    with pytest.raises(
        ChainValidationError,
        match=r"'CN=Notarium Test Root CA,O=Notarium Tests' is not valid at the token's genTime",
    ):
        verify_bundle(bundle, trust_roots=[ca.cert])


def test_tsa_certificate_not_yet_valid_at_gen_time_is_rejected(
    make_openssl_tsa: Any, ca: Issued, signer: Ed25519RecordSigner
) -> None:
    future = datetime.now(UTC) + timedelta(days=30)
    tsa = make_tsa(ca, not_before=future, not_after=future + timedelta(days=30))
    authority = make_openssl_tsa(ca, tsa)
    bundle = build_bundle(
        facts_for(DOCUMENT),
        token_der=authority.issue(DOCUMENT),
        tsa_chain_pem=authority.chain_pem,
        signer=signer,
    )
    with pytest.raises(
        ChainValidationError, match=r"Test TSA.*is not valid at the token's genTime"
    ):
        verify_bundle(bundle, trust_roots=[ca.cert])


def test_validity_is_judged_at_gen_time_not_now(
    make_openssl_tsa: Any, signer: Ed25519RecordSigner
) -> None:
    # A hierarchy that expired years ago still backs the tokens it issued back then.
    start, end = datetime(2019, 1, 1, tzinfo=UTC), datetime(2021, 1, 1, tzinfo=UTC)
    ca = make_ca(not_before=start, not_after=end)
    tsa = make_tsa(ca, not_before=start, not_after=end)
    authority = make_openssl_tsa(ca, tsa)
    then = datetime(2020, 6, 1, 12, 0, 0, tzinfo=UTC)
    token = resign_token(
        authority.issue(DOCUMENT),
        key=tsa.key,
        signer_cert=tsa.cert,
        certificates=[tsa.cert],
        gen_time=then,
    )
    bundle = build_bundle(
        facts_for(DOCUMENT), token_der=token, tsa_chain_pem=authority.chain_pem, signer=signer
    )
    report = verify_bundle(bundle, sha256=sha256_bytes(DOCUMENT), trust_roots=[ca.cert])
    assert report.gen_time == then


# --- reserved sections -------------------------------------------------------------


def test_present_section_without_a_verifier_is_reported_unchecked(good: Good, ca: Issued) -> None:
    good.bundle["merkle"] = {"root": "00" * 32, "path": []}
    report = verify_bundle(good.bundle, trust_roots=[ca.cert])
    statuses = {c.name: c.status for c in report.checks}
    assert statuses["merkle"] == "skipped"
    assert not report.anchored


def test_section_verifiers_are_called_with_the_verified_record(good: Good, ca: Issued) -> None:
    seen: list[tuple[str, Any, VerifiedRecord]] = []

    def make(name: str) -> Any:
        def verifier(section: Any, verified: VerifiedRecord, bundle: Any) -> str:
            seen.append((name, section, verified))
            return f"{name} ok"

        return verifier

    good.bundle["merkle"] = {"root": "ab" * 32}
    good.bundle["anchors"] = [{"type": "opentimestamps"}]
    good.bundle["log"] = {"index": 7}
    report = verify_bundle(
        good.bundle,
        trust_roots=[ca.cert],
        section_verifiers={n: make(n) for n in ("merkle", "anchors", "log")},
    )
    assert report.anchored and report.log_included
    assert [name for name, _, _ in seen] == ["merkle", "anchors", "log"]
    verified = seen[0][2]
    assert verified.record_canonical == canonical_json(good.bundle["record"])
    assert verified.token_der == good.token


def test_section_verifier_failures_propagate(good: Good, ca: Issued) -> None:
    def failing(section: Any, verified: VerifiedRecord, bundle: Any) -> str:
        raise ProofVerificationError("merkle root does not match")

    good.bundle["merkle"] = {"root": "ab" * 32}
    with pytest.raises(ProofVerificationError, match="merkle root does not match"):
        verify_bundle(good.bundle, trust_roots=[ca.cert], section_verifiers={"merkle": failing})


# --- loading -----------------------------------------------------------------------


def test_load_bundle_round_trips(good: Good, ca: Issued) -> None:
    loaded = load_bundle(json.dumps(good.bundle).encode())
    assert loaded == good.bundle
    verify_bundle(loaded, trust_roots=[ca.cert])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"format": "a", "format": "b"}', "repeats the key 'format'"),
        ('{"record": {"sha256": "a", "sha256": "b"}}', "repeats the key 'sha256'"),
        ('{"x": NaN}', "contains NaN"),
        ("[1, 2]", "must be a JSON object"),
        ("{", "not valid UTF-8 JSON"),
        (b"\xff\xfe{}", "not valid UTF-8 JSON"),
    ],
)
def test_load_bundle_is_strict(text: str | bytes, message: str) -> None:
    with pytest.raises(MalformedProofError, match=message):
        load_bundle(text)
