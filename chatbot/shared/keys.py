"""Typed keys for what the application owns, and the Socket.IO namespaces' names.

Importable by every module that handles requests (pages, admin, web safety,
metrics) without importing the app factory, nor the layers that own the values:
the types are for the type checker only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    import socketio

    from chatbot.chat.conversations import ConversationService
    from chatbot.chat.desk import Desk
    from chatbot.chat.routing import Router
    from chatbot.shared.cluster import Cluster
    from chatbot.shared.config import Settings
    from chatbot.shared.guard import Guard
    from chatbot.store import Store

CHAT = "/chat"
AGENT = "/agent"

SETTINGS: web.AppKey[Settings] = web.AppKey("settings")
STORE: web.AppKey[Store] = web.AppKey("store")
SERVICE: web.AppKey[ConversationService] = web.AppKey("service")
DESK: web.AppKey[Desk] = web.AppKey("desk")
CLUSTER: web.AppKey[Cluster] = web.AppKey("cluster")
ROUTER: web.AppKey[Router] = web.AppKey("router")
GUARD: web.AppKey[Guard] = web.AppKey("guard")
SIO: web.AppKey[socketio.AsyncServer] = web.AppKey("sio")
