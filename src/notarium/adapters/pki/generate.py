"""Generation of the private CA, the TSA certificate and the Ed25519 signing key.

The TSA certificate profile follows RFC 3161 §2.3: the extended key usage must be
present, critical and carry timeStamping only, or verifiers (OpenSSL among them)
refuse the tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_VALIDITY = timedelta(days=20 * 365 + 5)
TSA_VALIDITY = timedelta(days=10 * 365 + 2)
# Relying parties with slightly slow clocks would otherwise see a not-yet-valid
# certificate right after generation.
BACKDATE = timedelta(minutes=5)
_NAME_LIMIT = 64


@dataclass(frozen=True)
class CertifiedKey:
    private_key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate


def new_ca_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP384R1())


def new_tsa_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def new_signing_key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


def common_name(organisation: str, suffix: str) -> str:
    """``organisation + suffix``, the organisation cut short (with an ellipsis) where the
    whole would pass the 64-byte bound of a common name (RFC 5280 ub-common-name, which
    cryptography counts in UTF-8 bytes); the O attribute still carries it whole."""
    name = organisation + suffix
    head = organisation
    while len(name.encode()) > _NAME_LIMIT and head:
        head = head[:-1]
        name = head.rstrip() + "\u2026" + suffix
    return name


def ca_subject(organisation: str = "notarium") -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name(organisation, " Root CA")),
        ]
    )


def tsa_subject(organisation: str = "notarium") -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(
                NameOID.COMMON_NAME, common_name(organisation, " Time-Stamping Authority")
            ),
        ]
    )


def build_ca_certificate(
    key: ec.EllipticCurvePrivateKey, *, now: datetime, organisation: str = "notarium"
) -> x509.Certificate:
    """Self-signed root for ``key``; also used to re-create a lost certificate."""
    subject = ca_subject(organisation)
    public_key = key.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(public_key), critical=False
        )
        .sign(key, hashes.SHA384())
    )


def build_leaf_certificate(
    public_key: ec.EllipticCurvePublicKey,
    *,
    subject: x509.Name,
    ca: CertifiedKey,
    now: datetime,
    validity: timedelta,
    extensions: Sequence[tuple[x509.ExtensionType, bool]] = (),
) -> x509.Certificate:
    """An end-entity certificate signed by ``ca`` that never outlives it: keyUsage
    digitalSignature + nonRepudiation only (critical), plus ``extensions`` as
    (value, critical) pairs."""
    not_after = min(now + validity, ca.certificate.not_valid_after_utc)
    ca_ski = ca.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.certificate.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return (
        builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski.value),
            critical=False,
        )
        .sign(ca.private_key, hashes.SHA384())
    )


def build_tsa_certificate(
    public_key: ec.EllipticCurvePublicKey,
    *,
    ca: CertifiedKey,
    now: datetime,
    organisation: str = "notarium",
) -> x509.Certificate:
    """TSA leaf for ``public_key``, never outliving the CA that signs it."""
    return build_leaf_certificate(
        public_key,
        subject=tsa_subject(organisation),
        ca=ca,
        now=now,
        validity=TSA_VALIDITY,
        extensions=[(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), True)],
    )


def generate_ca(*, now: datetime, organisation: str = "notarium") -> CertifiedKey:
    key = new_ca_key()
    return CertifiedKey(key, build_ca_certificate(key, now=now, organisation=organisation))


def generate_tsa(
    ca: CertifiedKey, *, now: datetime, organisation: str = "notarium"
) -> CertifiedKey:
    key = new_tsa_key()
    certificate = build_tsa_certificate(key.public_key(), ca=ca, now=now, organisation=organisation)
    return CertifiedKey(key, certificate)
