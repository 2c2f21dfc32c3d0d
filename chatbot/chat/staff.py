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

from chatbot.chat.two_factor import SecondFactor, SignInRefused
from chatbot.shared import passwords
from chatbot.store import Store, token_digest
from chatbot.store.models import User
from chatbot.store.sessions import Sessions

COOKIE = "chatbot_session"
SIGN_INS_CHANNEL = "staff"
"""The cluster channel on which a change to sign-ins or to who holds a conversation is announced (by a server
process, or by ``chatbot users``), so that every process re-checks its consoles at once."""
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
    totp: bool = False
    """Two-step sign-in is on for them."""
    must_enrol: bool = False
    """Their role requires two-step sign-in (``CHATBOT_REQUIRE_2FA``) and they have not turned it on: their
    session may only enrol (``/auth/totp/*``); everything else refuses it."""


@dataclass(frozen=True)
class SignedIn:
    member: Member
    token: str
    recovery_used: bool


class Staff:
    """Sign-in and sessions for one server; the idle limit comes from ``CHATBOT_SESSION_IDLE_MINUTES``, the roles
    that must use a second factor from ``CHATBOT_REQUIRE_2FA``."""

    def __init__(self, store: Store, idle_minutes: int, second_factor: SecondFactor,
                 require_2fa: tuple[str, ...] = (), sessions: Sessions | None = None) -> None:
        self.store = store
        self.sessions = sessions or Sessions(store)
        self.idle = timedelta(minutes=idle_minutes)
        self.second_factor = second_factor
        self.require_2fa = frozenset(require_2fa)
        self._hashing = asyncio.Semaphore(CONCURRENT_HASHES)
        passwords.dummy_hash()  # made now (once per process), so the first unknown email costs no more than others

    async def sign_in(self, email: str, password: str, code: str | None = None) -> SignedIn:
        """A new session, or ``SignInRefused``: ``unauthorized`` for a wrong password, an unknown email or a
        disabled account alike (the same hash work is done in every case), then the second factor's refusals."""
        user = await self.store.user_by_email(email.strip().lower())
        async with self._hashing:
            matches = await asyncio.to_thread(passwords.verify, user.password_hash if user else None, password)
        if user is None or not matches or user.disabled:
            raise SignInRefused("unauthorized", "Wrong email or password.")
        recovery_used = await self.second_factor.verify(user, code)
        token = await self.sessions.create(user.id, ABSOLUTE_LIFETIME)
        return SignedIn(self._member(user), token, recovery_used)

    async def member(self, token: str, enrolling: bool = False) -> Member | None:
        """Who a session cookie signs in (moving its idle clock), or None when it no longer holds, or when it
        may only enrol a second factor (unless ``enrolling``)."""
        return await self.member_by_digest(token_digest(token), enrolling)

    async def member_by_digest(self, digest: str, enrolling: bool = False, touch: bool = True) -> Member | None:
        """The same, for a socket that keeps only its cookie's digest (``touch``: whether this is a use that moves
        the idle clock, or the server checking on its own)."""
        user = await self.sessions.user(digest, self.idle, touch=touch)
        member = self._member(user) if user is not None else None
        return member if member is not None and (enrolling or not member.must_enrol) else None

    async def session_account(self, token: str) -> User | None:
        """The account row behind a session (the enrolment endpoints need its pending secret)."""
        return await self.sessions.user(token_digest(token), self.idle)

    def _member(self, user: User) -> Member:
        enrolled = user.totp_secret is not None
        return Member(user.id, user.email, user.name, Role(user.role), totp=enrolled,
                      must_enrol=not enrolled and user.role in self.require_2fa)

    async def sign_out(self, token: str) -> bool:
        return await self.sessions.end(token)
