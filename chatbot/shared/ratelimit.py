"""Token buckets per key: a burst of ``burst`` messages, then ``rate`` per second.

In-process by default; with Redis the bucket is shared by every process (so a
visitor cannot multiply their allowance by reconnecting elsewhere), falling
back to this process's buckets while Redis is unreachable.

Tested in tests/test_abuse.py.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


class RateLimiter:
    """In-process token buckets; idle buckets are forgotten so memory stays bounded."""

    def __init__(self, burst: float, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.burst = float(burst)
        self.rate = rate
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._next_sweep = clock() + 60.0

    async def allow(self, key: str) -> bool:
        """Take one token for ``key``; False when its bucket is empty."""
        return self.take(key)

    def take(self, key: str) -> bool:
        now = self._clock()
        tokens, last = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        allowed = tokens >= 1.0
        self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
        if now >= self._next_sweep:
            self._sweep(now)
        return allowed

    def _sweep(self, now: float) -> None:
        full_after = self.burst / self.rate if self.rate > 0 else float("inf")
        self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < full_after}
        self._next_sweep = now + 60.0


_TOKEN_BUCKET = """
local burst = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local bucket = redis.call('HMGET', KEYS[1], 't', 'ts')
local tokens = tonumber(bucket[1]) or burst
local last = tonumber(bucket[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - last) * rate)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 't', tokens, 'ts', now)
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
return allowed
"""


class RedisRateLimiter(RateLimiter):
    """The same buckets, kept in Redis by one atomic script."""

    def __init__(self, redis: Any, burst: float, rate: float, prefix: str) -> None:
        super().__init__(burst, rate)
        self.prefix = prefix
        self._script = redis.register_script(_TOKEN_BUCKET)

    async def allow(self, key: str) -> bool:
        try:
            return bool(await self._script(keys=[self.prefix + key], args=[self.burst, self.rate, time.time()]))
        except Exception as exc:  # any Redis failure: keep limiting, locally
            log.warning("redis unavailable for rate limits (%s); limiting in-process", type(exc).__name__)
            return self.take(key)
