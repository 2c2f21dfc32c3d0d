"""Prometheus metrics: event counters the server increments, gauges read when Prometheus scrapes.

Each app has its own ``CollectorRegistry``, so several servers in one process
(the tests) never share or collide. Counters count what this process did;
gauges are read at scrape time: sockets from this process's Socket.IO
manager, representatives online from presence, the queue from the database
(so those two are the same whichever process answers the scrape).
"""

from __future__ import annotations

import logging

import socketio
from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import choose_encoder

from chatbot.chat.emitter import AGENT, CHAT
from chatbot.shared.presence import Presence
from chatbot.store import Store, StoreUnavailable

log = logging.getLogger(__name__)

# Matching is in-process and should take well under 50 ms; the buckets resolve that range finely.
MATCH_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)


class Metrics:
    """The server's metrics; the conversation service calls ``message``, ``handoff`` and ``match_seconds``."""

    def __init__(self, sio: socketio.AsyncServer, store: Store, presence: Presence) -> None:
        self.sio = sio
        self.store = store
        self.presence = presence
        self.registry = CollectorRegistry()
        r = self.registry
        self._messages = Counter("chatbot_messages", "Messages stored, by sender", ["sender"], registry=r)
        self._handoffs = Counter(
            "chatbot_handoffs", "Conversations handed to people, by reason", ["reason"], registry=r
        )
        self._match = Histogram(
            "chatbot_match_seconds", "Time to choose the bot's reply to one message", buckets=MATCH_BUCKETS, registry=r
        )
        self._reloads = Counter(
            "chatbot_intent_reloads", "Intent reloads, by result (ok or failed)", ["result"], registry=r
        )
        self._visitors = Gauge(
            "chatbot_connected_visitors", "Visitor sockets open on this process (one per tab)", registry=r
        )
        self._agent_sockets = Gauge(
            "chatbot_connected_representative_sockets",
            "Representative console sockets open on this process",
            registry=r,
        )
        self._representatives = Gauge(
            "chatbot_representatives_online", "Representatives online (all processes)", registry=r
        )
        self._queue = Gauge("chatbot_queue_length", "Conversations waiting for a representative", registry=r)
        for result in ("ok", "failed"):
            self._reloads.labels(result)  # both series exist from the start, at 0

    def message(self, sender: str) -> None:
        """One message stored (visitor, bot, agent or system)."""
        self._messages.labels(sender).inc()

    def handoff(self, reason: str) -> None:
        """One conversation handed to people (``low_confidence``, ``requested``, ``urgent``, ``takeover``...)."""
        self._handoffs.labels(reason).inc()

    def match_seconds(self, seconds: float) -> None:
        """How long the bot took to decide on one reply."""
        self._match.observe(seconds)

    def reload(self, ok: bool) -> None:
        """One intent reload, swapped in (``ok``) or refused."""
        self._reloads.labels("ok" if ok else "failed").inc()

    def _sockets(self, namespace: str) -> int:
        return len(self.sio.manager.rooms.get(namespace, {}).get(None, {}))

    async def refresh(self) -> None:
        """Read the gauges now; a database that does not answer leaves the queue gauge at its last value."""
        self._visitors.set(self._sockets(CHAT))
        self._agent_sockets.set(self._sockets(AGENT))
        self._representatives.set(await self.presence.online())
        try:
            self._queue.set(await self.store.queued_count())
        except StoreUnavailable:
            log.warning("metrics: the database did not answer; queue length not updated")

    async def exposition(self, accept: str = "") -> tuple[bytes, str]:
        """Everything, in the format the scraper's ``Accept`` header asks for (Prometheus text by default),
        and that format's content type."""
        await self.refresh()
        encode, content_type = choose_encoder(accept)
        return encode(self.registry), content_type


METRICS = web.AppKey("metrics", Metrics)


async def handle_metrics(request: web.Request) -> web.Response:
    """``GET /metrics``: Prometheus text (or OpenMetrics) format; no authentication, so keep it off the public proxy."""
    body, content_type = await request.app[METRICS].exposition(request.headers.get("Accept", ""))
    return web.Response(body=body, headers={"Content-Type": content_type})


def add_route(app: web.Application, metrics: Metrics) -> None:
    """Serve ``metrics`` at ``GET /metrics``."""
    app[METRICS] = metrics
    app.router.add_get("/metrics", handle_metrics)
