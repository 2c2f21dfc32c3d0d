"""The audit trail: rows appended to one hash chain, read back, and the chain verified.

Each row's hash is SHA-256 over the previous row's hash and the row's own fields, and ``prev_hash`` is unique:
two processes appending at once cannot both chain onto the same row (the loser retries onto the winner), so the
trail stays one line. ``verify`` walks it from the first row: a changed row no longer matches its hash, and a
deleted or inserted one breaks the link of the row after it. Removing rows at the very end leaves a shorter but
valid chain; ``verify`` prints the last hash so that it can be written down elsewhere and compared.

Tested in tests/test_audit.py.
"""

from __future__ import annotations

import getpass
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from chatbot.store.base import Database
from chatbot.store.models import AuditEntry, utcnow

GENESIS = "0" * 64
RETRIES = 20
PAGE = 1000


def cli_actor() -> str:
    """Who a command-line change or read is, in the trail: the operating-system user who ran it."""
    return f"cli:{getpass.getuser()}"


def chain_hash(prev_hash: str, at: datetime, actor: str, action: str, target: str | None, address: str | None) -> str:
    """What ``hash`` must hold for a row with these fields after a row whose hash is ``prev_hash``."""
    fields = [prev_hash, at.isoformat(), actor, action, target, address]
    return hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Verified:
    """What ``verify_audit`` found: how many rows, the hash of the last one, and every break in the chain."""

    rows: int
    head: str
    problems: list[str]


class AuditQueries(Database):
    async def append_audit(self, actor: str, action: str, target: str | None = None,
                           address: str | None = None) -> AuditEntry:
        """Append one row to the chain (retrying when another process appended first)."""
        return (await self.append_audits(actor, action, [target], address))[0]

    async def append_audits(self, actor: str, action: str, targets: Sequence[str | None],
                            address: str | None = None) -> list[AuditEntry]:
        """Append one row per target, chained in one transaction (a page of the REST API: a row per record read)."""
        for _ in range(RETRIES):
            try:
                async with self.transaction() as session:
                    last = await session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1))
                    prev_hash, entries = last or GENESIS, []
                    for target in targets:
                        at = utcnow()
                        entry = AuditEntry(at=at, actor=actor, action=action, target=target, address=address,
                                           prev_hash=prev_hash,
                                           hash=chain_hash(prev_hash, at, actor, action, target, address))
                        session.add(entry)
                        await session.flush()  # in order: each row's id after the one it chains onto
                        entries.append(entry)
                        prev_hash = entry.hash
                return entries
            except IntegrityError:
                continue
        raise RuntimeError(f"could not append to the audit trail after {RETRIES} tries")

    async def audit_rows(self, since: datetime | None = None, actor: str | None = None,
                         limit: int = 100) -> list[AuditEntry]:
        """The newest rows first, from ``since``, of one ``actor`` when given."""
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        if since is not None:
            query = query.where(AuditEntry.at >= since)
        if actor is not None:
            query = query.where(AuditEntry.actor == actor)
        async with self.transaction() as session:
            return list(await session.scalars(query))

    async def verify_audit(self) -> Verified:
        """Walk the chain from its first row, a page at a time, and report every break."""
        expected, after, rows, problems = GENESIS, 0, 0, []
        while True:
            async with self.transaction() as session:
                page = list(await session.scalars(
                    select(AuditEntry).where(AuditEntry.id > after).order_by(AuditEntry.id).limit(PAGE)
                ))
            for row in page:
                if row.prev_hash != expected:
                    problems.append(f"row {row.id}: does not follow the row before it (a row was deleted, "
                                    f"inserted or changed before it)")
                if chain_hash(row.prev_hash, row.at, row.actor, row.action, row.target, row.address) != row.hash:
                    problems.append(f"row {row.id}: its fields no longer match its hash (the row was changed)")
                expected, after, rows = row.hash, row.id, rows + 1
            if len(page) < PAGE:
                return Verified(rows, expected, problems)
