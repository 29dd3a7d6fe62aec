"""Rate-limit counters, in the store the settings name (RATE_LIMIT_STORE).

Which stores a project can use is decided in app/core/answers.py: the memory store
always, Redis when the project was rendered with it (app/core/redis_store.py).
"""

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeAlias

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter

# A store in another process that does not answer its health check within this many
# seconds counts as unreachable.
CHECK_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset_after: int  # seconds until the window frees a slot


class RateLimiter:
    def __init__(
        self, storage: Storage, close: Callable[[], Awaitable[None]] | None = None
    ) -> None:
        self.storage = storage
        # A sliding window counter: two counters a key, so a hit costs the same however high
        # the limit (a moving window keeps, and scans, one timestamp a request).
        self.strategy = SlidingWindowCounterRateLimiter(storage)
        self._close = close
        # A store in another process can be down; readiness reports it.
        self.is_remote = not isinstance(storage, MemoryStorage)

    async def hit(self, limit: str, *key: str) -> Verdict:
        """Count one request against every limit of `limit` ("5/minute;20/hour") for `key`;
        StorageError when the store is down."""
        items = parse_many(limit)
        allowed = True
        for item in items:
            # Each window with room counts the request, also when another window refuses
            # it: a client that keeps knocking uses up the longer window too.
            allowed = await self.strategy.hit(item, *key) and allowed
        return await self._verdict(items, key, allowed)

    async def test(self, limit: str, *key: str) -> Verdict:
        """Whether one more request would be allowed under every limit, counting nothing."""
        items = parse_many(limit)
        allowed = True
        for item in items:
            allowed = await self.strategy.test(item, *key) and allowed
        return await self._verdict(items, key, allowed)

    async def _verdict(
        self, items: list[RateLimitItem], key: tuple[str, ...], allowed: bool
    ) -> Verdict:
        # The limit that binds: the one with the fewest requests left, and of those, the
        # one that frees a slot last.
        verdicts = []
        for item in items:
            stats = await self.strategy.get_window_stats(item, *key)
            reset_after = max(1, math.ceil(stats.reset_time - time.time()))
            verdicts.append(Verdict(allowed, item.amount, stats.remaining, reset_after))
        return min(verdicts, key=lambda verdict: (verdict.remaining, -verdict.reset_after))

    async def is_reachable(self) -> bool:
        try:
            async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
                return await self.storage.check()
        except TimeoutError:
            return False

    async def reset(self) -> None:
        await self.storage.reset()

    async def close(self) -> None:
        if self._close is not None:
            await self._close()


# How a store is opened: from the store's URL and the prefix of the limiter's keys.
OpenStore: TypeAlias = Callable[[str, str], RateLimiter]


def in_memory(_url: str, _key_prefix: str) -> RateLimiter:
    """Counters in this process: right for one worker, and for tests."""
    return RateLimiter(MemoryStorage())
