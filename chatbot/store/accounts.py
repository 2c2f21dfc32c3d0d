"""Representative accounts: tokens kept as digests, compared in constant time.

Tested in tests/test_agents.py, tests/test_representatives.py.
"""

from __future__ import annotations

import hmac
from collections.abc import Collection

from sqlalchemy import select, update

from chatbot.store.base import Database, new_id, new_token, rows_changed, token_digest
from chatbot.store.models import Agent, Conversation, State, User, utcnow


class AccountQueries(Database):
    # -- representatives -----------------------------------------------------

    async def create_agent(self, name: str) -> tuple[Agent, str]:
        """A new representative and their token (shown once, stored as a digest); ValueError if the name is taken."""
        token = new_token()
        agent = Agent(id=new_id(), name=name, token_hash=token_digest(token), created_at=utcnow())
        await self.add_unique(agent, f"a representative named {name!r} already exists")
        return agent, token

    async def agent_by_token(self, token: str) -> Agent | None:
        digest = token_digest(token)
        async with self.transaction() as session:
            agent = await session.scalar(select(Agent).where(Agent.token_hash == digest))
        if agent is None or not hmac.compare_digest(agent.token_hash, digest):
            return None
        return agent

    async def agent_token_current(self, agent_id: str, token_hash: str) -> bool:
        """True while the representative exists and ``token_hash`` is still their token's digest."""
        async with self.transaction() as session:
            current = await session.scalar(select(Agent.token_hash).where(Agent.id == agent_id))
        return current is not None and hmac.compare_digest(current, token_hash)

    async def agents(self) -> list[Agent]:
        async with self.transaction() as session:
            return list(await session.scalars(select(Agent).order_by(Agent.name)))

    async def remove_agent(self, name: str) -> bool:
        async with self.transaction() as session:
            agent = await session.scalar(select(Agent).where(Agent.name == name))
            if agent is None:
                return False
            await session.delete(agent)
        return True

    async def rotate_agent(self, name: str) -> str | None:
        """Give the representative a new token (the old one stops working); None if unknown."""
        token = new_token()
        async with self.transaction() as session:
            result = await session.execute(
                update(Agent).where(Agent.name == name).values(token_hash=token_digest(token))
            )
        return token if rows_changed(result) == 1 else None

    async def representative_names(self, ids: Collection[str]) -> dict[str, str]:
        """The names of these representatives, staff accounts (not disabled) and token accounts alike; an unknown
        id is left out."""
        if not ids:
            return {}
        async with self.transaction() as session:
            users = (await session.execute(
                select(User.id, User.name).where(User.id.in_(ids), User.disabled.is_(False))
            )).all()
            agents = (await session.execute(select(Agent.id, Agent.name).where(Agent.id.in_(ids)))).all()
        return {row.id: row.name for row in [*agents, *users]}

    async def held(self) -> list[Conversation]:
        """Every conversation a representative holds."""
        async with self.transaction() as session:
            return list(await session.scalars(select(Conversation).where(Conversation.state == State.AGENT)))

    async def held_by(self, agent_id: str) -> list[Conversation]:
        """The open conversations a representative holds."""
        async with self.transaction() as session:
            rows = await session.scalars(
                select(Conversation).where(Conversation.agent_id == agent_id, Conversation.state == State.AGENT)
            )
            return list(rows)
