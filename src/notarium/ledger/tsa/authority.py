"""RFC 3161 time-stamp authority: turns a message imprint into a signed TSTInfo token.

ASN.1 is produced by asn1crypto and signed through a :class:`TokenSigner`. Everything
that depends only on the certificate is encoded once in ``__init__`` because issuance is
on the hot path of every notarisation.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from asn1crypto import algos, cms, core, parser, tsp
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.serialization import Encoding

from notarium.core.clock import Clock
from notarium.formats.rfc3161.asn1 import TimeStampResp
from notarium.ledger.tsa.errors import (
    MalformedTimestampRequestError,
    TimestampRequestRejected,
    TokenSigningError,
    TsaConfigurationError,
    UnacceptedExtensionError,
    UnacceptedPolicyError,
    UnsupportedHashAlgorithmError,
)
from notarium.ledger.tsa.ports import SerialSource, TokenSigner

#: Requests are a few hundred bytes; anything far larger is refused before asn1crypto
#: sees it so that a hostile client cannot make the parser allocate or recurse much.
MAX_REQUEST_SIZE: Final = 64 * 1024

#: Hash name -> (OID, digest length). SHA-1 is deliberately absent: its collisions make
#: an imprint meaningless as evidence.
SUPPORTED_HASHES: Final[dict[str, tuple[str, int]]] = {
    "sha256": ("2.16.840.1.101.3.4.2.1", 32),
    "sha384": ("2.16.840.1.101.3.4.2.2", 48),
    "sha512": ("2.16.840.1.101.3.4.2.3", 64),
}
_HASH_BY_OID: Final = {oid: (name, size) for name, (oid, size) in SUPPORTED_HASHES.items()}

# The largest serial RFC 3161 §2.4.2 lets verifiers rely on handling (160 bits).
_MAX_SERIAL: Final = (1 << 160) - 1
# UTCTime cannot express 2050 onwards; RFC 5652 §11.3 switches to GeneralizedTime there.
_UTC_TIME_LIMIT: Final = datetime(2050, 1, 1, tzinfo=UTC)
# asn1crypto's numbering of the ASN.1 tag class and the constructed encoding method.
_CONTEXT_CLASS: Final = 2
_CONSTRUCTED: Final = 1
_GRANTED_STATUS_DER: Final = tsp.PKIStatusInfo({"status": "granted"}).dump()


@dataclass(frozen=True)
class IssuedToken:
    der: bytes
    """The ContentInfo(SignedData(TSTInfo)) token."""
    serial: int
    gen_time: datetime
    hash_algorithm: str
    digest: bytes


@dataclass(frozen=True)
class _ValidRequest:
    hash_algorithm: str
    digest: bytes
    nonce: int | None
    cert_req: bool
    policy_oid: str | None


class TimeStampAuthority:
    """Issues RFC 3161 tokens carrying the RFC 5816 signing-certificate-v2 attribute.

    Per token only the varying leaves (imprint, serial, time, nonce, digest, signature)
    are encoded; each enclosing structure is then emitted by asn1crypto under the tag
    its schema class declares, around its fields' encodings in schema order. Building
    every token through asn1crypto's dict API instead costs several times the ECDSA
    signature itself and would miss the issuance-rate target.
    """

    def __init__(
        self,
        signer: TokenSigner,
        *,
        policy_oid: str,
        accuracy_ms: int,
        clock: Clock,
        accepted_policy_oids: tuple[str, ...] = (),
        include_signing_time: bool = True,
        include_tsa_name: bool = True,
    ) -> None:
        """``policy_oid`` is the default policy; ``accepted_policy_oids`` lists further
        policies a client may request. ``accuracy_ms`` of 0 omits the accuracy field."""
        if accuracy_ms < 0:
            raise TsaConfigurationError("accuracy_ms must not be negative")
        self._signer = signer
        self._clock = clock
        self._include_signing_time = include_signing_time
        self._default_policy = policy_oid

        self._policy_der: dict[str, bytes] = {}
        for oid in (policy_oid, *accepted_policy_oids):
            try:
                self._policy_der[oid] = core.ObjectIdentifier(oid).dump()
            except (ValueError, TypeError) as exc:
                raise TsaConfigurationError(f"invalid policy OID {oid!r}") from exc

        seconds, millis = divmod(accuracy_ms, 1000)
        accuracy: dict[str, int] = {}
        if seconds:
            accuracy["seconds"] = seconds
        if millis:
            accuracy["millis"] = millis

        leaf = asn1_x509.Certificate.load(signer.certificate.public_bytes(Encoding.DER))
        chain = [asn1_x509.Certificate.load(c.public_bytes(Encoding.DER)) for c in signer.chain]

        # TSTInfo fields other than the per-token ones. ``ordering`` never appears: DER
        # omits a DEFAULT FALSE.
        self._tst_version_der = tsp.Version("v1").dump()
        self._accuracy_der = tsp.Accuracy(accuracy).dump() if accuracy else b""
        self._tsa_name_der = (
            asn1_x509.GeneralName(name="directory_name", value=leaf.subject, explicit=0).dump()
            if include_tsa_name
            else b""
        )
        self._imprint_algorithm_der = {
            name: algos.DigestAlgorithm({"algorithm": name}).dump() for name in SUPPORTED_HASHES
        }

        # RFC 5816: ESSCertIDv2 binds the signature to this exact certificate, so that a
        # different certificate for the same key cannot be substituted.
        ess_cert_id = tsp.ESSCertIDv2(
            {
                "hash_algorithm": {"algorithm": "sha256"},
                "cert_hash": hashlib.sha256(leaf.dump()).digest(),
                "issuer_serial": {
                    "issuer": [asn1_x509.GeneralName(name="directory_name", value=leaf.issuer)],
                    "serial_number": leaf.serial_number,
                },
            }
        )
        self._signing_certificate_attr_der = cms.CMSAttribute(
            {"type": "signing_certificate_v2", "values": [{"certs": [ess_cert_id]}]}
        ).dump()
        self._content_type_attr_der = cms.CMSAttribute(
            {"type": "content_type", "values": ["tst_info"]}
        ).dump()
        self._message_digest_type_der = cms.CMSAttributeType("message_digest").dump()
        self._signing_time_cache: tuple[datetime, bytes] | None = None

        digest_algorithm = algos.DigestAlgorithm({"algorithm": "sha256"})
        # SignerInfo fields that precede signedAttrs.
        self._signer_info_head_der = (
            cms.CMSVersion("v1").dump()
            + cms.SignerIdentifier(
                name="issuer_and_serial_number",
                value=cms.IssuerAndSerialNumber(
                    {"issuer": leaf.issuer, "serial_number": leaf.serial_number}
                ),
            ).dump()
            + digest_algorithm.dump()
        )
        self._signature_algorithm_der = algos.SignedDigestAlgorithm(
            {"algorithm": "sha256_ecdsa"}
        ).dump()
        # SignedData fields that precede encapContentInfo.
        self._signed_data_head_der = (
            cms.CMSVersion("v3").dump() + cms.DigestAlgorithms([digest_algorithm]).dump()
        )
        self._tst_info_type_der = cms.ContentType("tst_info").dump()
        self._certificates_der = cms.CertificateSet(
            [cms.CertificateChoices(name="certificate", value=c) for c in (leaf, *chain)],
            implicit=0,
        ).dump()
        self._signed_data_type_der = cms.ContentType("signed_data").dump()

    @property
    def policy_oid(self) -> str:
        return self._default_policy

    def issue(
        self,
        *,
        digest: bytes,
        hash_algorithm: str = "sha256",
        serial: int,
        nonce: int | None = None,
        include_certs: bool = True,
        policy_oid: str | None = None,
    ) -> IssuedToken:
        """Sign a token for ``digest``.

        Raises a :class:`TimestampRequestRejected` subclass for inputs that can never be
        granted and :class:`TokenSigningError` when the signer fails.
        """
        check_imprint(digest, hash_algorithm)
        return self._issue(
            hash_algorithm=hash_algorithm,
            digest=digest,
            serial=serial,
            nonce=nonce,
            include_certs=include_certs,
            policy_oid=policy_oid,
        )

    def respond(self, request_der: bytes, serials: SerialSource) -> bytes:
        """Answer a DER TimeStampReq with a DER TimeStampResp; never raises.

        A serial is drawn only once the request has been accepted, so rejected requests
        leave no gaps in the sequence.
        """
        try:
            request = _parse_request(request_der)
            self._policy(request.policy_oid)
        except TimestampRequestRejected as exc:
            return _rejection(exc.failure_info, exc.message)
        try:
            token = self._issue(
                hash_algorithm=request.hash_algorithm,
                digest=request.digest,
                serial=serials.next_serial(),
                nonce=request.nonce,
                include_certs=request.cert_req,
                policy_oid=request.policy_oid,
            )
        except TimestampRequestRejected as exc:
            return _rejection(exc.failure_info, exc.message)
        except Exception:
            # The client must always receive a well-formed TimeStampResp; details of the
            # internal failure stay on the server side.
            return _rejection("system_failure", "the time-stamp authority failed")
        return _encode(TimeStampResp, _GRANTED_STATUS_DER + token.der)

    def _policy(self, policy_oid: str | None) -> bytes:
        oid = self._default_policy if policy_oid is None else policy_oid
        policy_der = self._policy_der.get(oid)
        if policy_der is None:
            raise UnacceptedPolicyError(f"policy {oid} is not offered by this TSA")
        return policy_der

    def _signing_time_attr(self, gen_time: datetime) -> bytes:
        # Many tokens share a second; the cache holds one immutable pair, so concurrent
        # callers at worst encode the same value twice.
        whole_seconds = gen_time.replace(microsecond=0)
        cached = self._signing_time_cache
        if cached is not None and cached[0] == whole_seconds:
            return cached[1]
        choice = "utc_time" if whole_seconds < _UTC_TIME_LIMIT else "generalized_time"
        der = bytes(
            cms.CMSAttribute(
                {"type": "signing_time", "values": [cms.Time(name=choice, value=whole_seconds)]}
            ).dump()
        )
        self._signing_time_cache = (whole_seconds, der)
        return der

    def _issue(
        self,
        *,
        hash_algorithm: str,
        digest: bytes,
        serial: int,
        nonce: int | None,
        include_certs: bool,
        policy_oid: str | None,
    ) -> IssuedToken:
        policy_der = self._policy(policy_oid)
        if not 0 < serial <= _MAX_SERIAL:
            raise TsaConfigurationError("serial numbers must be positive and at most 160 bits")
        now = self._clock.now()
        if now.tzinfo is None:
            raise TsaConfigurationError("the clock must return timezone-aware datetimes")
        now = now.astimezone(UTC)
        gen_time = now.replace(microsecond=now.microsecond - now.microsecond % 1000)

        imprint_der = _encode(
            tsp.MessageImprint,
            self._imprint_algorithm_der[hash_algorithm] + _encode(core.OctetString, digest),
        )
        tst_info_der = _encode(
            tsp.TSTInfo,
            b"".join(
                (
                    self._tst_version_der,
                    policy_der,
                    imprint_der,
                    core.Integer(serial).dump(),
                    core.GeneralizedTime(gen_time).dump(),
                    self._accuracy_der,
                    b"" if nonce is None else core.Integer(nonce).dump(),
                    self._tsa_name_der,
                )
            ),
        )

        message_digest_attr = _encode(
            cms.CMSAttribute,
            self._message_digest_type_der
            + _encode(
                cms.SetOfOctetString,
                _encode(core.OctetString, hashlib.sha256(tst_info_der).digest()),
            ),
        )
        attributes = [
            self._content_type_attr_der,
            message_digest_attr,
            self._signing_certificate_attr_der,
        ]
        if self._include_signing_time:
            attributes.append(self._signing_time_attr(gen_time))
        # DER orders SET OF elements by their encodings (X.690 §11.6).
        attributes_der = b"".join(sorted(attributes))
        # The signature covers the attributes encoded as a SET (RFC 5652 §5.4), not with
        # the [0] IMPLICIT tag they carry inside SignerInfo.
        try:
            signature = self._signer.sign(_encode(cms.CMSAttributes, attributes_der))
        except Exception as exc:
            raise TokenSigningError("the TSA signer failed to sign the token") from exc

        signer_info_der = _encode(
            cms.SignerInfo,
            b"".join(
                (
                    self._signer_info_head_der,
                    _context(0, attributes_der),  # signedAttrs [0] IMPLICIT
                    self._signature_algorithm_der,
                    _encode(core.OctetString, signature),
                )
            ),
        )
        encapsulated_der = _encode(
            cms.EncapsulatedContentInfo,
            self._tst_info_type_der
            # eContent [0] EXPLICIT OCTET STRING
            + _context(0, _encode(core.OctetString, tst_info_der)),
        )
        signed_data_der = _encode(
            cms.SignedData,
            b"".join(
                (
                    self._signed_data_head_der,
                    encapsulated_der,
                    self._certificates_der if include_certs else b"",
                    _encode(cms.SignerInfos, signer_info_der),
                )
            ),
        )
        # content [0] EXPLICIT
        token_der = _encode(
            cms.ContentInfo, self._signed_data_type_der + _context(0, signed_data_der)
        )
        return IssuedToken(
            der=bytes(token_der),
            serial=serial,
            gen_time=gen_time,
            hash_algorithm=hash_algorithm,
            digest=digest,
        )


def _encode(spec: type[core.Asn1Value], contents: bytes) -> bytes:
    """Encode ``contents`` under the tag that the asn1crypto class ``spec`` declares.

    The caller supplies the fields' encodings in schema order; tests re-parse tokens with
    the full asn1crypto schema and re-encode them to confirm the result is exact DER.
    """
    return bytes(parser.emit(spec.class_, spec.method, spec.tag, contents))


def _context(tag: int, contents: bytes) -> bytes:
    """A constructed context-specific ``[tag]``: an EXPLICIT wrapper, or the IMPLICIT
    retagging of a SET or SEQUENCE whose contents are given."""
    return bytes(parser.emit(_CONTEXT_CLASS, _CONSTRUCTED, tag, contents))


def check_imprint(digest: bytes, hash_algorithm: str) -> None:
    """Refuse what no token can be issued for, before anything (a serial) is spent on it."""
    spec = SUPPORTED_HASHES.get(hash_algorithm)
    if spec is None:
        raise UnsupportedHashAlgorithmError(
            f"unsupported hash algorithm {hash_algorithm!r}; use sha256, sha384 or sha512"
        )
    _check_digest_length(digest, spec[1], hash_algorithm)


def _check_digest_length(digest: bytes, expected: int, hash_algorithm: str) -> None:
    if len(digest) != expected:
        raise MalformedTimestampRequestError(
            f"a {hash_algorithm} digest is {expected} bytes, got {len(digest)}"
        )


def _parse_request(request_der: bytes) -> _ValidRequest:
    if len(request_der) > MAX_REQUEST_SIZE:
        raise MalformedTimestampRequestError("the request is too large")
    try:
        request = tsp.TimeStampReq.load(request_der, strict=True)
        # asn1crypto parses lazily; walking the whole value surfaces every encoding
        # error here rather than half-way through building a token.
        request.native  # noqa: B018
        version = request["version"].native
        imprint = request["message_imprint"]
        algorithm = imprint["hash_algorithm"]
        algorithm_oid = algorithm["algorithm"].dotted
        parameters = algorithm["parameters"]
        digest = imprint["hashed_message"].native
        policy = request["req_policy"]
        policy_oid = None if isinstance(policy, core.Void) else policy.dotted
        nonce = request["nonce"].native
        cert_req = bool(request["cert_req"].native)
        has_extensions = not isinstance(request["extensions"], core.Void)
    except Exception as exc:
        raise MalformedTimestampRequestError("the request is not a valid TimeStampReq") from exc
    if version != "v1":
        raise MalformedTimestampRequestError("only TimeStampReq version 1 is supported")
    supported = _HASH_BY_OID.get(algorithm_oid)
    if supported is None:
        raise UnsupportedHashAlgorithmError(
            f"unsupported hash algorithm {algorithm_oid}; use SHA-256, SHA-384 or SHA-512"
        )
    # RFC 5754: SHA-2 AlgorithmIdentifiers carry absent or NULL parameters, and
    # verifiers such as OpenSSL refuse anything else. asn1crypto's schema already fails
    # other parameters during the walk above; this keeps the rule from depending on it.
    if not isinstance(parameters, core.Void | core.Null):
        raise UnsupportedHashAlgorithmError("hash algorithm parameters must be absent or NULL")
    name, size = supported
    _check_digest_length(digest, size, name)
    if has_extensions:
        raise UnacceptedExtensionError("this TSA supports no request extensions")
    return _ValidRequest(
        hash_algorithm=name,
        digest=digest,
        nonce=nonce,
        cert_req=cert_req,
        policy_oid=policy_oid,
    )


def _rejection(failure_info: str, message: str) -> bytes:
    response = TimeStampResp(
        {
            "status": {
                "status": "rejection",
                "status_string": [message],
                "fail_info": {failure_info},
            }
        }
    )
    return bytes(response.dump())
