"""The threshold trade-off the dashboard plots: ``chatbot intents eval``'s curve for the intents the server runs.

For each threshold from 0 to 1: the share of answerable examples the bot
would answer, the accuracy of those answers, and the share of out-of-scope
examples it would hand off, each example held out (chatbot/quality/intent_eval.py).
That takes seconds of CPU (ten matchers a language), so it runs in a child
process, never in the one answering visitors, once for each set of intents
loaded: the figures are kept until a reload replaces the bot. A request that
comes while they are being worked out is told so (202) and asks again.

Tested in tests/test_dashboard.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
from collections.abc import Sequence
from multiprocessing.pool import Pool
from typing import Any

from aiohttp import web

from chatbot.bot.answers import Bot
from chatbot.bot.intents import Intent
from chatbot.quality import intent_eval

WAIT_SECONDS = 1.0  # how long a request waits for the figures before it is told to ask again


def curve(intents: Sequence[Intent], current: float) -> dict[str, Any]:
    """The trade-off as JSON: the curve (a point every 0.01), the recommended and the current threshold with their
    points, and how many examples stand behind the figures. Runs in the child process."""
    report = intent_eval.evaluate(intents, current)
    every = report.languages[-1]
    return {
        "current": report.current,
        "recommended": report.threshold,
        "examples": every.examples - every.out_of_scope,
        "out_of_scope": every.out_of_scope,
        "at_current": _point(report.at_current),
        "at_recommended": _point(every.at_threshold),
        "curve": [_point(p) for p in report.curve],
    }


def _point(point: intent_eval.Point) -> dict[str, Any]:
    return {"threshold": point.threshold, "answered": point.answered, "accuracy": point.accuracy,
            "handed_off": point.handed_off}


class TradeOff:
    """The figures for the bot loaded now, worked out at most once per bot, in one child process at a time."""

    def __init__(self) -> None:
        self._pool: Pool | None = None
        self._bot: Bot | None = None
        self._figures: asyncio.Future[dict[str, Any]] | None = None

    async def figures(self, bot: Bot, wait: float = WAIT_SECONDS) -> dict[str, Any] | None:
        """The figures for ``bot``, or None while they are still being worked out after ``wait`` seconds."""
        if self._bot is not bot or self._figures is None or self._failed():
            self._bot = bot
            self._figures = asyncio.ensure_future(self._work_out(bot))
        try:
            return await asyncio.wait_for(asyncio.shield(self._figures), wait)
        except TimeoutError:
            return None

    def _failed(self) -> bool:
        """The last attempt was cancelled or raised: try again rather than keep the failure."""
        return self._figures is not None and self._figures.done() and (
            self._figures.cancelled() or self._figures.exception() is not None)

    async def _work_out(self, bot: Bot) -> dict[str, Any]:
        if self._pool is None:  # spawned, not forked: this process has threads (the database driver's, ONNX's)
            self._pool = multiprocessing.get_context("spawn").Pool(1)
        loop = asyncio.get_running_loop()
        done: asyncio.Future[dict[str, Any]] = loop.create_future()

        def settle(outcome: Any, failed: bool = False) -> None:
            if not done.done():
                (done.set_exception if failed else done.set_result)(outcome)

        self._pool.apply_async(curve, (list(bot.intents.values()), bot.threshold),
                               callback=lambda figures: loop.call_soon_threadsafe(settle, figures),
                               error_callback=lambda error: loop.call_soon_threadsafe(settle, error, True))
        return await done

    async def close(self) -> None:
        """Stop the child at once, even in the middle of the work: the figures are not needed any more."""
        if self._figures is not None:
            self._figures.cancel()
            with contextlib.suppress(BaseException):
                await self._figures
        if self._pool is not None:
            await asyncio.to_thread(_stop, self._pool)


def _stop(pool: Pool) -> None:
    pool.terminate()
    pool.join()


TRADE_OFF = web.AppKey("trade_off", TradeOff)
