"""Staff who sign in with an email and a password: roles, sign-in, and the sessions behind the cookie.

A wrong password and an unknown email get the same answer after the same work (a dummy hash is verified for
an unknown email). Hashing runs in a thread, ``CONCURRENT_HASHES`` at a time, so a flood of sign-ins waits
rather than taking the process's memory (each argon2id hash uses 64 MiB).

Tested in tests/test_staff_sessions.py, tests/test_users.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from chatbot.shared import passwords
from chatbot.store import Store, token_digest

COOKIE = "chatbot_session"
CONCURRENT_HASHES = 2
ABSOLUTE_LIFETIME = timedelta(hours=12)


class Role(StrEnum):
    """What a staff member may do, each including the one before: agent < supervisor < admin."""

    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


def cookie_token(cookies: Mapping[str, str]) -> str | None:
    """The session cookie's secret, or None when it is missing or cannot be one of ours (too long)."""
    token = cookies.get(COOKIE)
    return token if token and len(token) <= 200 else None


@dataclass(frozen=True)
class Member:
    """A signed-in staff member, as the namespaces and the admin API see them."""

    id: str
    email: str
    name: str
    role: Role


class Staff:
    """Sign-in and sessions for one server; the idle limit comes from ``CHATBOT_SESSION_IDLE_MINUTES``."""

    def __init__(self, store: Store, idle_minutes: int) -> None:
        self.store = store
        self.idle = timedelta(minutes=idle_minutes)
        self._hashing = asyncio.Semaphore(CONCURRENT_HASHES)
        passwords.dummy_hash()  # made now (once per process), so the first unknown email costs no more than others

    async def sign_in(self, email: str, password: str) -> tuple[Member, str] | None:
        """The member and a new session's secret, or None for a wrong password, an unknown email or a disabled
        account alike (the same hash work is done in every case)."""
        user = await self.store.user_by_email(email.strip().lower())
        async with self._hashing:
            matches = await asyncio.to_thread(passwords.verify, user.password_hash if user else None, password)
        if user is None or not matches or user.disabled:
            return None
        token = await self.store.create_staff_session(user.id, ABSOLUTE_LIFETIME)
        return Member(user.id, user.email, user.name, Role(user.role)), token

    async def member(self, token: str) -> Member | None:
        """Who a session cookie signs in (moving its idle clock), or None when it no longer holds."""
        return await self.member_by_digest(token_digest(token))

    async def member_by_digest(self, digest: str) -> Member | None:
        """The same, for a socket that keeps only its cookie's digest."""
        user = await self.store.session_user(digest, self.idle)
        return Member(user.id, user.email, user.name, Role(user.role)) if user is not None else None

    async def sign_out(self, token: str) -> bool:
        return await self.store.end_staff_session(token)
