"""Parsing and cryptographic checks of RFC 3161 time-stamp tokens.

asn1crypto does the parsing and ``cryptography`` does the signature maths; nothing
here trusts the token's own claims until the CMS signature over them has been
checked against a certificate that chains to a root the caller supplied.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# Importing tsp also registers TSTInfo and signing-certificate-v2 with the cms parser.
from asn1crypto import cms, core, parser, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID

from notarium.formats.errors import MalformedProofError, TokenSignatureError, TsaCertificateError

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}

# Key usages RFC 3161 §2.3 allows on a TSA certificate.
_TSA_KEY_USAGES = frozenset({"digital_signature", "content_commitment"})


@dataclass(frozen=True)
class TimestampToken:
    """The facts of a parsed (not yet verified) TimeStampToken."""

    der: bytes = field(repr=False)
    tst_info_der: bytes = field(repr=False)
    imprint_algorithm: str
    imprint: bytes
    gen_time: datetime
    serial_number: int
    policy: str
    nonce: int | None
    certificates: tuple[x509.Certificate, ...]
    _signed_data: Any = field(repr=False, compare=False)


def _digest(name: str, data: bytes) -> bytes:
    return hashlib.new(name, data).digest()


def parse_timestamp_token(der: bytes) -> TimestampToken:
    """Parse a DER TimeStampToken (a CMS ContentInfo wrapping SignedData/TSTInfo).

    Raises ``MalformedProofError`` when the bytes are not such a structure.
    """
    try:
        content_info = cms.ContentInfo.load(der, strict=True)
        if content_info["content_type"].native != "signed_data":
            raise MalformedProofError(
                "time-stamp token is not CMS SignedData "
                f"(content type {content_info['content_type'].dotted})"
            )
        signed_data = content_info["content"]
        encap = signed_data["encap_content_info"]
        if encap["content_type"].native != "tst_info":
            raise MalformedProofError(
                "time-stamp token does not encapsulate a TSTInfo "
                f"(eContentType {encap['content_type'].dotted})"
            )
        if encap["content"].contents is None:
            raise MalformedProofError("time-stamp token has no encapsulated TSTInfo")
        tst_info_der = bytes(encap["content"])
        tst_info = tsp.TSTInfo.load(tst_info_der, strict=True)
        if tst_info["version"].native != "v1":
            raise MalformedProofError(
                f"TSTInfo version {tst_info['version'].native} is not supported (expected 1)"
            )
        imprint = tst_info["message_imprint"]
        nonce = tst_info["nonce"].native
        certificates: list[x509.Certificate] = []
        embedded = signed_data["certificates"]
        for choice in embedded if embedded.native is not None else []:
            if choice.name == "certificate":
                certificates.append(x509.load_der_x509_certificate(choice.chosen.dump()))
        gen_time = tst_info["gen_time"].native
        if not isinstance(gen_time, datetime) or gen_time.tzinfo is None:
            raise MalformedProofError("TSTInfo genTime is not a UTC GeneralizedTime")
        return TimestampToken(
            der=der,
            tst_info_der=tst_info_der,
            imprint_algorithm=imprint["hash_algorithm"]["algorithm"].native,
            imprint=imprint["hashed_message"].native,
            gen_time=gen_time,
            serial_number=tst_info["serial_number"].native,
            policy=tst_info["policy"].dotted,
            nonce=nonce,
            certificates=tuple(certificates),
            _signed_data=signed_data,
        )
    except MalformedProofError:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise MalformedProofError(
            f"time-stamp token is not a valid RFC 3161 TimeStampToken: {exc}"
        ) from exc


def _to_asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER))


def _find_signer(sid: Any, candidates: Sequence[x509.Certificate]) -> x509.Certificate:
    for cert in candidates:
        parsed = _to_asn1(cert)
        if sid.name == "issuer_and_serial_number":
            wanted = sid.chosen
            if (
                parsed.serial_number == wanted["serial_number"].native
                and parsed.issuer == wanted["issuer"]
            ):
                return cert
        elif sid.name == "subject_key_identifier" and parsed.key_identifier == sid.chosen.native:
            return cert
    raise TokenSignatureError(
        "the certificate that signed the time-stamp token is neither embedded in the "
        "token nor present in the bundle chain"
    )


def _single_attribute(attrs: Any, name: str) -> Any:
    found = [attr for attr in attrs if attr["type"].native == name]
    if not found:
        raise TokenSignatureError(f"time-stamp token lacks the signed {name} attribute")
    if len(found) > 1 or len(found[0]["values"]) != 1:
        raise TokenSignatureError(f"time-stamp token carries the {name} attribute more than once")
    return found[0]["values"][0]


def _hash_name(algorithm: Any, what: str) -> str:
    name = algorithm["algorithm"].native
    if name not in _HASHES:
        raise TokenSignatureError(f"{what} uses unsupported digest algorithm {name}")
    return str(name)


def _check_signature(
    cert: x509.Certificate,
    signature_algorithm: Any,
    digest_name: str,
    signature: bytes,
    data: bytes,
) -> None:
    algo = signature_algorithm.signature_algo
    try:
        sig_hash = signature_algorithm.hash_algo
    except ValueError:
        # Bare rsaEncryption / id-ecPublicKey: the hash comes from digestAlgorithm.
        sig_hash = digest_name
    if sig_hash != digest_name:
        raise TokenSignatureError(
            f"time-stamp token signature algorithm hash {sig_hash} differs from "
            f"its digest algorithm {digest_name}"
        )
    chosen = _HASHES[digest_name]()
    key = cert.public_key()
    try:
        if algo == "ecdsa" and isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(chosen))
        elif algo == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), chosen)
        else:
            raise TokenSignatureError(
                f"time-stamp token signature algorithm {algo} is unsupported or does "
                "not match the signer certificate's key type"
            )
    except InvalidSignature as exc:
        raise TokenSignatureError(
            "the CMS signature of the time-stamp token does not verify with the "
            "TSA certificate's public key"
        ) from exc


def _check_signing_certificate_v2(attrs: Any, signer: x509.Certificate) -> None:
    try:
        signing_cert = _single_attribute(attrs, "signing_certificate_v2")
    except TokenSignatureError as exc:
        raise TokenSignatureError(
            f"{exc.message} (ESS signing-certificate-v2, RFC 5035, is required)"
        ) from exc
    ids = signing_cert["certs"]
    if len(ids) == 0:
        raise TokenSignatureError("signing-certificate-v2 attribute lists no certificate")
    # RFC 5035 §5.4: the first ESSCertIDv2 identifies the signing certificate.
    first = ids[0]
    hash_name = _hash_name(first["hash_algorithm"], "signing-certificate-v2")
    cert_der = signer.public_bytes(Encoding.DER)
    if first["cert_hash"].native != _digest(hash_name, cert_der):
        raise TokenSignatureError(
            "signing-certificate-v2 ESSCertIDv2 hash does not match the certificate "
            "that signed the time-stamp token"
        )
    issuer_serial = first["issuer_serial"]
    if issuer_serial.native is not None:
        parsed = _to_asn1(signer)
        names = [n.chosen for n in issuer_serial["issuer"] if n.name == "directory_name"]
        if issuer_serial["serial_number"].native != parsed.serial_number or not any(
            name == parsed.issuer for name in names
        ):
            raise TokenSignatureError(
                "signing-certificate-v2 issuerSerial does not name the certificate "
                "that signed the time-stamp token"
            )


def verify_token_signature(
    token: TimestampToken, extra_certificates: Sequence[x509.Certificate] = ()
) -> x509.Certificate:
    """Check the CMS signature of ``token``; return the certificate that made it.

    Checks, in order: exactly one SignerInfo; its certificate can be found; the
    signed contentType is id-ct-TSTInfo; messageDigest equals the digest of the
    encapsulated TSTInfo; signing-certificate-v2 names that certificate; and the
    signature over the DER SET OF signed attributes verifies.
    """
    signed_data = token._signed_data
    try:
        signer_infos = signed_data["signer_infos"]
        if len(signer_infos) != 1:
            raise TokenSignatureError(
                f"time-stamp token must carry exactly one SignerInfo, found {len(signer_infos)}"
            )
        signer_info = signer_infos[0]
        signer = _find_signer(signer_info["sid"], [*token.certificates, *extra_certificates])
        attrs = signer_info["signed_attrs"]
        # An absent field is a Void; converting the whole set to native values to find
        # out would decode every attribute for nothing.
        if isinstance(attrs, core.Void) or len(attrs) == 0:
            raise TokenSignatureError("time-stamp token SignerInfo has no signed attributes")
        digest_name = _hash_name(signer_info["digest_algorithm"], "time-stamp token SignerInfo")

        content_type = _single_attribute(attrs, "content_type")
        if content_type.native != "tst_info":
            raise TokenSignatureError(
                f"signed contentType attribute is {content_type.dotted}, not id-ct-TSTInfo"
            )
        message_digest = _single_attribute(attrs, "message_digest")
        if message_digest.native != _digest(digest_name, token.tst_info_der):
            raise TokenSignatureError(
                "signed messageDigest attribute does not match the digest of the "
                "encapsulated TSTInfo: the time-stamp content was altered"
            )
        _check_signing_certificate_v2(attrs, signer)

        # RFC 5652 §5.4: the signature covers the attributes encoded as a SET OF
        # (tag 0x31), not with the [0] IMPLICIT tag they carry inside SignerInfo. The
        # contents are taken exactly as received: re-encoding parsed values would be
        # slow and would check a signature over bytes the signer never saw.
        signed_bytes = parser.emit(0, 1, 17, attrs.contents)
        _check_signature(
            signer,
            signer_info["signature_algorithm"],
            digest_name,
            signer_info["signature"].native,
            signed_bytes,
        )
    except (TokenSignatureError, MalformedProofError):
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise MalformedProofError(f"time-stamp token SignerInfo cannot be parsed: {exc}") from exc
    return signer


def check_tsa_certificate(cert: x509.Certificate) -> None:
    """RFC 3161 §2.3: the TSA certificate's sole, critical EKU is id-kp-timeStamping."""
    subject = cert.subject.rfc4514_string()
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    except x509.ExtensionNotFound as exc:
        raise TsaCertificateError(
            f"TSA certificate {subject!r} has no extended key usage extension; "
            "RFC 3161 requires id-kp-timeStamping"
        ) from exc
    if list(eku.value) != [ExtendedKeyUsageOID.TIME_STAMPING]:
        usages = ", ".join(oid.dotted_string for oid in eku.value)
        raise TsaCertificateError(
            f"TSA certificate {subject!r} extended key usage must be exactly "
            f"id-kp-timeStamping, found: {usages}"
        )
    if not eku.critical:
        raise TsaCertificateError(
            f"TSA certificate {subject!r} extended key usage extension must be critical"
        )
    try:
        key_usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    granted = {
        name
        for name in (
            "digital_signature",
            "content_commitment",
            "key_encipherment",
            "data_encipherment",
            "key_agreement",
            "key_cert_sign",
            "crl_sign",
        )
        if getattr(key_usage, name)
    }
    if not granted or not granted <= _TSA_KEY_USAGES:
        raise TsaCertificateError(
            f"TSA certificate {subject!r} key usage must be digitalSignature and/or "
            f"nonRepudiation only, found: {', '.join(sorted(granted)) or 'none'}"
        )
