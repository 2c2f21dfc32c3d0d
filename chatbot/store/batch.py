"""Group commit: writes of many conversations gathered into one transaction, each caller answered after its commit.

Why: a turn's own transaction cost more than its SQL. On SQLite every
statement and the commit are a hop to aiosqlite's thread, and there is one
writer; on PostgreSQL each is a round trip; on both, SQLAlchemy builds a session
and a transaction each time (docs/performance.md: the database's share of a turn's
CPU was 54-61 %). Here one writer task per process takes whatever has queued —
while the previous batch was being committed, plus what arrives within
``window`` seconds, at most ``limit`` items — and hands the batch to ``write``,
which stores it in one transaction (``store/turns.py``: in one trip). A caller
that finds nothing queued and nothing being written writes its own item at
once. Each caller is answered only after its commit, so a message is
acknowledged only once it is durable; writes are served first come, first
served, one at a time, so a conversation's writes keep their order.

Tested in tests/test_faults.py (SIGKILL and database restart: nothing acked is
lost or duplicated), tests/test_store_batch.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from chatbot.store.base import StoreUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

Write = Callable[[Sequence[T]], Awaitable[Sequence[R | BaseException]]]
"""Stores a batch in one transaction; returns one result per item, in order (an exception for an item that failed
alone), or raises for the whole batch."""


class GroupCommit(Generic[T, R]):
    """A queue of writes and the one task per event loop that commits them in batches."""

    def __init__(self, write: Write[T, R], window: float, limit: int) -> None:
        self._write = write
        self._window = window
        self._limit = limit
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[tuple[T, asyncio.Future[R]]] = asyncio.Queue()
        self._slot = asyncio.Lock()  # held by whoever writes: the writer task, or a caller writing its own item
        self._task: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        """``item``'s result once it is committed, or the error of the batch that held it.

        When nothing is being written and nothing waits (a steady load's usual
        case) the caller writes it at once, in its own task: no hand-off to the
        writer task and no window, which were two more turns of the event loop
        and the window's wait on every message. Otherwise it waits in the queue
        for the writer's next batch. One write at a time either way, in arrival
        order, so a conversation's messages keep their order.
        """
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._task is None or self._task.done():
            self._start(loop)
        if not self._slot.locked() and self._queue.empty():
            async with self._slot:
                [result] = await self._write([item])
            if isinstance(result, BaseException):
                raise result
            return result
        future: asyncio.Future[R] = loop.create_future()
        self._queue.put_nowait((item, future))
        return await future

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        """The writer of this loop (a store used from a new event loop, as tests do, gets a new queue and task)."""
        if self._loop is not loop:
            self._queue = asyncio.Queue()
            self._slot = asyncio.Lock()
        self._loop = loop
        self._task = loop.create_task(self._run(), name="group-commit")

    async def _run(self) -> None:
        while True:
            first = await self._queue.get()
            async with self._slot:  # after a caller's own write still under way
                batch = await self._next_batch(first)
                if batch:
                    await self._commit(batch)

    async def _next_batch(self, first: tuple[T, asyncio.Future[R]]) -> list[tuple[T, asyncio.Future[R]]]:
        """``first``, then whatever else is queued after ``window`` (at most ``limit``)."""
        batch = [first]
        if self._window > 0:
            await asyncio.sleep(self._window)
        while len(batch) < self._limit and not self._queue.empty():
            batch.append(self._queue.get_nowait())
        # A caller that gave up (its socket went away) before the batch started has nothing to store.
        return [(item, future) for item, future in batch if not future.done()]

    async def _commit(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            results = await self._write([item for item, _ in batch])
        except asyncio.CancelledError:  # closing mid-batch: whether it committed is unknown, so nobody is acked
            for _, future in batch:
                if not future.done():
                    future.set_exception(StoreUnavailable("closing"))
            raise
        except Exception as exc:  # the whole transaction failed: every caller hears why, none is acked
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)

    async def close(self) -> None:
        """Stop the writer; writes still queued (the server drains its turns first) fail as unavailable."""
        task, self._task = self._task, None
        if task is None or task.done() or task.get_loop() is not asyncio.get_running_loop():
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        while not self._queue.empty():
            _, future = self._queue.get_nowait()
            if not future.done():
                future.set_exception(StoreUnavailable("closing"))
