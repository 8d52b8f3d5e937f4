"""LND over its v1 REST API (the grpc-gateway LND serves beside gRPC).

- ``POST /v1/invoices`` ``{"value", "memo", "expiry"}`` → ``r_hash`` (base64),
  ``payment_request``, ``add_index``;
- ``GET /v1/invoice/{r_hash_str}`` (hex) → the invoice with ``state`` ``OPEN``,
  ``ACCEPTED``, ``SETTLED`` or ``CANCELED``, ``settle_date``, ``amt_paid_sat``;
- ``GET /v1/invoices/subscribe`` → newline-delimited ``{"result": {...invoice}}``
  objects, one per invoice update, for as long as the connection lasts.

Every request carries the macaroon as ``Grpc-Metadata-macaroon: <hex>``. The node's TLS
certificate (self-signed, covering localhost and 127.0.0.1) is the only trust anchor
when one is configured. Whatever goes wrong on the way (refused connection, TLS
failure, rejected macaroon, a 5xx, a body that is not the expected JSON, an invoice that
does not match what was asked for) becomes :class:`LightningUnavailable`; a lookup of a
hash the node does not know becomes :class:`UnknownInvoice`.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import socket
import ssl
import string
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import httpx

from notarium.adapters.lightning.invoices import (
    MalformedInvoice,
    check_invoice_request,
    decode_invoice,
    normalise_payment_hash,
)
from notarium.adapters.lightning.ports import (
    Invoice,
    InvoiceState,
    LightningUnavailable,
    UnknownInvoice,
)
from notarium.core.errors import ConfigurationError

MACAROON_HEADER: Final = "Grpc-Metadata-macaroon"
DEFAULT_TIMEOUT: Final = 10.0
#: An idle subscription is re-opened after this long, so a connection that died without
#: a word (a NAT dropping it, a node rebooted) is noticed; nothing is lost because the
#: new subscription resumes after the last settle index seen.
DEFAULT_STREAM_IDLE_TIMEOUT: Final = 300.0
#: Older LND versions answer a lookup of an unknown hash with HTTP 500 and these words
#: (gRPC code 2) instead of 404 (gRPC NotFound).
_NOT_FOUND_MESSAGES: Final = ("unable to locate invoice", "there are no existing invoices")
#: LND rejects a missing or wrong macaroon, or one without the invoice permissions, with
#: HTTP 500 and gRPC code 2, not 401.
_MACAROON_MESSAGES: Final = ("macaroon", "verification failed", "permission denied")


class LndConfigurationError(ConfigurationError):
    code = "LND_CONFIGURATION_ERROR"


class LndRestBackend:
    """``LndRestBackend("https://127.0.0.1:8080", macaroon=b"...", tls_cert_pem=b"...")``;
    :meth:`from_files` reads the macaroon and certificate from LND's files."""

    def __init__(
        self,
        rest_url: str,
        *,
        macaroon: bytes | None,
        tls_cert_pem: bytes | None,
        timeout: float = DEFAULT_TIMEOUT,
        stream_idle_timeout: float = DEFAULT_STREAM_IDLE_TIMEOUT,
    ) -> None:
        try:
            url = httpx.URL(rest_url)
        except httpx.InvalidURL as exc:
            raise LndConfigurationError(f"invalid LND REST URL: {exc}") from exc
        if url.scheme != "https" or not url.host:
            raise LndConfigurationError(
                "the LND REST URL must be an absolute https URL (LND serves REST over TLS)"
            )
        if url.userinfo:
            raise LndConfigurationError("the LND REST URL must not carry credentials")
        if timeout <= 0 or stream_idle_timeout <= 0:
            raise LndConfigurationError("LND timeouts must be positive")
        self._url = str(url).rstrip("/")
        self._timeout = timeout
        self._stream_idle_timeout = stream_idle_timeout
        self._verify = _tls_context(tls_cert_pem)
        self._headers = {MACAROON_HEADER: macaroon.hex()} if macaroon else {}
        self._client = self._new_client(httpx.Timeout(timeout))
        self._closed = threading.Event()
        self._streams_lock = threading.Lock()
        self._streams: set[httpx.Response] = set()
        self._settle_index = 0

    @classmethod
    def from_files(
        cls,
        rest_url: str,
        *,
        macaroon_path: Path | None,
        tls_cert_path: Path | None,
        timeout: float = DEFAULT_TIMEOUT,
        stream_idle_timeout: float = DEFAULT_STREAM_IDLE_TIMEOUT,
    ) -> LndRestBackend:
        """``macaroon_path`` is LND's binary ``invoice.macaroon`` (or a file holding its
        hex); ``tls_cert_path`` is LND's ``tls.cert``."""
        macaroon = _read_macaroon(macaroon_path) if macaroon_path else None
        cert = _read_file(tls_cert_path, "LND TLS certificate") if tls_cert_path else None
        return cls(
            rest_url,
            macaroon=macaroon,
            tls_cert_pem=cert,
            timeout=timeout,
            stream_idle_timeout=stream_idle_timeout,
        )

    @property
    def name(self) -> str:
        return "lnd"

    @property
    def url(self) -> str:
        return self._url

    # -- LightningBackend -----------------------------------------------------------

    def create_invoice(self, amount_sats: int, memo: str, expiry_seconds: int) -> Invoice:
        check_invoice_request(amount_sats, memo, expiry_seconds)
        # grpc-gateway writes 64-bit integers as JSON strings, and reads either.
        reply = self._call(
            "POST",
            "/v1/invoices",
            body={"value": str(amount_sats), "memo": memo, "expiry": str(expiry_seconds)},
        )
        r_hash = _bytes_field(reply, "r_hash")
        payment_request = reply.get("payment_request")
        if len(r_hash) != 32 or not isinstance(payment_request, str):
            raise self._nonsense("the new invoice has no 32-byte r_hash or no payment_request")
        try:
            decoded = decode_invoice(payment_request)
        except MalformedInvoice as exc:
            raise self._nonsense(f"the new invoice does not decode: {exc.message}") from exc
        if decoded.payment_hash != r_hash.hex():
            raise self._nonsense(
                f"the payment request's hash {decoded.payment_hash} is not r_hash {r_hash.hex()}"
            )
        if decoded.amount_msat != amount_sats * 1000:
            raise self._nonsense(
                f"the payment request is for {decoded.amount_msat} msat, not {amount_sats} sat"
            )
        return Invoice(
            payment_request=payment_request,
            payment_hash=decoded.payment_hash,
            amount_sats=amount_sats,
            memo=decoded.memo,
            created_at=decoded.created_at,
            expires_at=decoded.expires_at,
        )

    def lookup_invoice(self, payment_hash: str) -> InvoiceState:
        normalised = normalise_payment_hash(payment_hash)
        if normalised is None:
            raise UnknownInvoice(f"{payment_hash!r} is not a payment hash (64 hex digits)")
        reply = self._call(
            "GET",
            f"/v1/invoice/{normalised}",
            not_found=UnknownInvoice(f"LND has no invoice with payment hash {normalised}"),
        )
        state = self._state(reply)
        if state.payment_hash != normalised:
            raise self._nonsense(f"asked for invoice {normalised}, got {state.payment_hash}")
        return state

    def settlements(self) -> Iterator[InvoiceState]:
        """Follows ``/v1/invoices/subscribe`` until :meth:`close`; raises
        :class:`LightningUnavailable` when the subscription fails. Calling it again
        resumes after the last settlement this backend saw, so none is missed."""
        while not self._closed.is_set():
            yield from self._subscription()

    def close(self) -> None:
        self._closed.set()
        with self._streams_lock:
            streams = list(self._streams)
        for response in streams:
            _interrupt(response)
        self._client.close()

    # -- requests -------------------------------------------------------------------

    def _new_client(self, timeout: httpx.Timeout) -> httpx.Client:
        # trust_env=False: no proxy from the environment ever sees the macaroon.
        return httpx.Client(
            base_url=self._url,
            verify=self._verify,
            timeout=timeout,
            headers=self._headers,
            trust_env=False,
        )

    def _call(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        not_found: UnknownInvoice | None = None,
    ) -> dict[str, Any]:
        if self._closed.is_set():
            raise LightningUnavailable("the LND backend has been closed")
        try:
            response = self._client.request(method, path, json=body)
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from exc
        except RuntimeError as exc:  # the client was closed under us
            raise LightningUnavailable(f"the LND backend has been closed: {exc}") from exc
        if response.status_code >= 400:
            raise self._refusal(method, path, response.status_code, response.content, not_found)
        return self._json_object(response.content, f"{method} {path}")

    def _subscription(self) -> Iterator[InvoiceState]:
        params = {"settle_index": str(self._settle_index)} if self._settle_index else None
        client = self._new_client(httpx.Timeout(self._timeout, read=self._stream_idle_timeout))
        path = "/v1/invoices/subscribe"
        try:
            with client.stream("GET", path, params=params) as response:
                with self._streams_lock:
                    self._streams.add(response)
                try:
                    if self._closed.is_set():
                        return
                    if response.status_code >= 400:
                        raise self._refusal("GET", path, response.status_code, response.read())
                    for line in response.iter_lines():
                        if not line.strip():
                            continue
                        state = self._update(line)
                        if state is not None:
                            yield state
                finally:
                    with self._streams_lock:
                        self._streams.discard(response)
        except httpx.ReadTimeout:
            return  # idle: the caller's loop subscribes again
        except httpx.HTTPError as exc:
            if self._closed.is_set():
                return
            raise self._unreachable(exc) from exc
        finally:
            client.close()
        if not self._closed.is_set():
            raise LightningUnavailable(f"LND at {self._url} ended the invoice subscription")

    def _update(self, line: str) -> InvoiceState | None:
        message = self._json_object(line.encode(), "the invoice subscription")
        if "error" in message:
            raise LightningUnavailable(
                f"LND at {self._url} failed the invoice subscription: "
                f"{_message_of(message['error'])}"
            )
        invoice = message.get("result")
        if not isinstance(invoice, dict):
            raise self._nonsense("a subscription update has no result object")
        state = self._state(invoice)
        if state.settled:
            index = _int_field(invoice, "settle_index", default=0)
            self._settle_index = max(self._settle_index, index)
            return state
        return None

    # -- answers --------------------------------------------------------------------

    def _state(self, invoice: dict[str, Any]) -> InvoiceState:
        payment_hash = _bytes_field(invoice, "r_hash")
        if len(payment_hash) != 32:
            raise self._nonsense("an invoice has no 32-byte r_hash")
        state = invoice.get("state")
        if state is None:
            # Nodes older than 0.7 only have the boolean.
            state = "SETTLED" if invoice.get("settled") is True else "OPEN"
        if state not in ("OPEN", "ACCEPTED", "SETTLED", "CANCELED"):
            raise self._nonsense(f"an invoice is in unknown state {state!r}")
        settled = state == "SETTLED"
        try:
            settle_date = _int_field(invoice, "settle_date", default=0)
            paid = _int_field(invoice, "amt_paid_sat", default=0)
        except ValueError as exc:
            raise self._nonsense(str(exc)) from exc
        return InvoiceState(
            payment_hash=payment_hash.hex(),
            settled=settled,
            settled_at=datetime.fromtimestamp(settle_date, UTC)
            if settled and settle_date
            else None,
            amount_paid_sats=paid if settled else None,
            canceled=state == "CANCELED",
        )

    def _json_object(self, content: bytes, what: str) -> dict[str, Any]:
        try:
            value = json.loads(content)
        except ValueError as exc:
            raise self._nonsense(f"{what} answered with something that is not JSON") from exc
        if not isinstance(value, dict):
            raise self._nonsense(f"{what} answered with JSON that is not an object")
        return value

    def _refusal(
        self,
        method: str,
        path: str,
        status: int,
        content: bytes,
        not_found: UnknownInvoice | None = None,
    ) -> Exception:
        message = _error_message(content)
        lowered = message.lower()
        if not_found is not None and (
            status == 404 or any(words in lowered for words in _NOT_FOUND_MESSAGES)
        ):
            return not_found
        if status in (401, 403) or any(words in lowered for words in _MACAROON_MESSAGES):
            return LightningUnavailable(
                f"LND at {self._url} refused the macaroon (HTTP {status}): {message}; check "
                "NOTARIUM_LND_MACAROON_PATH (an invoice or admin macaroon of this node)"
            )
        return LightningUnavailable(
            f"LND at {self._url} answered HTTP {status} to {method} {path}: {message}"
        )

    def _unreachable(self, exc: httpx.HTTPError) -> LightningUnavailable:
        if _is_certificate_failure(exc):
            return LightningUnavailable(
                f"LND at {self._url} did not present a certificate that checks out against "
                f"the configured one (NOTARIUM_LND_TLS_CERT_PATH): {exc}"
            )
        if isinstance(exc, httpx.TimeoutException):
            return LightningUnavailable(f"LND at {self._url} did not answer in time: {exc}")
        return LightningUnavailable(f"cannot reach LND at {self._url}: {exc}")

    def _nonsense(self, detail: str) -> LightningUnavailable:
        return LightningUnavailable(f"LND at {self._url} answered nonsense: {detail}")


def _tls_context(cert_pem: bytes | None) -> ssl.SSLContext | bool:
    if cert_pem is None:
        return True
    try:
        # cadata alone: the node's own certificate is the only trust anchor, and the
        # system's CAs play no part.
        return ssl.create_default_context(cadata=cert_pem.decode("ascii"))
    except (ssl.SSLError, UnicodeDecodeError, ValueError) as exc:
        raise LndConfigurationError(
            f"the LND TLS certificate is not a PEM certificate: {exc}"
        ) from exc


def _read_file(path: Path, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise LndConfigurationError(f"cannot read the {what} {path}: {exc}") from exc


def _read_macaroon(path: Path) -> bytes:
    data = _read_file(path, "LND macaroon")
    text = data.strip()
    # A binary macaroon starts with a version byte (2) that is never a hex digit, so a
    # file of hex digits is one already hex-encoded (as some tools export it).
    if text and all(chr(c) in string.hexdigits for c in text):
        try:
            return binascii.unhexlify(text)
        except binascii.Error as exc:
            raise LndConfigurationError(f"the LND macaroon {path} is odd-length hex") from exc
    if not data:
        raise LndConfigurationError(f"the LND macaroon {path} is empty")
    return data


def _bytes_field(obj: dict[str, Any], name: str) -> bytes:
    value = obj.get(name)
    if not isinstance(value, str):
        return b""
    try:
        # grpc-gateway writes bytes as standard base64; accept the URL-safe alphabet too.
        return base64.b64decode(value.replace("-", "+").replace("_", "/"), validate=True)
    except binascii.Error:
        return b""


def _int_field(obj: dict[str, Any], name: str, *, default: int) -> int:
    value = obj.get(name, default)
    if isinstance(value, bool):
        raise ValueError(f"{name} is not an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    raise ValueError(f"{name} is not an integer: {value!r}")


def _message_of(error: object) -> str:
    if isinstance(error, dict):
        for key in ("message", "error"):
            if isinstance(error.get(key), str):
                return str(error[key])
    return str(error)[:200]


def _error_message(content: bytes) -> str:
    try:
        body = json.loads(content)
    except ValueError:
        return content[:200].decode("utf-8", "replace").strip() or "(empty body)"
    return _message_of(body.get("error", body) if isinstance(body, dict) else body)


def _is_certificate_failure(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return "CERTIFICATE_VERIFY_FAILED" in str(exc)


def _interrupt(response: httpx.Response) -> None:
    """Wake a thread blocked reading ``response``: shutting the socket down makes its
    read return at once, where closing it from another thread would not."""
    stream = response.extensions.get("network_stream")
    sock = stream.get_extra_info("socket") if stream is not None else None
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
