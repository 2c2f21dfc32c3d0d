"""Typed keys for what the application owns, importable by every module that handles requests (pages, admin,
web safety) without importing the app factory itself.

Here, in the conversation layer, because what they name is the conversation's (its service, desk and router) or
below it: the app factory and the admin routes above both read them.

Tested in tests/test_web_safety.py.
"""

from __future__ import annotations

import socketio
from aiohttp import web

from chatbot.chat.conversations import ConversationService
from chatbot.chat.desk import Desk
from chatbot.chat.routing import Router
from chatbot.chat.staff import Staff
from chatbot.shared.cluster import Cluster
from chatbot.shared.config import Settings
from chatbot.shared.guard import Guard
from chatbot.store import Store

SETTINGS = web.AppKey("settings", Settings)
STORE = web.AppKey("store", Store)
SERVICE = web.AppKey("service", ConversationService)
DESK = web.AppKey("desk", Desk)
CLUSTER = web.AppKey("cluster", Cluster)
ROUTER = web.AppKey("router", Router)
GUARD = web.AppKey("guard", Guard)
SIO = web.AppKey("sio", socketio.AsyncServer)
STAFF = web.AppKey("staff", Staff)
