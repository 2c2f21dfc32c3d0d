"""How long a queued visitor will wait: the recent median time to take a conversation.

estimate = median(queued → taken, the last 50 takes of the past 7 days)
           × ceil(position / max(1, representatives online))

so the first in line with one representative online waits about one median
take, the fourth in line with two online about two. With no takes yet there
is no estimate (None), and visitors see only their place in line. The median
is cached for 30 seconds: queue updates fan out to every waiting visitor.

Tested in tests/test_service_levels.py.
"""

from __future__ import annotations

import math
import time
from datetime import timedelta

from chatbot.shared.figures import median
from chatbot.store import Store
from chatbot.store.models import utcnow

WINDOW = timedelta(days=7)
CACHE_SECONDS = 30.0
TAKES = 50


class WaitEstimator:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._median: float | None = None
        self._computed_at = -math.inf

    async def median_take_seconds(self) -> float | None:
        if time.monotonic() - self._computed_at > CACHE_SECONDS:
            waits = await self.store.take_waits(utcnow() - WINDOW, limit=TAKES)
            self._median = median(waits) if waits else None
            self._computed_at = time.monotonic()
        return self._median

    async def estimate(self, position: int, agents_online: int) -> int | None:
        """Seconds until a representative takes the conversation at ``position``; None without history."""
        median = await self.median_take_seconds()
        if median is None:
            return None
        return round(median * math.ceil(position / max(1, agents_online)))
