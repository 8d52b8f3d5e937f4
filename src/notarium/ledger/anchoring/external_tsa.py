"""An external RFC 3161 time-stamp authority as an anchor.

A batch root stamped by a TSA the operator does not control shows that the root
existed at the TSA's genTime without trusting notarium's own clock or keys. The
token is verified completely before it is accepted, so that a broken or hostile
TSA cannot leave an unverifiable anchor in the database: what is stored is exactly
what an offline verifier will later check with :func:`verify_external_token`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from typing import Final
from urllib.parse import urlsplit

import httpx
from asn1crypto import algos, core, tsp
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from notarium.core.errors import ConfigurationError, ProofVerificationError, ValidationError
from notarium.formats.chain import validate_chain
from notarium.formats.errors import ChainValidationError, MalformedProofError, TokenBindingError
from notarium.formats.rfc3161.asn1 import TimeStampResp
from notarium.formats.rfc3161.token import (
    TimestampToken,
    check_tsa_certificate,
    parse_timestamp_token,
    verify_token_signature,
)
from notarium.ledger.anchoring.ports import AnchorState, AnchorUnavailable
from notarium.ledger.anchoring.transport import BoundedHttp

KIND: Final = "rfc3161"
ROOT_SIZE: Final = 32
#: A reply is a token plus a short certificate chain, a few KiB; the cap keeps a
#: misbehaving server from making the client buffer without bound.
MAX_RESPONSE_SIZE: Final = 256 * 1024
QUERY_CONTENT_TYPE: Final = "application/timestamp-query"
REPLY_CONTENT_TYPE: Final = "application/timestamp-reply"

#: SHA-256 stamps the root itself. A 32-byte root is not a SHA-384/512 digest, so for
#: those the imprint is that hash *of* the root, which still binds it.
_IMPRINT_HASHES: Final = frozenset({"sha256", "sha384", "sha512"})
_GRANTED: Final = frozenset({"granted", "granted_with_mods"})
_FAILURE_TEXT: Final = {
    "bad_alg": "badAlg (unrecognized or unsupported algorithm)",
    "bad_request": "badRequest (transaction not permitted or supported)",
    "bad_data_format": "badDataFormat (the data submitted has the wrong format)",
    "time_not_available": "timeNotAvailable (the TSA's time source is not available)",
    "unaccepted_policy": "unacceptedPolicy (the requested policy is not supported)",
    "unaccepted_extensions": "unacceptedExtension (the requested extension is not supported)",
    "add_info_not_available": "addInfoNotAvailable (the additional information is unavailable)",
    "system_failure": "systemFailure (the request cannot be handled due to system failure)",
}


class ExternalTsaConfigurationError(ConfigurationError):
    code = "ANCHOR_CONFIGURATION_ERROR"


class InvalidAnchorRootError(ValidationError):
    code = "INVALID_ANCHOR_ROOT"


def _check_root(root: bytes) -> None:
    if len(root) != ROOT_SIZE:
        raise InvalidAnchorRootError(
            f"an anchor root is a {ROOT_SIZE}-byte digest, got {len(root)} bytes"
        )


def _expected_imprint(root: bytes, hash_algorithm: str) -> bytes:
    if hash_algorithm == "sha256":
        return root
    return hashlib.new(hash_algorithm, root).digest()


def _check_binding(token: TimestampToken, root: bytes) -> None:
    if token.imprint_algorithm not in _IMPRINT_HASHES:
        raise TokenBindingError(
            f"the time-stamp token imprint uses {token.imprint_algorithm}; "
            "expected sha256, sha384 or sha512"
        )
    expected = _expected_imprint(root, token.imprint_algorithm)
    if not hmac.compare_digest(token.imprint, expected):
        raise TokenBindingError(
            f"the time-stamp token stamps {token.imprint_algorithm} imprint "
            f"{token.imprint.hex()}, not the anchored root {root.hex()}"
        )


def _verify_parsed(
    token: TimestampToken,
    root: bytes,
    trust_roots: Sequence[x509.Certificate],
    intermediates: Sequence[x509.Certificate],
) -> datetime:
    _check_binding(token, root)
    signer = verify_token_signature(token, intermediates)
    check_tsa_certificate(signer)
    validate_chain(signer, [*token.certificates, *intermediates], trust_roots, token.gen_time)
    return token.gen_time


def verify_external_token(
    token_der: bytes,
    root: bytes,
    trust_roots: Sequence[x509.Certificate],
    *,
    intermediates: Sequence[x509.Certificate] = (),
) -> datetime:
    """Check an anchor payload offline and return the genTime it proves.

    ``root`` must be what the token stamps (itself under SHA-256, its digest under
    SHA-384/512); the CMS signature, signing-certificate-v2, the TSA certificate's
    EKU and a path to ``trust_roots`` valid at genTime are all checked. Certificates
    the token does not embed may be passed as ``intermediates``. Raises a
    :class:`~notarium.core.errors.ProofVerificationError` subclass.
    """
    if len(root) != ROOT_SIZE:
        raise MalformedProofError(
            f"an anchor root is a {ROOT_SIZE}-byte digest, got {len(root)} bytes"
        )
    return _verify_parsed(parse_timestamp_token(token_der), root, trust_roots, intermediates)


@dataclass(frozen=True)
class ExternalTokenCheck:
    """An external token that verified against the chain shipped with it."""

    gen_time: datetime
    signer: x509.Certificate
    path: tuple[x509.Certificate, ...]
    """Signer first, root last."""
    trusted: bool
    """Whether the path ends at one of the verifier's own roots; if not, the token is
    intact but vouched for only by a root the verifier has not chosen to trust."""


class UnusedAnchorCertificateError(ProofVerificationError):
    code = "ANCHOR_INVALID"


def _self_issued(cert: x509.Certificate) -> bool:
    return cert.subject == cert.issuer


def check_external_anchor(
    token_der: bytes,
    subject: bytes,
    chain: Sequence[x509.Certificate],
    trust_roots: Sequence[x509.Certificate],
) -> ExternalTokenCheck:
    """Verify an external token with the certificate chain shipped beside it.

    The token must bind ``subject``, carry a valid CMS signature by a time-stamping
    certificate, and that certificate must chain, at genTime, through the token's and
    ``chain``'s certificates to a root: one of ``trust_roots`` (``trusted``), or else a
    self-issued certificate of ``chain`` itself. Every shipped certificate must lie on
    that path. A token whose root the verifier does not know is therefore reported,
    not refused, while a token altered in any way still fails.
    """
    if len(subject) != ROOT_SIZE:
        raise MalformedProofError(
            f"an anchor subject is a {ROOT_SIZE}-byte digest, got {len(subject)} bytes"
        )
    token = parse_timestamp_token(token_der)
    _check_binding(token, subject)
    signer = verify_token_signature(token, chain)
    check_tsa_certificate(signer)
    trusted_der = {root.public_bytes(Encoding.DER) for root in trust_roots}
    shipped_roots = [c for c in chain if _self_issued(c)]
    candidates = [*token.certificates, *chain]
    try:
        path = validate_chain(signer, candidates, trust_roots, token.gen_time)
    except ChainValidationError:
        if not shipped_roots:
            raise
        path = validate_chain(signer, candidates, shipped_roots, token.gen_time)
    used = {cert.public_bytes(Encoding.DER) for cert in path}
    for cert in candidates:
        if cert.public_bytes(Encoding.DER) not in used:
            raise UnusedAnchorCertificateError(
                f"the anchor carries a certificate its chain does not use "
                f"({cert.subject.rfc4514_string()})"
            )
    return ExternalTokenCheck(
        gen_time=token.gen_time,
        signer=signer,
        path=tuple(path),
        trusted=path[-1].public_bytes(Encoding.DER) in trusted_der,
    )


def external_chain(
    token_der: bytes, trust_roots: Sequence[x509.Certificate]
) -> list[x509.Certificate]:
    """The path from a stored token's signer up to the operator's root for that TSA, to
    ship beside the token: a verifier without that root can then still check the token
    is intact. Empty if no path can be built (the roots were reconfigured since)."""
    try:
        token = parse_timestamp_token(token_der)
        signer = verify_token_signature(token, ())
        return list(validate_chain(signer, token.certificates, trust_roots, token.gen_time))
    except ProofVerificationError:
        return []


def _failure_text(status_info: tsp.PKIStatusInfo) -> str:
    parts: list[str] = []
    strings = status_info["status_string"].native
    if strings:
        parts.append("; ".join(str(s) for s in strings))
    failures = status_info["fail_info"].native
    if failures:
        named = [_FAILURE_TEXT.get(str(f), str(f)) for f in sorted(map(str, failures))]
        parts.append("failInfo " + ", ".join(named))
    return " — ".join(parts) if parts else "no status text or failInfo given"


class ExternalTsaAnchor:
    """Stamps batch roots at a remote RFC 3161 TSA; a token is complete on arrival."""

    def __init__(
        self,
        url: str,
        trust_roots: Sequence[x509.Certificate],
        *,
        hash_algorithm: str = "sha256",
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        policy_oid: str | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ExternalTsaConfigurationError(
                f"the TSA URL must be an absolute http(s) URL, got {url!r}"
            )
        if not trust_roots:
            raise ExternalTsaConfigurationError(
                f"no trust roots were given for the TSA at {url}; its tokens could not be verified"
            )
        if hash_algorithm not in _IMPRINT_HASHES:
            raise ExternalTsaConfigurationError(
                f"unsupported imprint hash {hash_algorithm!r}; use sha256, sha384 or sha512"
            )
        if timeout <= 0:
            raise ExternalTsaConfigurationError("the TSA timeout must be positive")
        if policy_oid is not None:
            try:
                core.ObjectIdentifier(policy_oid).dump()
            except (ValueError, TypeError) as exc:
                raise ExternalTsaConfigurationError(
                    f"invalid TSA policy OID {policy_oid!r}"
                ) from exc
        self._url = url
        self._trust_roots = tuple(trust_roots)
        self._hash_algorithm = hash_algorithm
        self._timeout = timeout
        self._transport = transport
        self._policy_oid = policy_oid

    @property
    def name(self) -> str:
        return f"{KIND}:{self._url}"

    @property
    def kind(self) -> str:
        return KIND

    @property
    def url(self) -> str:
        return self._url

    def submit(self, root: bytes) -> AnchorState:
        """Obtain and fully verify a token for ``root``; one attempt, no retries."""
        _check_root(root)
        nonce = secrets.randbits(64) or 1
        reply = self._post(self._request(root, nonce))
        token_der = self._token_from(reply)
        try:
            token = parse_timestamp_token(token_der)
        except ProofVerificationError as exc:
            raise AnchorUnavailable(
                f"the TSA at {self._url} returned an unreadable token: {exc.message}"
            ) from exc
        if token.nonce != nonce:
            raise AnchorUnavailable(
                f"the TSA at {self._url} did not echo the request nonce "
                f"(sent {nonce}, got {token.nonce}); the reply may be replayed"
            )
        if token.imprint_algorithm != self._hash_algorithm:
            raise AnchorUnavailable(
                f"the TSA at {self._url} stamped a {token.imprint_algorithm} imprint, "
                f"{self._hash_algorithm} was requested"
            )
        if self._policy_oid is not None and token.policy != self._policy_oid:
            raise AnchorUnavailable(
                f"the TSA at {self._url} issued the token under policy {token.policy}, "
                f"{self._policy_oid} was requested"
            )
        try:
            _verify_parsed(token, root, self._trust_roots, ())
        except ProofVerificationError as exc:
            raise AnchorUnavailable(
                f"the token from the TSA at {self._url} failed verification: {exc.message}"
            ) from exc
        return AnchorState(payload=token_der, complete=True)

    def upgrade(self, root: bytes, state: AnchorState) -> AnchorState:
        """A token is final when issued; there is nothing to poll for."""
        return state

    def _request(self, root: bytes, nonce: int) -> bytes:
        fields: dict[str, object] = {
            "version": "v1",
            "message_imprint": {
                "hash_algorithm": algos.DigestAlgorithm({"algorithm": self._hash_algorithm}),
                "hashed_message": _expected_imprint(root, self._hash_algorithm),
            },
            "nonce": nonce,
            "cert_req": True,
        }
        if self._policy_oid is not None:
            fields["req_policy"] = self._policy_oid
        return bytes(tsp.TimeStampReq(fields).dump())

    def _post(self, body: bytes) -> bytes:
        status, reply = BoundedHttp(
            f"the TSA at {self._url}", self._timeout, MAX_RESPONSE_SIZE, self._transport
        ).exchange(
            "POST",
            self._url,
            content=body,
            headers={"Content-Type": QUERY_CONTENT_TYPE, "Accept": REPLY_CONTENT_TYPE},
        )
        if status != 200:
            try:
                phrase = HTTPStatus(status).phrase
            except ValueError:
                phrase = ""
            raise AnchorUnavailable(
                f"the TSA at {self._url} answered HTTP {status} {phrase}".rstrip()
            )
        return reply

    def _token_from(self, reply: bytes) -> bytes:
        try:
            response = TimeStampResp.load(reply, strict=True)
            status_info = response["status"]
            status = status_info["status"].native
            token = response["time_stamp_token"]
            # Walk the status now so that a broken encoding surfaces here, not later.
            status_info.native  # noqa: B018
        except (ValueError, TypeError, KeyError) as exc:
            raise AnchorUnavailable(
                f"the TSA at {self._url} answered with something that is not an RFC 3161 "
                f"TimeStampResp ({len(reply)} bytes, starting {reply[:16].hex() or 'empty'})"
            ) from exc
        if status not in _GRANTED:
            raise AnchorUnavailable(
                f"the TSA at {self._url} refused the request with status {status}: "
                f"{_failure_text(status_info)}"
            )
        if isinstance(token, core.Void):
            raise AnchorUnavailable(
                f"the TSA at {self._url} granted the request but sent no time-stamp token"
            )
        return bytes(token.dump())
