"""An httpx transport that only ever connects to addresses the egress policy vetted.

Checking a URL and then letting the HTTP stack resolve its host again leaves a gap: a
DNS server that answers with a public address for the check and a private one for the
connection (DNS rebinding) walks straight through. So each request, and therefore each
redirect hop, is resolved exactly once, by the policy; the transport then rewrites the
request to connect to the vetted IP literal, while the ``Host`` header keeps the original
name and, for https, the ``sni_hostname`` request extension makes the TLS handshake send
that name and verify the certificate against it. No second lookup ever happens.

Connection pools key connections by their target, which is now the IP: a connection
opened with one host's SNI and certificate could be reused for another name served from
the same address. Every request therefore asks for ``Connection: close`` and the pool
keeps no idle connections, so each request gets a connection of its own. A fresh TCP and
TLS handshake per request is a fair price for fetches of arbitrary user URLs.

Environment proxies are ignored (``trust_env=False``): a proxy would make the
connection, and its own resolution, out of the policy's reach.
"""

from __future__ import annotations

import ssl
from typing import Any

import httpx

from notarium.adapters.egress.policy import EgressPolicy, IPAddress

_NO_KEEPALIVE = httpx.Limits(max_connections=100, max_keepalive_connections=0)


class GuardedTransport(httpx.BaseTransport):
    def __init__(
        self,
        policy: EgressPolicy,
        *,
        https_only: bool = False,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self._policy = policy
        self._https_only = https_only
        self._inner = httpx.HTTPTransport(verify=verify, trust_env=False, limits=_NO_KEEPALIVE)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        destination = self._policy.vet(request.url, https_only=self._https_only)
        headers = request.headers.copy()
        headers["Connection"] = "close"
        extensions = dict(request.extensions)
        if request.url.scheme == "https":
            extensions["sni_hostname"] = destination.host
        *fallbacks, last = destination.addresses
        for address in fallbacks:
            try:
                return self._inner.handle_request(
                    self._pinned(request, address, headers, extensions)
                )
            except httpx.ConnectError:
                continue  # Nothing was sent yet, so the next vetted address may be tried.
        return self._inner.handle_request(self._pinned(request, last, headers, extensions))

    @staticmethod
    def _pinned(
        request: httpx.Request,
        address: IPAddress,
        headers: httpx.Headers,
        extensions: dict[str, Any],
    ) -> httpx.Request:
        return httpx.Request(
            request.method,
            request.url.copy_with(host=str(address)),
            headers=headers,
            stream=request.stream,
            extensions=extensions,
        )

    def close(self) -> None:
        self._inner.close()


def guarded_client(
    policy: EgressPolicy,
    *,
    timeout: float,
    https_only: bool = False,
    max_redirects: int = 3,
    follow_redirects: bool = True,
    verify: ssl.SSLContext | bool = True,
) -> httpx.Client:
    """An ``httpx.Client`` for user-supplied URLs.

    Redirects are followed up to ``max_redirects`` hops, each hop going through the
    transport and so vetted like the first request: the guard sits below the redirect
    logic, where no caller can step around it.
    """
    return httpx.Client(
        transport=GuardedTransport(policy, https_only=https_only, verify=verify),
        timeout=timeout,
        follow_redirects=follow_redirects,
        max_redirects=max_redirects,
        trust_env=False,
    )
