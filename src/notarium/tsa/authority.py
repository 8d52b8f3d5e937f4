"""RFC 3161 time-stamp authority: turns a message imprint into a signed TSTInfo token.

ASN.1 is built with asn1crypto and signed through a :class:`TokenSigner`. Everything that
depends only on the certificate is built once in ``__init__`` because issuance is on the
hot path of every notarisation.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, TypeVar, cast

from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.serialization import Encoding

from notarium.clock import Clock
from notarium.tsa.errors import (
    MalformedTimestampRequestError,
    TimestampRequestRejected,
    TokenSigningError,
    TsaConfigurationError,
    UnacceptedExtensionError,
    UnacceptedPolicyError,
    UnsupportedHashAlgorithmError,
)
from notarium.tsa.ports import SerialSource, TokenSigner

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

_A = TypeVar("_A", bound=core.Asn1Value)

# The largest serial RFC 3161 §2.4.2 lets verifiers rely on handling (160 bits).
_MAX_SERIAL: Final = (1 << 160) - 1
# UTCTime cannot express 2050 onwards; RFC 5652 §11.3 switches to GeneralizedTime there.
_UTC_TIME_LIMIT: Final = datetime(2050, 1, 1, tzinfo=UTC)


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
    imprint: tsp.MessageImprint
    hash_algorithm: str
    digest: bytes
    nonce: int | None
    cert_req: bool
    policy_oid: str | None


class TimeStampAuthority:
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

        self._policies: dict[str, core.ObjectIdentifier] = {}
        for oid in (policy_oid, *accepted_policy_oids):
            try:
                self._policies[oid] = core.ObjectIdentifier(oid)
            except (ValueError, TypeError) as exc:
                raise TsaConfigurationError(f"invalid policy OID {oid!r}") from exc
        self._default_policy = policy_oid

        seconds, millis = divmod(accuracy_ms, 1000)
        accuracy: dict[str, int] = {}
        if seconds:
            accuracy["seconds"] = seconds
        if millis:
            accuracy["millis"] = millis
        self._accuracy = _frozen(tsp.Accuracy(accuracy)) if accuracy else None

        leaf = asn1_x509.Certificate.load(signer.certificate.public_bytes(Encoding.DER))
        chain = [asn1_x509.Certificate.load(c.public_bytes(Encoding.DER)) for c in signer.chain]
        self._tsa_name = (
            _frozen(asn1_x509.GeneralName(name="directory_name", value=leaf.subject))
            if include_tsa_name
            else None
        )
        self._digest_algorithm = _frozen(algos.DigestAlgorithm({"algorithm": "sha256"}))
        self._signature_algorithm = _frozen(
            algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"})
        )
        self._sid = _frozen(
            cms.SignerIdentifier(
                name="issuer_and_serial_number",
                value=cms.IssuerAndSerialNumber(
                    {"issuer": leaf.issuer, "serial_number": leaf.serial_number}
                ),
            )
        )
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
        self._signing_certificate_attr = _frozen(
            cms.CMSAttribute(
                {"type": "signing_certificate_v2", "values": [{"certs": [ess_cert_id]}]}
            )
        )
        self._content_type_attr = _frozen(
            cms.CMSAttribute({"type": "content_type", "values": ["tst_info"]})
        )
        self._certificates = _frozen(
            cms.CertificateSet(
                [cms.CertificateChoices(name="certificate", value=c) for c in (leaf, *chain)]
            )
        )
        self._imprint_algorithms = {
            name: _frozen(algos.DigestAlgorithm({"algorithm": name})) for name in SUPPORTED_HASHES
        }

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
        spec = SUPPORTED_HASHES.get(hash_algorithm)
        if spec is None:
            raise UnsupportedHashAlgorithmError(
                f"unsupported hash algorithm {hash_algorithm!r}; use sha256, sha384 or sha512"
            )
        _check_digest_length(digest, spec[1], hash_algorithm)
        imprint = tsp.MessageImprint(
            {
                "hash_algorithm": self._imprint_algorithms[hash_algorithm],
                "hashed_message": digest,
            }
        )
        return self._issue(
            imprint=imprint,
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
            self._check_policy(request.policy_oid)
        except TimestampRequestRejected as exc:
            return _rejection(exc.failure_info, exc.message)
        try:
            token = self._issue(
                imprint=request.imprint,
                hash_algorithm=request.hash_algorithm,
                digest=request.digest,
                serial=serials.next_serial(),
                nonce=request.nonce,
                include_certs=request.cert_req,
                policy_oid=request.policy_oid,
            )
            return _granted(token.der)
        except TimestampRequestRejected as exc:
            return _rejection(exc.failure_info, exc.message)
        except Exception:
            # The client must always receive a well-formed TimeStampResp; details of the
            # internal failure stay on the server side (the caller may log them).
            return _rejection("system_failure", "the time-stamp authority failed")

    def _check_policy(self, policy_oid: str | None) -> core.ObjectIdentifier:
        oid = self._default_policy if policy_oid is None else policy_oid
        policy = self._policies.get(oid)
        if policy is None:
            raise UnacceptedPolicyError(f"policy {oid} is not offered by this TSA")
        return policy

    def _issue(
        self,
        *,
        imprint: tsp.MessageImprint,
        hash_algorithm: str,
        digest: bytes,
        serial: int,
        nonce: int | None,
        include_certs: bool,
        policy_oid: str | None,
    ) -> IssuedToken:
        policy = self._check_policy(policy_oid)
        if not 0 < serial <= _MAX_SERIAL:
            raise TsaConfigurationError("serial numbers must be positive and at most 160 bits")
        now = self._clock.now()
        if now.tzinfo is None:
            raise TsaConfigurationError("the clock must return timezone-aware datetimes")
        now = now.astimezone(UTC)
        gen_time = now.replace(microsecond=now.microsecond - now.microsecond % 1000)

        tst_fields: dict[str, Any] = {
            "version": "v1",
            "policy": policy,
            "message_imprint": imprint,
            "serial_number": serial,
            "gen_time": gen_time,
        }
        if self._accuracy is not None:
            tst_fields["accuracy"] = self._accuracy
        if nonce is not None:
            tst_fields["nonce"] = nonce
        if self._tsa_name is not None:
            tst_fields["tsa"] = self._tsa_name
        tst_info = tsp.TSTInfo(tst_fields)
        tst_der = tst_info.dump()

        attrs = [
            self._content_type_attr,
            cms.CMSAttribute(
                {"type": "message_digest", "values": [hashlib.sha256(tst_der).digest()]}
            ),
            self._signing_certificate_attr,
        ]
        if self._include_signing_time:
            attrs.append(_signing_time_attr(gen_time))
        signed_attrs = cms.CMSAttributes(attrs)
        # The signature covers the attributes encoded as a SET (RFC 5652 §5.4), not with
        # the [0] IMPLICIT tag they carry inside SignerInfo.
        try:
            signature = self._signer.sign(signed_attrs.dump())
        except Exception as exc:
            raise TokenSigningError("the TSA signer failed to sign the token") from exc

        signer_info = cms.SignerInfo(
            {
                "version": "v1",
                "sid": self._sid,
                "digest_algorithm": self._digest_algorithm,
                "signed_attrs": signed_attrs,
                "signature_algorithm": self._signature_algorithm,
                "signature": signature,
            }
        )
        signed_data_fields: dict[str, Any] = {
            "version": "v3",
            "digest_algorithms": [self._digest_algorithm],
            "encap_content_info": {"content_type": "tst_info", "content": tst_info},
            "signer_infos": [signer_info],
        }
        if include_certs:
            signed_data_fields["certificates"] = self._certificates
        token = cms.ContentInfo(
            {"content_type": "signed_data", "content": cms.SignedData(signed_data_fields)}
        )
        return IssuedToken(
            der=token.dump(),
            serial=serial,
            gen_time=gen_time,
            hash_algorithm=hash_algorithm,
            digest=digest,
        )


def _frozen(value: _A) -> _A:
    """Re-parse a constructed value from its encoding.

    asn1crypto marks values built from Python data as mutated for good and re-encodes
    their whole subtree on every dump; a value loaded from bytes dumps by copying its
    cached encoding. Shared, certificate-derived parts go through here once.
    """
    return cast(_A, type(value).load(value.dump()))


def _signing_time_attr(instant: datetime) -> cms.CMSAttribute:
    whole_seconds = instant.replace(microsecond=0)
    if whole_seconds < _UTC_TIME_LIMIT:
        time = cms.Time(name="utc_time", value=whole_seconds)
    else:
        time = cms.Time(name="general_time", value=whole_seconds)
    return cms.CMSAttribute({"type": "signing_time", "values": [time]})


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
    # verifiers such as OpenSSL refuse anything else.
    if not isinstance(parameters, core.Void | core.Null):
        raise UnsupportedHashAlgorithmError("hash algorithm parameters must be absent or NULL")
    name, size = supported
    _check_digest_length(digest, size, name)
    if has_extensions:
        raise UnacceptedExtensionError("this TSA supports no request extensions")
    return _ValidRequest(
        imprint=imprint,
        hash_algorithm=name,
        digest=digest,
        nonce=nonce,
        cert_req=cert_req,
        policy_oid=policy_oid,
    )


def _granted(token_der: bytes) -> bytes:
    response = tsp.TimeStampResp(
        {
            "status": {"status": "granted"},
            "time_stamp_token": cms.ContentInfo.load(token_der),
        }
    )
    return bytes(response.dump())


def _rejection(failure_info: str, message: str) -> bytes:
    response = tsp.TimeStampResp(
        {
            "status": {
                "status": "rejection",
                "status_string": [message],
                "fail_info": {failure_info},
            }
        }
    )
    return bytes(response.dump())
