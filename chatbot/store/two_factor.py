"""The second factor's rows: a secret being enrolled, the confirmed one, the last step used, recovery codes.

Secrets arrive here already sealed (``chatbot/shared/totp.py``) and recovery codes as digests: the store never
sees either in clear. ``use_totp_step`` and ``use_recovery_code`` are single conditional statements, so a code is
accepted once, whichever process two attempts reach.

Tested in tests/test_two_factor.py.
"""

from __future__ import annotations

from sqlalchemy import delete, func, or_, select, update

from chatbot.store.base import Database, rows_changed
from chatbot.store.models import RecoveryCode, User


class TwoFactorQueries(Database):
    async def user_by_id(self, user_id: str) -> User | None:
        async with self.transaction() as session:
            user: User | None = await session.get(User, user_id)
            return user

    async def set_totp_pending(self, user_id: str, sealed: str) -> bool:
        """Start (or restart) an enrolment; False when the user already has a second factor."""
        async with self.transaction() as session:
            result = await session.execute(
                update(User).where(User.id == user_id, User.totp_secret.is_(None)).values(totp_pending=sealed)
            )
        return rows_changed(result) == 1

    async def confirm_totp(self, user_id: str, sealed: str, step: int, recovery_digests: list[str]) -> bool:
        """Make the pending secret the user's second factor, with new recovery codes; False when the pending
        secret changed meanwhile (another enrolment started) or a factor is already on."""
        async with self.transaction() as session:
            result = await session.execute(
                update(User)
                .where(User.id == user_id, User.totp_pending == sealed, User.totp_secret.is_(None))
                .values(totp_secret=sealed, totp_pending=None, totp_last_step=step)
            )
            if rows_changed(result) != 1:
                return False
            await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
            session.add_all(RecoveryCode(code_hash=digest, user_id=user_id) for digest in recovery_digests)
        return True

    async def use_totp_step(self, user_id: str, step: int) -> bool:
        """Record ``step`` as the last used; False when it or a later one was used already (a replay)."""
        async with self.transaction() as session:
            result = await session.execute(
                update(User)
                .where(User.id == user_id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
                .values(totp_last_step=step)
            )
        return rows_changed(result) == 1

    async def use_recovery_code(self, user_id: str, digest: str) -> bool:
        """Spend one recovery code (it is deleted); False when it is not one of the user's unused codes."""
        async with self.transaction() as session:
            result = await session.execute(
                delete(RecoveryCode).where(RecoveryCode.user_id == user_id, RecoveryCode.code_hash == digest)
            )
        return rows_changed(result) == 1

    async def recovery_codes_left(self, user_id: str) -> int:
        async with self.transaction() as session:
            count = await session.scalar(
                select(func.count()).select_from(RecoveryCode).where(RecoveryCode.user_id == user_id)
            )
        return int(count or 0)

    async def remove_totp(self, email: str) -> bool:
        """Turn the user's second factor off (an admin's reset for a lost phone); False if the email is unknown."""
        async with self.transaction() as session:
            user = await session.scalar(select(User).where(User.email == email))
            if user is None:
                return False
            user.totp_secret = user.totp_pending = user.totp_last_step = None
            await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
        return True
