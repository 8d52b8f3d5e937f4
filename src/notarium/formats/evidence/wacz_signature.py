"""Verifying the ``signedData`` of a WACZ as webrecorder's "WACZ Signing and
Verification" spec says (verification steps 3-9), in the anonymous and the
domain-identity form.

Pure: the evidence package's signer (``products.web_capture.evidence.wacz_signing``)
and the offline verifier (``verify.wacz``) share these definitions.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Literal

from asn1crypto import tsp
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.x509.oid import NameOID

from notarium.core.errors import ProofVerificationError
from notarium.formats.chain import validate_chain
from notarium.formats.evidence.errors import WaczSignatureError
from notarium.formats.rfc3161.token import (
    check_tsa_certificate,
    parse_timestamp_token,
    verify_token_signature,
)

#: Spec, verification step 6: ``created`` within 10 minutes of the time signature.
STAMP_WINDOW: Final = timedelta(minutes=10)

DOMAIN_KEYS: Final = frozenset(
    {
        "hash",
        "created",
        "software",
        "version",
        "signature",
        "domain",
        "domainCert",
        "timeSignature",
        "timestampCert",
    }
)
ANONYMOUS_KEYS: Final = frozenset(
    {"hash", "created", "software", "version", "signature", "publicKey"}
)
ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())


@dataclass(frozen=True)
class WaczSignatureFacts:
    form: Literal["domain", "anonymous"]
    created: datetime
    domain: str | None = None
    signer_subject: str | None = None
    timestamp: datetime | None = None
    tsa_subject: str | None = None


def _text(signed: Mapping[str, Any], key: str) -> str:
    value = signed.get(key)
    if not isinstance(value, str) or not value:
        raise WaczSignatureError(f"signedData.{key} must be a non-empty string")
    return value


def _b64(signed: Mapping[str, Any], key: str) -> bytes:
    try:
        return base64.b64decode(_text(signed, key), validate=True)
    except (binascii.Error, ValueError):
        raise WaczSignatureError(f"signedData.{key} is not base64") from None


def _certificates(signed: Mapping[str, Any], key: str) -> list[x509.Certificate]:
    try:
        chain = x509.load_pem_x509_certificates(_text(signed, key).encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise WaczSignatureError(f"signedData.{key} is not a PEM certificate chain") from None
    return chain


def _created(signed: Mapping[str, Any]) -> datetime:
    text = _text(signed, "created")
    try:
        created = datetime.fromisoformat(text)
    except ValueError:
        raise WaczSignatureError(f"signedData.created {text!r} is not an ISO 8601 date") from None
    if created.tzinfo is None:
        raise WaczSignatureError("signedData.created must carry a time zone (Z)")
    return created


def _verify_ecdsa(public_key: Any, signature: bytes, message: bytes, what: str) -> None:
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        raise WaczSignatureError(f"the {what} key is not an ECDSA key")
    if len(signature) == 64:
        # WebCrypto (ArchiveWeb.page) signs in IEEE P1363 form, r || s.
        signature = encode_dss_signature(
            int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        )
    try:
        public_key.verify(signature, message, ECDSA_SHA256)
    except InvalidSignature:
        raise WaczSignatureError(
            f"signedData.signature is not a signature of signedData.hash by the {what}"
        ) from None


def _subject_name(certificate: x509.Certificate) -> str:
    """The certificate's domain as authsign reads it: the CN, else the first SAN."""
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if names:
        return str(names[0].value)
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return ""
    values = [*san.get_values_for_type(x509.DNSName), *san.get_values_for_type(x509.IPAddress)]
    return str(values[0]) if values else ""


def _chain(
    what: str,
    leaf: x509.Certificate,
    others: Sequence[x509.Certificate],
    roots: Sequence[x509.Certificate],
    at: datetime,
) -> None:
    try:
        validate_chain(leaf, others, roots, at)
    except ProofVerificationError as exc:
        raise WaczSignatureError(f"{what} is not trusted: {exc.message}") from exc


def verify_signed_data(
    signed: Any,
    *,
    expected_hash: str,
    trust_roots: Sequence[x509.Certificate],
) -> WaczSignatureFacts:
    """Check ``signedData`` as the spec's verification steps 3-9 say; ``expected_hash``
    is the hash of ``datapackage.json`` (steps 1-2 are the caller's)."""
    if not isinstance(signed, Mapping):
        raise WaczSignatureError("signedData must be a JSON object")
    keys = set(signed)
    if _text(signed, "hash") != expected_hash:
        raise WaczSignatureError("signedData.hash is not the hash of datapackage.json")
    created = _created(signed)
    if keys == ANONYMOUS_KEYS:
        public_key = serialization.load_der_public_key(_b64(signed, "publicKey"))
        _verify_ecdsa(
            public_key, _b64(signed, "signature"), expected_hash.encode("ascii"), "publicKey"
        )
        return WaczSignatureFacts(form="anonymous", created=created)
    if keys - {"crossSignedCert"} != DOMAIN_KEYS:
        raise WaczSignatureError(
            "signedData has neither the anonymous nor the domain-identity set of keys: "
            f"{sorted(keys)}"
        )

    # 3. The signature of the hash by the first domainCert certificate.
    domain_chain = _certificates(signed, "domainCert")
    signer = domain_chain[0]
    signature_text = _text(signed, "signature")
    _verify_ecdsa(
        signer.public_key(),
        _b64(signed, "signature"),
        expected_hash.encode("ascii"),
        "domainCert key",
    )
    # 4. The domain is the certificate's subject name.
    domain = _text(signed, "domain")
    if _subject_name(signer) != domain:
        raise WaczSignatureError(
            f"signedData.domain {domain!r} is not the domainCert subject {_subject_name(signer)!r}"
        )
    # 5. timeSignature: an RFC 3161 time-stamp of the signature text by timestampCert[0].
    stamp_chain = _certificates(signed, "timestampCert")
    try:
        response = tsp.TimeStampResp.load(_b64(signed, "timeSignature"), strict=True)
        if response["status"]["status"].native != "granted":
            raise WaczSignatureError("signedData.timeSignature is not a granted time-stamp")
        token = parse_timestamp_token(response["time_stamp_token"].dump())
        tsa = verify_token_signature(token, stamp_chain)
    except ProofVerificationError as exc:
        raise WaczSignatureError(f"signedData.timeSignature: {exc.message}") from exc
    except (ValueError, TypeError, KeyError) as exc:
        raise WaczSignatureError(f"signedData.timeSignature is not a TimeStampResp: {exc}") from exc
    if tsa != stamp_chain[0]:
        raise WaczSignatureError("the time-stamp was not signed by the first timestampCert")
    expected_imprint = hashlib.sha256(signature_text.encode("ascii")).digest()
    if token.imprint_algorithm != "sha256" or token.imprint != expected_imprint:
        raise WaczSignatureError("signedData.timeSignature does not time-stamp the signature")
    # 6. created within ten minutes of the time signature.
    if abs(token.gen_time - created) > STAMP_WINDOW:
        raise WaczSignatureError(
            f"signedData.created {created.isoformat()} is more than 10 minutes from the "
            f"time signature's {token.gen_time.isoformat()}"
        )
    # 7. domainCert trusted at created (9: or, failing that, the cross-signed certificate
    # for the same key); 8. timestampCert trusted at the time signature.
    cross = _certificates(signed, "crossSignedCert") if "crossSignedCert" in signed else None
    if cross is not None and cross[0].public_key() != signer.public_key():
        raise WaczSignatureError("crossSignedCert is not for the domainCert key")
    try:
        _chain("domainCert", signer, domain_chain[1:], trust_roots, created)
    except WaczSignatureError:
        if cross is None:
            raise
        _chain("crossSignedCert", cross[0], cross[1:], trust_roots, created)
    try:
        check_tsa_certificate(tsa)
    except ProofVerificationError as exc:
        raise WaczSignatureError(f"timestampCert: {exc.message}") from exc
    _chain(
        "timestampCert", tsa, [*stamp_chain[1:], *token.certificates], trust_roots, token.gen_time
    )
    return WaczSignatureFacts(
        form="domain",
        created=created,
        domain=domain,
        signer_subject=signer.subject.rfc4514_string(),
        timestamp=token.gen_time,
        tsa_subject=tsa.subject.rfc4514_string(),
    )
