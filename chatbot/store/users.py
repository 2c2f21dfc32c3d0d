"""Staff accounts and their sessions: users (password hashes made by the caller) and server-side sessions.

A session's cookie secret is stored only as a SHA-256 digest. ``session_user`` is the one place that decides
whether a session still holds: not past its absolute expiry, used within the idle limit, its user not
disabled; using it moves its idle clock.

Tested in tests/test_users.py, tests/test_migrations.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from chatbot.store.base import Database, new_id, new_token, rows_changed, token_digest
from chatbot.store.models import StaffSession, User, utcnow


class UserQueries(Database):
    async def create_user(self, email: str, name: str, role: str, password_hash: str) -> User:
        """A new staff account; ValueError if the email is taken."""
        user = User(id=new_id(), email=email, name=name, role=role, password_hash=password_hash,
                    disabled=False, created_at=utcnow())
        await self.add_unique(user, f"a user with the email {email!r} already exists")
        return user

    async def users(self) -> list[User]:
        async with self.transaction() as session:
            return list(await session.scalars(select(User).order_by(User.email)))

    async def user_by_email(self, email: str) -> User | None:
        async with self.transaction() as session:
            user: User | None = await session.scalar(select(User).where(User.email == email))
            return user

    async def set_user_disabled(self, email: str, disabled: bool) -> User | None:
        """Disable (ending every session at once) or enable an account; None if unknown."""
        async with self.transaction() as session:
            user = await session.scalar(select(User).where(User.email == email))
            if user is None:
                return None
            user.disabled = disabled
            if disabled:
                await session.execute(delete(StaffSession).where(StaffSession.user_id == user.id))
            return user

    async def set_user_role(self, email: str, role: str) -> tuple[User, str] | None:
        """Change a role; the user and their previous role, or None if unknown. Open sessions keep going and
        carry the new role from their next request."""
        async with self.transaction() as session:
            user = await session.scalar(select(User).where(User.email == email))
            if user is None:
                return None
            previous, user.role = user.role, role
            return user, previous

    async def set_user_password(self, email: str, password_hash: str) -> bool:
        """Replace the password hash and end every session of the user; False if unknown."""
        async with self.transaction() as session:
            result = await session.execute(update(User).where(User.email == email).values(password_hash=password_hash))
            if rows_changed(result) != 1:
                return False
            user_id = select(User.id).where(User.email == email).scalar_subquery()
            await session.execute(delete(StaffSession).where(StaffSession.user_id == user_id))
        return True

    # -- sessions ------------------------------------------------------------

    async def create_staff_session(self, user_id: str, lifetime: timedelta) -> str:
        """A new session for the user; returns the cookie's secret (stored only as its digest)."""
        token, now = new_token(), utcnow()
        async with self.transaction() as session:
            session.add(StaffSession(token_hash=token_digest(token), user_id=user_id, created_at=now,
                                     last_seen_at=now, expires_at=now + lifetime))
        return token

    async def session_user(self, digest: str, idle: timedelta, now: datetime | None = None,
                           touch: bool = True) -> User | None:
        """The user whose session has this cookie digest, or None (unknown, idle too long, expired or user
        disabled); a session found dead is deleted, a live one has its idle clock reset (unless not ``touch``:
        the server's own re-checks are not the person's use)."""
        now = now or utcnow()
        async with self.transaction() as session:
            found = (await session.execute(
                select(StaffSession, User).join(User, User.id == StaffSession.user_id)
                .where(StaffSession.token_hash == digest)
            )).first()
            if found is None:
                return None
            staff_session, user = found
            if user.disabled or now >= staff_session.expires_at or now - staff_session.last_seen_at >= idle:
                await session.delete(staff_session)
                return None
            if touch:
                staff_session.last_seen_at = now
            return user

    async def end_staff_session(self, token: str) -> bool:
        async with self.transaction() as session:
            result = await session.execute(delete(StaffSession).where(StaffSession.token_hash == token_digest(token)))
        return rows_changed(result) == 1
