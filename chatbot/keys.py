"""Typed keys for what the application owns, importable by every module that handles requests
(pages, admin, web safety) without importing the app factory itself."""

from __future__ import annotations

import socketio
from aiohttp import web

from chatbot.cluster import Cluster
from chatbot.config import Settings
from chatbot.conversations import ConversationService
from chatbot.desk import Desk
from chatbot.guard import Guard
from chatbot.routing import Router
from chatbot.store import Store

SETTINGS = web.AppKey("settings", Settings)
STORE = web.AppKey("store", Store)
SERVICE = web.AppKey("service", ConversationService)
DESK = web.AppKey("desk", Desk)
CLUSTER = web.AppKey("cluster", Cluster)
ROUTER = web.AppKey("router", Router)
GUARD = web.AppKey("guard", Guard)
SIO = web.AppKey("sio", socketio.AsyncServer)
