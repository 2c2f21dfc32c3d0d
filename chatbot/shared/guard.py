"""Abuse limits at the door: sockets per address, new conversations per address, failed sign-ins.

Failed sign-ins count representatives' tokens on ``/agent`` and the admin token on ``/admin/``
together: an address guessing either secret is blocked from both for ``BLOCK_SECONDS``.

Checked by the namespaces before any work is done. Socket counts are per
process (a process can only count its own sockets); the per-minute limits use
the cluster's rate limiters, so with Redis they hold across processes.

Tested in tests/test_abuse.py.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from aiohttp import web

from chatbot.shared.cluster import Cluster
from chatbot.shared.config import Settings

BLOCK_SECONDS = 60.0
MAX_TOKEN = 200
"""Longer than any token we issue; a longer header is refused before it is hashed or compared."""


def bearer_token(request: web.BaseRequest) -> str | None:
    """The token of ``Authorization: Bearer <token>``, or None when the header is missing, of another
    scheme, empty or too long. Comparing it is the caller's part (in constant time)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and 0 < len(token) <= MAX_TOKEN else None


class Guard:
    """One per server; the namespaces ask it before accepting a socket or creating a conversation."""

    def __init__(self, cluster: Cluster, settings: Settings) -> None:
        self.max_sockets = settings.max_connections_per_ip
        self.trust_proxy = settings.trust_proxy
        per_minute = settings.new_conversations_per_minute
        self._new_conversations = cluster.limiter("new", per_minute, per_minute / 60)
        failures = max(1, settings.failed_sign_ins_per_minute)
        # One token fewer than the allowance: the failure that empties the bucket is the one that blocks.
        self._failures = cluster.limiter("signin", failures - 1, failures / 60)
        self._sockets: Counter[str] = Counter()
        self._blocked_until: dict[str, float] = {}

    def address(self, environ: dict[str, Any]) -> str:
        """A Socket.IO client's address (from the WSGI-like ``environ`` python-socketio passes on connect)."""
        request = environ.get("aiohttp.request")
        found = self.request_address(request) if request is not None else None
        return found or str(environ.get("REMOTE_ADDR", "unknown"))

    def request_address(self, request: web.BaseRequest) -> str:
        """An HTTP client's address; behind a trusted proxy, the last hop it added to X-Forwarded-For."""
        if self.trust_proxy:
            forwarded = request.headers.get("X-Forwarded-For", "")
            hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
            if hops:
                return hops[-1]
        return str(request.remote or "")

    def open_socket(self, address: str) -> bool:
        """Count a new socket; False (and not counted) when the address already has too many."""
        if self._sockets[address] >= self.max_sockets:
            return False
        self._sockets[address] += 1
        return True

    def close_socket(self, address: str) -> None:
        self._sockets[address] -= 1
        if self._sockets[address] <= 0:
            del self._sockets[address]

    async def may_start_conversation(self, address: str) -> bool:
        return await self._new_conversations.allow(address)

    def may_sign_in(self, address: str) -> bool:
        """False while the address is blocked after too many failed sign-ins."""
        until = self._blocked_until.get(address)
        if until is None:
            return True
        if time.monotonic() >= until:
            del self._blocked_until[address]
            return True
        return False

    async def sign_in_failed(self, address: str) -> None:
        """Count a failure; past the allowance the address waits ``BLOCK_SECONDS`` before trying again."""
        if not await self._failures.allow(address):
            self._blocked_until[address] = time.monotonic() + BLOCK_SECONDS
