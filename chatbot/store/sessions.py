"""Where staff sessions live: in the database, or in Redis when ``CHATBOT_REDIS_URL`` is set.

Either way the cookie's secret is kept only as its SHA-256 digest, a session ends after the idle limit or 12 hours,
and every lookup checks the account in the database (disabled, role), so a disabled user's session ends at once
wherever it is kept. In Redis a session is one hash ``PREFIX:session:DIGEST`` (user id, absolute expiry, last use)
that Redis itself removes at the absolute expiry, and each user's digests are listed in ``PREFIX:user-sessions:ID``
so that a password reset can end them all. A Redis outage answers ``unavailable``, like a database outage.

Tested in tests/test_staff_sessions.py.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from chatbot.store.base import StoreUnavailable, new_token, token_digest
from chatbot.store.models import User

if TYPE_CHECKING:
    from chatbot.store import Store


class Sessions:
    """Sessions in the database (the ``staff_sessions`` table)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def create(self, user_id: str, lifetime: timedelta) -> str:
        """A new session; the cookie's secret."""
        return await self.store.create_staff_session(user_id, lifetime)

    async def user(self, digest: str, idle: timedelta, touch: bool = True) -> User | None:
        """The account a live session belongs to (moving its idle clock when ``touch``), or None."""
        return await self.store.session_user(digest, idle, touch=touch)

    async def end(self, token: str) -> bool:
        return await self.store.end_staff_session(token)

    async def end_user(self, user_id: str) -> None:
        """Nothing to do here: the store ends a user's database sessions in the same transaction as the change."""


class RedisSessions(Sessions):
    """Sessions in Redis, shared by every process; the accounts stay in the database."""

    def __init__(self, store: Store, redis: Any, prefix: str) -> None:
        super().__init__(store)
        self.redis = redis
        self.prefix = prefix

    def _key(self, digest: str) -> str:
        return f"{self.prefix}:session:{digest}"

    def _user_key(self, user_id: str) -> str:
        return f"{self.prefix}:user-sessions:{user_id}"

    async def _call(self, action: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return await getattr(self.redis, action)(*args, **kwargs)
        except Exception as exc:  # redis-py raises several families (ConnectionError, TimeoutError, OSError)
            raise StoreUnavailable(f"redis: {type(exc).__name__}") from None

    async def create(self, user_id: str, lifetime: timedelta) -> str:
        token, now = new_token(), time.time()
        digest, seconds = token_digest(token), int(lifetime.total_seconds())
        await self._call("hset", self._key(digest), mapping={"user": user_id, "expires": now + seconds, "seen": now})
        await self._call("expire", self._key(digest), seconds)
        await self._call("sadd", self._user_key(user_id), digest)
        await self._call("expire", self._user_key(user_id), seconds)
        return token

    async def user(self, digest: str, idle: timedelta, touch: bool = True) -> User | None:
        found = await self._call("hgetall", self._key(digest))
        if not found:
            return None
        fields = {key.decode(): value.decode() for key, value in found.items()}
        now = time.time()
        user = await self.store.user_by_id(fields["user"])
        alive = now < float(fields["expires"]) and now - float(fields["seen"]) < idle.total_seconds()
        if user is None or user.disabled or not alive:
            await self._call("delete", self._key(digest))
            return None
        if touch:
            await self._call("hset", self._key(digest), "seen", now)
        return user

    async def end(self, token: str) -> bool:
        return bool(await self._call("delete", self._key(token_digest(token))))

    async def end_user(self, user_id: str) -> None:
        digests = await self._call("smembers", self._user_key(user_id))
        keys = [self._key(digest.decode()) for digest in digests or ()]
        await self._call("delete", self._user_key(user_id), *keys)
