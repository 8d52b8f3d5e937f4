"""WACZ signing in the form of webrecorder's "WACZ Signing and Verification" spec.

notarium produces the *domain-identity + signed timestamp* form, as webrecorder's
authsign server does, with two honest differences: the certificate comes from the
service's private CA rather than a public one, and the timestamp from the built-in TSA.
A verifier therefore trusts that CA (shipped in every evidence package) instead of a
web-PKI root.

- ``signature``: ECDSA P-256 / SHA-256 over the ASCII ``hash`` string, DER, base64.
- ``domainCert``: a certificate for the signing key, CN (and SAN) = ``domain``, issued
  under the service CA for this one signature and valid for seven days from just
  before it (authsign's verifier requires the certificate to be at most seven days old
  at ``created``; a short-lived certificate also means a stolen key signs nothing
  without a fresh certificate, and the time signature proves when it was used); then
  the CA certificate.
- ``timeSignature``: an RFC 3161 TimeStampResp, base64, whose imprint is the SHA-256 of
  the ASCII ``signature`` string; ``timestampCert``: the TSA certificate, then the CA.

The signing key is its own P-256 key, ``wacz-signing.key.pem`` in the key directory,
created once: the seal key signs PDFs under a certificate with revocation endpoints and
belongs to that purpose alone, and one key per purpose keeps a compromise or a rotation
of either from touching the other.

Checking a ``signedData`` is the verifier's side, in
``notarium.formats.evidence.wacz_signature``.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
from datetime import timedelta
from pathlib import Path
from typing import Any, Final

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from notarium.adapters.pki.files import publish_new
from notarium.adapters.pki.generate import CertifiedKey, build_leaf_certificate
from notarium.adapters.pki.keystore import PRIVATE_FILE_MODE
from notarium.core.clock import Clock
from notarium.formats.evidence.errors import EvidenceKeyError
from notarium.formats.evidence.wacz_signature import ECDSA_SHA256
from notarium.formats.rfc3161.reply import granted_response
from notarium.formats.rfc3161.token import parse_timestamp_token, verify_token_signature
from notarium.products.web_capture.evidence.ports import Timestamper

WACZ_SIGNING_KEY: Final = "wacz-signing.key.pem"
SIGNED_DATA_VERSION: Final = "0.1.0"
SIGNING_CERT_VALIDITY: Final = timedelta(days=7)


def ensure_wacz_signing_key(keys_dir: Path) -> ec.EllipticCurvePrivateKey:
    """Load the WACZ signing key, creating it (0600, never replaced) on first use."""
    path = Path(keys_dir) / WACZ_SIGNING_KEY
    if not path.exists():
        pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        try:
            publish_new(path, pem, PRIVATE_FILE_MODE)
        except OSError as exc:
            raise EvidenceKeyError(f"cannot write {path}: {exc}") from exc
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), None)
    except (OSError, ValueError, TypeError) as exc:
        raise EvidenceKeyError(f"cannot read {path}: {exc}") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise EvidenceKeyError(f"{path} is not an ECDSA P-256 private key")
    return key


def _pem(*certificates: x509.Certificate) -> str:
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in certificates)


def _subject_alternative_name(domain: str) -> x509.SubjectAlternativeName:
    try:
        return x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(domain))])
    except ValueError:
        return x509.SubjectAlternativeName([x509.DNSName(domain)])


class WaczSigner:
    """Produces the ``signedData`` of ``datapackage-digest.json`` (domain-identity form)."""

    def __init__(
        self,
        key: ec.EllipticCurvePrivateKey,
        ca: CertifiedKey,
        timestamper: Timestamper,
        *,
        domain: str,
        organisation: str,
        software: str,
        clock: Clock,
    ) -> None:
        if not domain:
            raise EvidenceKeyError("the WACZ signing domain must not be empty")
        self._key = key
        self._ca = ca
        self._timestamper = timestamper
        self._domain = domain
        self._subject = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
                x509.NameAttribute(NameOID.COMMON_NAME, domain),
            ]
        )
        self._software = software
        self._clock = clock

    @property
    def domain(self) -> str:
        return self._domain

    def __call__(self, digest_hash: str, created: str) -> dict[str, Any]:
        certificate = build_leaf_certificate(
            self._key.public_key(),
            subject=self._subject,
            ca=self._ca,
            now=self._clock.now(),
            validity=SIGNING_CERT_VALIDITY,
            extensions=[(_subject_alternative_name(self._domain), False)],
        )
        signature = base64.b64encode(
            self._key.sign(digest_hash.encode("ascii"), ECDSA_SHA256)
        ).decode()
        token = self._timestamper.timestamp(hashlib.sha256(signature.encode("ascii")).digest())
        parsed = parse_timestamp_token(token)
        # The spec reads the TSA certificate first; a token's SET OF certificates has
        # no order, so the signer is put in front.
        tsa = verify_token_signature(parsed)
        stamp_chain = [tsa, *(c for c in parsed.certificates if c != tsa)]
        return {
            "hash": digest_hash,
            "created": created,
            "software": self._software,
            "version": SIGNED_DATA_VERSION,
            "signature": signature,
            "domain": self._domain,
            "domainCert": _pem(certificate, self._ca.certificate),
            "timeSignature": base64.b64encode(granted_response(token)).decode(),
            "timestampCert": _pem(*stamp_chain),
        }
