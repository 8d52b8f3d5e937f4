"""An external RFC 3161 time-stamp authority as an anchor.

A batch root stamped by a TSA the operator does not control shows that the root
existed at the TSA's genTime without trusting notarium's own clock or keys. The
token is verified completely before it is accepted, so that a broken or hostile
TSA cannot leave an unverifiable anchor in the database: what is stored is exactly
what an offline verifier will later check with
:func:`~notarium.formats.rfc3161.external.verify_external_token`.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from http import HTTPStatus
from typing import Final
from urllib.parse import urlsplit

import httpx
from asn1crypto import algos, core, tsp
from cryptography import x509

from notarium.core.errors import ConfigurationError, ProofVerificationError, ValidationError
from notarium.formats.rfc3161.asn1 import TimeStampResp
from notarium.formats.rfc3161.external import (
    IMPRINT_HASHES,
    ROOT_SIZE,
    expected_imprint,
    verify_parsed,
)
from notarium.formats.rfc3161.token import parse_timestamp_token
from notarium.ledger.anchoring.ports import AnchorState, AnchorUnavailable
from notarium.ledger.anchoring.transport import BoundedHttp

KIND: Final = "rfc3161"
#: A reply is a token plus a short certificate chain, a few KiB; the cap keeps a
#: misbehaving server from making the client buffer without bound.
MAX_RESPONSE_SIZE: Final = 256 * 1024
QUERY_CONTENT_TYPE: Final = "application/timestamp-query"
REPLY_CONTENT_TYPE: Final = "application/timestamp-reply"

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
        if hash_algorithm not in IMPRINT_HASHES:
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
            verify_parsed(token, root, self._trust_roots, ())
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
                "hashed_message": expected_imprint(root, self._hash_algorithm),
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
