"""An OpenTimestamps calendar as an anchor.

``submit`` posts the batch root to the calendar, which answers at once with a
timestamp ending in a pending attestation; hours later the calendar has put an
aggregate of many such commitments into a Bitcoin transaction and ``upgrade`` can
fetch the rest of the path, down to a Bitcoin block header attestation.

The payload is the serialised OpenTimestamps timestamp starting from the root, so
every calendar's payload can be merged under a record's path to make its ``.ots``
file (:func:`notarium.formats.ots.build_detached`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final
from urllib.parse import urlsplit

import httpx
from opentimestamps.calendar import DEFAULT_CALENDAR_WHITELIST, UrlWhitelist
from opentimestamps.core.notary import PendingAttestation
from opentimestamps.core.timestamp import Timestamp

from notarium.core.errors import ConfigurationError, ValidationError
from notarium.formats.ots import (
    MalformedOtsError,
    bitcoin_attestations,
    nodes_for,
    parse_timestamp,
    pending_attestations,
    serialize_timestamp,
)
from notarium.ledger.anchoring.ports import AnchorState, AnchorUnavailable
from notarium.ledger.anchoring.transport import BoundedHttp

KIND: Final = "ots"
ROOT_SIZE: Final = 32
ACCEPT: Final = "application/vnd.opentimestamps.v1"
USER_AGENT: Final = "notarium"
#: The reference client's limit: calendar answers are a few hundred bytes.
MAX_RESPONSE_SIZE: Final = 10_000
#: A calendar names one pending commitment, a pool a handful; more would be a
#: calendar making this client do its bidding, so only the first few are asked.
MAX_POLLS_PER_UPGRADE: Final = 8
#: A complete timestamp from one calendar is well under 2 KiB.
MAX_PAYLOAD_SIZE: Final = 64 * 1024


class OtsConfigurationError(ConfigurationError):
    code = "ANCHOR_CONFIGURATION_ERROR"


class InvalidOtsRootError(ValidationError):
    code = "INVALID_ANCHOR_ROOT"


class CorruptOtsPayloadError(ValidationError):
    """A stored payload that this anchor never wrote: the database was altered."""

    code = "INVALID_ANCHOR_PAYLOAD"


def _normalise(url: str) -> str:
    return url.rstrip("/")


class OtsCalendarAnchor:
    """One OpenTimestamps calendar (or aggregation pool) as an anchor.

    Upgrades are fetched from each pending attestation's calendar: this calendar
    itself, or another one the answer names if it matches ``calendar_whitelist``
    (glob patterns as the ``ots`` client takes them; by default the public calendars
    the ``ots`` client trusts). Pools such as ``a.pool.opentimestamps.org`` answer
    with attestations naming the calendar they forward to, so without following
    them their timestamps would never complete. URIs outside the whitelist are never
    contacted.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        calendar_whitelist: Iterable[str] | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise OtsConfigurationError(
                f"a calendar URL must be an absolute http(s) URL, got {url!r}"
            )
        if parts.query or parts.fragment or parts.username or parts.password:
            raise OtsConfigurationError(
                f"a calendar URL has no query, fragment or credentials, got {url!r}"
            )
        if timeout <= 0:
            raise OtsConfigurationError("the calendar timeout must be positive")
        self._url = _normalise(url)
        self._timeout = timeout
        self._transport = transport
        if calendar_whitelist is None:
            self._whitelist = DEFAULT_CALENDAR_WHITELIST
        else:
            self._whitelist = UrlWhitelist(calendar_whitelist)

    @property
    def name(self) -> str:
        return f"{KIND}:{self._url}"

    @property
    def kind(self) -> str:
        return KIND

    @property
    def url(self) -> str:
        return self._url

    # -- the protocol ------------------------------------------------------------------

    def submit(self, root: bytes) -> AnchorState:
        """Post ``root`` to the calendar; one attempt. The state is normally pending."""
        if len(root) != ROOT_SIZE:
            raise InvalidOtsRootError(
                f"an anchor root is a {ROOT_SIZE}-byte digest, got {len(root)} bytes"
            )
        status, body = self._request("POST", self._url, "/digest", content=root)
        if status != 200:
            raise AnchorUnavailable(
                f"the calendar at {self._url} answered HTTP {status} to a submission"
                f"{_excerpt(body)}"
            )
        # Every branch of a parsed timestamp ends in an attestation, so a pending one
        # (or, from an unusual calendar, a finished one) is always there.
        return _state(self._parse(body, root, self._url))

    def upgrade(self, root: bytes, state: AnchorState) -> AnchorState:
        """Ask each pending attestation's calendar once for the rest of its path.

        The state comes back unchanged while every calendar still answers 404.
        Attestations that were fetched are merged in, and the pending attestation they
        resolve is dropped once a Bitcoin attestation stands in its place. A failure
        raises :class:`AnchorUnavailable` unless another calendar already made
        progress in this call, which is then returned instead.
        """
        if state.complete:
            return state
        try:
            timestamp = parse_timestamp(state.payload, root)
        except MalformedOtsError as exc:
            raise CorruptOtsPayloadError(
                f"the stored payload of {self.name} is not a timestamp from root "
                f"{root.hex()}: {exc.message}"
            ) from exc
        failure: AnchorUnavailable | None = None
        polls = 0
        for commitment, uri in pending_attestations(timestamp):
            base = self._calendar_for(uri)
            if base is None:
                continue
            polls += 1
            if polls > MAX_POLLS_PER_UPGRADE:
                break
            try:
                upgraded = self._fetch(base, commitment)
            except AnchorUnavailable as exc:
                failure = failure or exc
                continue
            if upgraded is None:
                continue
            for node in nodes_for(timestamp, commitment):
                node.merge(upgraded)
                if bitcoin_attestations(node):
                    node.attestations.discard(PendingAttestation(uri))
        result = _state(timestamp)
        if len(result.payload) > MAX_PAYLOAD_SIZE:
            raise AnchorUnavailable(
                f"the answers of the calendar at {self._url} grew the timestamp to "
                f"{len(result.payload)} bytes, more than the {MAX_PAYLOAD_SIZE} allowed"
            )
        if result.payload == state.payload and failure is not None:
            raise failure
        # Derived afresh even when nothing was fetched: a caller may hand back a stored
        # payload that is already complete without saying so.
        return state if result == state else result

    # -- helpers -----------------------------------------------------------------------

    def _calendar_for(self, uri: str) -> str | None:
        if _normalise(uri) == self._url:
            return self._url
        try:
            allowed = uri in self._whitelist
        except ValueError:
            return None
        return _normalise(uri) if allowed else None

    def _fetch(self, base: str, commitment: bytes) -> Timestamp | None:
        status, body = self._request("GET", base, f"/timestamp/{commitment.hex()}")
        if status == 404:
            return None
        if status != 200:
            raise AnchorUnavailable(
                f"the calendar at {base} answered HTTP {status} to an upgrade request"
                f"{_excerpt(body)}"
            )
        return self._parse(body, commitment, base)

    def _parse(self, body: bytes, msg: bytes, base: str) -> Timestamp:
        try:
            return parse_timestamp(body, msg)
        except MalformedOtsError as exc:
            raise AnchorUnavailable(
                f"the calendar at {base} answered something that is not a timestamp for "
                f"{msg.hex()} ({len(body)} bytes): {exc.message}"
            ) from exc

    def _request(
        self, method: str, base: str, path: str, *, content: bytes | None = None
    ) -> tuple[int, bytes]:
        return BoundedHttp(
            f"the calendar at {base}", self._timeout, MAX_RESPONSE_SIZE, self._transport
        ).exchange(
            method,
            base + path,
            content=content,
            headers={"Accept": ACCEPT, "User-Agent": USER_AGENT},
        )


def _state(timestamp: Timestamp) -> AnchorState:
    payload = serialize_timestamp(timestamp)
    attested = bitcoin_attestations(timestamp)
    if not attested:
        return AnchorState(payload=payload, complete=False)
    attestation, txid = attested[0]
    return AnchorState(
        payload=payload,
        complete=True,
        bitcoin_txid=txid,
        bitcoin_height=attestation.height,
    )


def _excerpt(body: bytes) -> str:
    """A calendar's error text, printable characters only, as the ``ots`` client shows it."""
    text = "".join(c if c.isprintable() else "_" for c in body[:160].decode("utf-8", "replace"))
    return f": {text}" if text.strip() else ""
