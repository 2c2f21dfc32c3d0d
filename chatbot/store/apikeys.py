"""Keys of the REST API: made with a name, shown once, kept as a SHA-256 digest, revoked by name.

A key is 256 random bits, so an unsalted digest is enough (nothing to brute-force), and finding it by its digest
reveals nothing about other keys; the digest found is compared again in constant time.

Tested in tests/test_api.py.
"""

from __future__ import annotations

import hmac
import secrets

from sqlalchemy import select, update

from chatbot.store.base import Database, new_id, rows_changed, token_digest
from chatbot.store.models import ApiKey, utcnow

KEY_PREFIX = "cbk_"
"""Keys start with this, so a leaked one is recognised by secret scanners and by people."""


class ApiKeyQueries(Database):
    async def create_api_key(self, name: str) -> tuple[ApiKey, str]:
        """A new key and its secret (returned once); ValueError if the name is taken."""
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        key = ApiKey(id=new_id(), name=name, key_hash=token_digest(secret), created_at=utcnow())
        await self.add_unique(key, f"an API key named {name!r} already exists")
        return key, secret

    async def api_key(self, secret: str) -> ApiKey | None:
        """The live (not revoked) key this secret is, or None."""
        digest = token_digest(secret)
        async with self.transaction() as session:
            key = await session.scalar(select(ApiKey).where(ApiKey.key_hash == digest))
        if key is None or key.revoked_at is not None or not hmac.compare_digest(key.key_hash, digest):
            return None
        return key

    async def api_keys(self) -> list[ApiKey]:
        async with self.transaction() as session:
            return list(await session.scalars(select(ApiKey).order_by(ApiKey.created_at, ApiKey.name)))

    async def revoke_api_key(self, name: str) -> bool:
        """Stop the key from working (its row stays, for the audit trail); False if no live key has that name."""
        async with self.transaction() as session:
            result = await session.execute(
                update(ApiKey).where(ApiKey.name == name, ApiKey.revoked_at.is_(None)).values(revoked_at=utcnow())
            )
        return rows_changed(result) > 0
