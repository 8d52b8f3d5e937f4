"""One bounded HTTP exchange with a remote anchor (calendar, node, time-stamp authority):
never more than ``max_size`` bytes read nor ``timeout`` seconds spent in all, and every
failure an ``AnchorUnavailable`` that names the party, so the caller simply retries."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from notarium.ledger.anchoring.ports import AnchorUnavailable


@dataclass(frozen=True)
class BoundedHttp:
    who: str
    """How messages name the remote party, e.g. ``the calendar at https://…``."""
    timeout: float
    max_size: int
    transport: httpx.BaseTransport | None = None

    def exchange(
        self,
        method: str,
        url: str | httpx.URL,
        *,
        headers: Mapping[str, str],
        content: bytes | None = None,
        auth: httpx.Auth | tuple[str, str] | None = None,
    ) -> tuple[int, bytes]:
        # A client per call: calls are far apart, and a caller-supplied transport must
        # outlive this call, so only a client that built its own is closed.
        client = httpx.Client(
            transport=self.transport, timeout=self.timeout, follow_redirects=False
        )
        deadline = time.monotonic() + self.timeout
        try:
            with client.stream(
                method, url, content=content, headers=dict(headers), auth=auth
            ) as response:
                declared = response.headers.get("Content-Length", "")
                if declared.isdigit() and int(declared) > self.max_size:
                    raise AnchorUnavailable(
                        f"{self.who} sent a {declared}-byte answer, more than the "
                        f"{self.max_size} bytes allowed"
                    )
                received = bytearray()
                for chunk in response.iter_bytes():
                    received += chunk
                    if len(received) > self.max_size:
                        raise AnchorUnavailable(
                            f"{self.who} sent an answer larger than the {self.max_size} "
                            "bytes allowed"
                        )
                    # The read timeout is per chunk; a trickle must not run on forever.
                    if time.monotonic() > deadline:
                        raise AnchorUnavailable(
                            f"{self.who} did not finish answering within {self.timeout:g} s"
                        )
                return response.status_code, bytes(received)
        except httpx.TimeoutException as exc:
            raise AnchorUnavailable(
                f"{self.who} did not answer within {self.timeout:g} s: {type(exc).__name__}"
            ) from exc
        except httpx.HTTPError as exc:
            raise AnchorUnavailable(
                f"{self.who} could not be reached: {type(exc).__name__}: {exc}"
            ) from exc
        finally:
            if self.transport is None:
                client.close()
