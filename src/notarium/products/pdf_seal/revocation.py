"""Revocation information for certificates the private CA issued: a CRL and OCSP answers.

Pure functions; the HTTP layer serves them at ``/pki/crl`` (DER,
``application/pkix-crl``) and ``/pki/ocsp`` (``application/ocsp-request`` in,
``application/ocsp-response`` out). The CA signs both itself, so relying parties need
no extra responder certificate.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from notarium.adapters.pki.generate import CertifiedKey
from notarium.products.pdf_seal.errors import MalformedOcspRequestError

CRL_CONTENT_TYPE: Final = "application/pkix-crl"
OCSP_REQUEST_CONTENT_TYPE: Final = "application/ocsp-request"
OCSP_RESPONSE_CONTENT_TYPE: Final = "application/ocsp-response"

#: How long a relying party may cache an answer before asking again.
DEFAULT_VALIDITY: Final = timedelta(days=1)
# Relying parties with slightly fast clocks would otherwise see answers from the future.
_BACKDATE: Final = timedelta(minutes=5)
_MAX_OCSP_REQUEST_SIZE: Final = 16 * 1024


def build_crl(
    ca: CertifiedKey,
    *,
    now: datetime,
    crl_number: int,
    revoked: Mapping[int, datetime] | None = None,
    validity: timedelta = DEFAULT_VALIDITY,
) -> bytes:
    """DER CRL signed by the CA; ``revoked`` maps serial numbers to revocation times.

    ``crl_number`` must grow with every CRL the CA publishes (RFC 5280 §5.2.3).
    """
    now = now.astimezone(UTC)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.certificate.subject)
        .last_update(now - _BACKDATE)
        .next_update(now + validity)
        .add_extension(x509.CRLNumber(crl_number), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.private_key.public_key()),
            critical=False,
        )
    )
    for serial, revoked_at in sorted((revoked or {}).items()):
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(revoked_at.astimezone(UTC))
            .build()
        )
    crl = builder.sign(ca.private_key, hashes.SHA384())
    return crl.public_bytes(serialization.Encoding.DER)


def parse_ocsp_request(request_der: bytes) -> ocsp.OCSPRequest:
    if len(request_der) > _MAX_OCSP_REQUEST_SIZE:
        raise MalformedOcspRequestError("the OCSP request is too large")
    try:
        return ocsp.load_der_ocsp_request(request_der)
    except ValueError as exc:
        raise MalformedOcspRequestError("the body is not a DER OCSPRequest") from exc


def build_ocsp_response(
    request_der: bytes,
    ca: CertifiedKey,
    *,
    now: datetime,
    revoked: Mapping[int, datetime] | None = None,
    validity: timedelta = DEFAULT_VALIDITY,
) -> bytes:
    """DER OCSPResponse answering ``request_der``; never raises for bad input.

    A request that does not parse gets ``malformedRequest``, and one about a
    certificate from another issuer ``unauthorized`` (RFC 6960 §2.3), since this
    responder can only speak for its own CA.
    """
    try:
        request = parse_ocsp_request(request_der)
    except MalformedOcspRequestError:
        return _unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
    if not _issued_by(request, ca):
        return _unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED)

    now = now.astimezone(UTC)
    revoked_at = (revoked or {}).get(request.serial_number)
    builder = ocsp.OCSPResponseBuilder().add_response_by_hash(
        issuer_name_hash=request.issuer_name_hash,
        issuer_key_hash=request.issuer_key_hash,
        serial_number=request.serial_number,
        algorithm=request.hash_algorithm,
        cert_status=ocsp.OCSPCertStatus.GOOD if revoked_at is None else ocsp.OCSPCertStatus.REVOKED,
        this_update=now - _BACKDATE,
        next_update=now + validity,
        revocation_time=None if revoked_at is None else revoked_at.astimezone(UTC),
        revocation_reason=None,
    )
    builder = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, ca.certificate)
    try:
        nonce = request.extensions.get_extension_for_class(x509.OCSPNonce)
    except x509.ExtensionNotFound:
        pass
    else:
        builder = builder.add_extension(nonce.value, critical=False)
    response = builder.sign(ca.private_key, hashes.SHA256())
    return response.public_bytes(serialization.Encoding.DER)


def _issued_by(request: ocsp.OCSPRequest, ca: CertifiedKey) -> bool:
    algorithm = request.hash_algorithm
    name_hash = hashes.Hash(algorithm)
    name_hash.update(ca.certificate.subject.public_bytes())
    # RFC 6960 §4.1.1: the key hash covers the subjectPublicKey BIT STRING's value only.
    key_hash = hashes.Hash(algorithm)
    key_hash.update(
        ca.certificate.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    )
    return (
        name_hash.finalize() == request.issuer_name_hash
        and key_hash.finalize() == request.issuer_key_hash
    )


def _unsuccessful(status: ocsp.OCSPResponseStatus) -> bytes:
    return ocsp.OCSPResponseBuilder.build_unsuccessful(status).public_bytes(
        serialization.Encoding.DER
    )
