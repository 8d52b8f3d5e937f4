"""Named per-minute buckets. ``hit`` is one atomic call on the storage (a Lua script on
Redis), so concurrent servers can never both take the last unit."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from notarium.core.errors import RateLimitedError


@dataclass(frozen=True)
class Bucket:
    name: str
    per_minute: int


@dataclass(frozen=True)
class BucketState:
    limit: int
    remaining: int
    reset_at: float


class RateLimiter:
    def __init__(self, storage_uri: str = "memory://", *, key_prefix: str = "notarium") -> None:
        options = {"key_prefix": key_prefix} if storage_uri.startswith("redis") else {}
        self._storage = storage_from_string(storage_uri, **options)
        self._strategy = MovingWindowRateLimiter(self._storage)
        self._items: dict[int, RateLimitItemPerMinute] = {}

    def _item(self, per_minute: int) -> RateLimitItemPerMinute:
        item = self._items.get(per_minute)
        if item is None:
            item = self._items[per_minute] = RateLimitItemPerMinute(per_minute)
        return item

    def hit(self, bucket: Bucket, identity: str) -> BucketState:
        item = self._item(bucket.per_minute)
        allowed = self._strategy.hit(item, bucket.name, identity)
        stats = self._strategy.get_window_stats(item, bucket.name, identity)
        state = BucketState(
            limit=bucket.per_minute, remaining=max(0, stats.remaining), reset_at=stats.reset_time
        )
        if not allowed:
            retry_after = max(1, math.ceil(stats.reset_time - time.time()))
            raise RateLimitedError(
                f"Rate limit of {bucket.per_minute} requests per minute exceeded "
                f"({bucket.name}); retry in {retry_after} s.",
                limit=state.limit,
                remaining=0,
                reset_at=state.reset_at,
                retry_after=retry_after,
            )
        return state

    def reset(self) -> None:
        self._storage.reset()


class DisabledRateLimiter(RateLimiter):
    """For operators who rate-limit at their proxy, and for load benchmarks."""

    def __init__(self) -> None:
        super().__init__("memory://")

    def hit(self, bucket: Bucket, identity: str) -> BucketState:
        return BucketState(limit=bucket.per_minute, remaining=bucket.per_minute, reset_at=0.0)
