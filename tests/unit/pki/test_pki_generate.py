"""Certificate profiles of the private CA and the TSA leaf."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from notarium.adapters.pki.generate import (
    CertifiedKey,
    build_tsa_certificate,
    generate_ca,
    generate_tsa,
    new_signing_key,
    new_tsa_key,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def ca() -> CertifiedKey:
    return generate_ca(now=NOW, organisation="Example Org")


@pytest.fixture(scope="module")
def tsa(ca: CertifiedKey) -> CertifiedKey:
    return generate_tsa(ca, now=NOW, organisation="Example Org")


def _key_usage_flags(usage: x509.KeyUsage) -> set[str]:
    names = (
        "digital_signature",
        "content_commitment",
        "key_encipherment",
        "data_encipherment",
        "key_agreement",
        "key_cert_sign",
        "crl_sign",
    )
    return {name for name in names if getattr(usage, name)}


def test_ca_profile(ca: CertifiedKey) -> None:
    certificate = ca.certificate
    assert isinstance(ca.private_key.curve, ec.SECP384R1)
    public_key = certificate.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    assert isinstance(public_key.curve, ec.SECP384R1)
    assert certificate.subject == certificate.issuer
    assert certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == (
        "Example Org"
    )
    certificate.verify_directly_issued_by(certificate)
    assert isinstance(certificate.signature_hash_algorithm, hashes.SHA384)

    basic = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    assert basic.critical and basic.value.ca
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical
    assert _key_usage_flags(usage.value) == {"key_cert_sign", "crl_sign"}
    ski = certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    aki = certificate.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    assert aki.value.key_identifier == ski.value.digest
    lifetime = certificate.not_valid_after_utc - certificate.not_valid_before_utc
    assert timedelta(days=20 * 365) <= lifetime <= timedelta(days=20 * 366)
    assert certificate.not_valid_before_utc <= NOW


def test_tsa_profile(ca: CertifiedKey, tsa: CertifiedKey) -> None:
    certificate = tsa.certificate
    public_key = certificate.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    assert isinstance(public_key.curve, ec.SECP256R1)
    assert public_key == tsa.private_key.public_key()
    assert certificate.issuer == ca.certificate.subject
    certificate.verify_directly_issued_by(ca.certificate)
    assert isinstance(certificate.signature_hash_algorithm, hashes.SHA384)

    eku = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert eku.critical
    assert list(eku.value) == [ExtendedKeyUsageOID.TIME_STAMPING]
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical
    assert _key_usage_flags(usage.value) == {"digital_signature", "content_commitment"}
    basic = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    assert basic.value.ca is False

    ski = certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    assert ski.value == x509.SubjectKeyIdentifier.from_public_key(public_key)
    aki = certificate.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    ca_ski = ca.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    assert aki.value.key_identifier == ca_ski.value.digest

    lifetime = certificate.not_valid_after_utc - certificate.not_valid_before_utc
    assert timedelta(days=10 * 365) <= lifetime <= timedelta(days=10 * 366)
    common_name = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert "Example Org" in str(common_name)


def test_tsa_certificate_never_outlives_its_ca(ca: CertifiedKey) -> None:
    late = ca.certificate.not_valid_after_utc - timedelta(days=365)
    certificate = build_tsa_certificate(new_tsa_key().public_key(), ca=ca, now=late)
    assert certificate.not_valid_after_utc == ca.certificate.not_valid_after_utc


def test_default_organisation_is_notarium() -> None:
    ca = generate_ca(now=NOW)
    tsa = generate_tsa(ca, now=NOW)
    for certificate in (ca.certificate, tsa.certificate):
        organisation = certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
        assert organisation[0].value == "notarium"


def test_signing_key_is_ed25519() -> None:
    assert isinstance(new_signing_key(), ed25519.Ed25519PrivateKey)


def test_certified_key_is_frozen(ca: CertifiedKey) -> None:
    with pytest.raises(AttributeError):
        ca.certificate = ca.certificate  # type: ignore[misc]
