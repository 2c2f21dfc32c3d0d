"""The application factory: ``create_app(settings)`` returns a ready aiohttp app with Socket.IO attached.

Nothing is created at import time. The app owns every resource through its
cleanup context (database engine), so tests build real servers from the same
factory with their own settings.

Tested in tests/test_visitor_chat.py, tests/test_browser.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from typing import Any

import socketio
from aiohttp import web

from chatbot.admin import api, dashboard
from chatbot.admin import http as admin
from chatbot.bot.answers import Bot
from chatbot.bot.forms import load_forms
from chatbot.bot.intents import IntentError, load_intents
from chatbot.bot.matcher.encoder import encoder_for
from chatbot.bot.yamlcheck import Problem
from chatbot.chat.agents import AgentNamespace
from chatbot.chat.conversations import ConversationService
from chatbot.chat.desk import Desk
from chatbot.chat.emitter import Emitter
from chatbot.chat.hours import load_hours
from chatbot.chat.idle import Sweeper
from chatbot.chat.keys import CLUSTER, DESK, GUARD, ROUTER, SERVICE, SETTINGS, SIO, STAFF, STORE
from chatbot.chat.leads import Leads
from chatbot.chat.metrics import Metrics
from chatbot.chat.metrics import add_route as add_metrics_route
from chatbot.chat.protocol import ChatError
from chatbot.chat.routing import Router
from chatbot.chat.staff import SIGN_INS_CHANNEL, Staff
from chatbot.chat.teamwork import Teamwork
from chatbot.chat.two_factor import SecondFactor
from chatbot.chat.visitors import VisitorNamespace
from chatbot.content.passages import Passages
from chatbot.integrations import delivery
from chatbot.shared.cluster import build_cluster
from chatbot.shared.config import Settings
from chatbot.shared.guard import Guard, bearer_token
from chatbot.store import Store, schema
from chatbot.store.sessions import RedisSessions, Sessions
from chatbot.web import auth, pages, two_factor
from chatbot.web import safety as web_safety

CONSOLES = web.AppKey("consoles", AgentNamespace)
log = logging.getLogger(__name__)


MAX_PACKET_BYTES = 64 * 1024


class SocketServer(socketio.AsyncServer):  # type: ignore[misc]  # python-socketio ships no types
    """python-socketio's server, minus one hole: client events named like its own lifecycle events.

    python-socketio dispatches an EVENT packet ``["connect", …]`` or ``["disconnect", …]`` from a
    client to ``on_connect`` / ``on_disconnect`` like any other event, so a raw client could start
    conversations past the door checks, forge an environ, or free its connection slot while keeping
    the socket. No Socket.IO library sends them; such packets, and events whose name is not a
    string, are dropped unanswered.
    """

    async def _handle_event(self, eio_sid: str, namespace: str | None, id: int | None, data: list[Any]) -> None:
        if not data or not isinstance(data[0], str) or data[0] in self.reserved_events:
            log.debug("dropped a client event named %r", data[0] if data else None)
            return
        await super()._handle_event(eio_sid, namespace, id, data)


def _socketio_server(settings: Settings, manager: socketio.AsyncManager | None) -> socketio.AsyncServer:
    origins: str | list[str] = "*" if "*" in settings.allowed_origins else list(settings.allowed_origins)
    return SocketServer(
        async_mode="aiohttp",
        client_manager=manager,
        cors_allowed_origins=origins,
        max_http_buffer_size=MAX_PACKET_BYTES,
        logger=False,
        engineio_logger=False,
    )


async def healthz(request: web.Request) -> web.Response:
    """200 while the database answers, 503 otherwise (load balancers take the process out).

    Redis being down does not fail the check: this process still serves its own
    clients; the body says ``degraded`` so monitoring sees it.
    """
    database = "ok" if await request.app[STORE].ping() else "down"
    redis = await request.app[CLUSTER].redis_status()
    status = "unavailable" if database == "down" else ("degraded" if redis == "down" else "ok")
    body = {"status": status, "database": database, "redis": redis, "pid": os.getpid()}
    return web.json_response(body, status=503 if database == "down" else 200)


async def visitor_transcript(request: web.Request) -> web.Response:
    """The visitor's own transcript as plain text, for ``Authorization: Bearer <conversation token>`` only.

    The token travels in a header, never in the URL (URLs end up in logs).
    """
    token = bearer_token(request)
    if token is None:
        raise web.HTTPUnauthorized(
            text="Send the conversation token as 'Authorization: Bearer <token>'.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    try:
        text = await request.app[SERVICE].transcript_for(token)
    except ChatError:
        raise web.HTTPNotFound(text="No conversation for that token.") from None
    return web.Response(
        text=text,
        content_type="text/plain",
        charset="utf-8",
        headers={"Content-Disposition": 'attachment; filename="transcript.txt"', "Cache-Control": "no-store"},
    )


def _bot(settings: Settings) -> Bot:
    """The intents and forms, checked against each other; a pre-chat form that is not there stops the start."""
    intents = load_intents(settings.intents_dir)
    forms = load_forms(settings.forms_dir, intents)
    if settings.prechat_form and settings.prechat_form not in forms:
        known = ", ".join(sorted(forms)) or "none"
        raise IntentError([Problem(str(settings.forms_dir), 1, f"CHATBOT_PRECHAT_FORM={settings.prechat_form!r}: "
                                   f"expected the id of a form in this folder (known: {known})")])
    return Bot(intents, settings.threshold, encoder_for(settings.sentence_encoder), forms)


def create_app(settings: Settings) -> web.Application:
    """Build the whole server: intents and matcher, store, Socket.IO namespaces, HTTP routes."""
    delivery.check(settings)
    bot = _bot(settings)
    store = Store(settings.database_url, delivery.destinations(settings),
                  commit_window=settings.commit_window_ms / 1000, commit_batch=settings.commit_batch)
    cluster = build_cluster(settings)
    sio = _socketio_server(settings, cluster.manager)
    metrics = Metrics(sio, store, cluster.presence)
    emitter = Emitter(sio)
    service = ConversationService(
        store=store,
        bot=bot,
        emitter=emitter,
        presence=cluster.presence,
        limiter=cluster.limiter("rate", settings.rate_burst, settings.rate_per_second),
        transcripts_dir=settings.transcripts_dir,
        hours=load_hours(settings.hours_file),
        metrics=metrics,
        passages=Passages.load(settings.content_dir),
    )
    desk = Desk(service, store, cluster.presence, settings.agent_capacity, settings.agent_grace_seconds)
    guard = Guard(cluster, settings)
    sio.register_namespace(VisitorNamespace(service, guard, Leads(service, settings.prechat_form)))
    router = (
        Router(service, desk, store, cluster.presence, emitter, settings.offer_seconds)
        if settings.routing == "auto" else None
    )
    if settings.require_2fa and not settings.totp_key:
        raise SystemExit("CHATBOT_REQUIRE_2FA needs CHATBOT_TOTP_KEY (make one with `chatbot users totp-key`)")
    sessions = RedisSessions(store, cluster.redis, cluster.prefix) if cluster.redis is not None else Sessions(store)
    staff = Staff(store, settings.session_idle_minutes, SecondFactor(store, settings.totp_key), settings.require_2fa,
                  sessions)
    teamwork = Teamwork(service, store, cluster.presence, emitter, settings.agent_capacity)
    consoles = AgentNamespace(desk, guard, router, staff, teamwork, cluster.channel(SIGN_INS_CHANNEL))
    sio.register_namespace(consoles)

    app = web.Application()
    app[SETTINGS] = settings
    app[STORE] = store
    app[SERVICE] = service
    app[DESK] = desk
    app[CLUSTER] = cluster
    app[GUARD] = guard
    app[STAFF] = staff
    app[CONSOLES] = consoles
    if router is not None:
        app[ROUTER] = router
    app[SIO] = sio
    sio.attach(app)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/transcript", visitor_transcript)
    add_metrics_route(app, metrics)
    pages.add_routes(app)  # first: its /admin page must win over the /admin/ sub-application's prefix
    admin.add_routes(app)
    api.add_routes(app)
    auth.add_routes(app)
    two_factor.add_routes(app)
    web_safety.install(app, settings)
    app.cleanup_ctx.append(_database)
    app.cleanup_ctx.append(_background_tasks)
    app.on_shutdown.append(_drain)
    return app


async def _drain(app: web.Application) -> None:
    """On SIGTERM: close every socket at the transport level, so clients reconnect (to another process),
    then let the messages already being handled finish storing before the database closes."""
    sio = app[SIO]
    for socket in list(sio.eio.sockets.values()):
        # Abort: no engine.io "close" packet, which clients take as final; the None ends the
        # socket's writer, which closes the websocket itself, and clients reconnect.
        with contextlib.suppress(Exception):
            await socket.close(wait=False, abort=True)
            await socket.queue.put(None)
    await app[SERVICE].settle(timeout=5.0)


async def _database(app: web.Application) -> AsyncIterator[None]:
    store = app[STORE]
    await schema.ensure(store.engine)
    log.info("database ready: %s", store.engine.url.render_as_string(hide_password=True))
    yield
    await store.close()


async def _background_tasks(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    sweeper = Sweeper(app[SERVICE], app[DESK], app[STORE], settings.idle_bot_seconds, settings.idle_seconds)
    await app[CLUSTER].start()
    consoles = app[CONSOLES]
    tasks = [asyncio.create_task(sweeper.run(), name="idle-sweeper"),
             asyncio.create_task(consoles.recheck_forever(), name="console-rechecks")]
    if consoles.channel is not None:
        tasks.append(asyncio.create_task(consoles.channel.listen(consoles.recheck), name="sign-in-changes"))
    tasks.append(asyncio.create_task(dashboard.keep_rollups(app[STORE]), name="dashboard-rollups"))
    if delivery.destinations(settings).targets(email=True):  # with nowhere to send, nothing is written to send
        tasks.append(asyncio.create_task(delivery.Deliverer(app[STORE], settings).run(), name="outbox-delivery"))
    if ROUTER in app:
        tasks.append(asyncio.create_task(app[ROUTER].run(), name="router"))
    yield
    for task in tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    if consoles.channel is not None:
        await consoles.channel.close()
    await app[CLUSTER].close()
