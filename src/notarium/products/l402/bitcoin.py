"""What the endpoint asks the operator's Bitcoin node, when the Bitcoin anchor is
configured: a fee estimate for pricing and the chain's height for confirmation counts.
Both are cached briefly, so requests do not each cost an RPC round trip, and a node
that fails to answer never fails a request: pricing falls back to the configured rate
and confirmations go unreported."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from notarium.core.errors import NotariumError

log = logging.getLogger("notarium.products.l402")

SATS_PER_BTC = 100_000_000


class Rpc(Protocol):
    def call(self, method: str, *params: Any) -> Any: ...


class ChainTip(Protocol):
    def height(self) -> int | None:
        """The best block's height, or None when unknown."""
        ...


class UnknownTip:
    def height(self) -> int | None:
        return None


class _Cached:
    def __init__(self, ttl: float, monotonic: Callable[[], float]) -> None:
        self._ttl = ttl
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._value: Any = None
        self._at = -float("inf")

    def get(self, fetch: Callable[[], Any]) -> Any:
        with self._lock:
            if self._monotonic() - self._at < self._ttl:
                return self._value
        value = fetch()
        with self._lock:
            self._value, self._at = value, self._monotonic()
        return value


class NodeFeeRate:
    """``estimatesmartfee`` (BTC per kvB) in sat/vB, or ``fallback`` without an answer."""

    def __init__(
        self,
        rpc: Rpc,
        *,
        conf_target: int,
        fallback: float,
        ttl: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rpc = rpc
        self._target = conf_target
        self._fallback = fallback
        self._cache = _Cached(ttl, monotonic)

    def sat_per_vbyte(self) -> float:
        rate: float = self._cache.get(self._fetch)
        return rate

    def _fetch(self) -> float:
        try:
            answer = self._rpc.call("estimatesmartfee", self._target)
        except NotariumError as error:
            log.warning("no fee estimate from the node (%s); using the configured rate", error)
            return self._fallback
        feerate = answer.get("feerate") if isinstance(answer, dict) else None
        if not isinstance(feerate, int | float) or isinstance(feerate, bool) or feerate <= 0:
            # A node that has not seen enough blocks answers with `errors` and no rate.
            return self._fallback
        return float(feerate) * SATS_PER_BTC / 1000


class NodeChainTip:
    def __init__(
        self, rpc: Rpc, *, ttl: float = 30.0, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._rpc = rpc
        self._cache = _Cached(ttl, monotonic)

    def height(self) -> int | None:
        value: int | None = self._cache.get(self._fetch)
        return value

    def _fetch(self) -> int | None:
        try:
            answer = self._rpc.call("getblockcount")
        except NotariumError as error:
            log.warning("no block count from the node: %s", error)
            return None
        if isinstance(answer, int) and not isinstance(answer, bool) and answer >= 0:
            return answer
        return None
