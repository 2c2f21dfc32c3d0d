"""Queries for service levels: estimated wait and auto-assignment offers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, desc, func, select, update
from sqlalchemy.orm import aliased

from chatbot.store.base import Database, rows_changed
from chatbot.store.models import Conversation, State, StateChange, utcnow


def takes_since(since: datetime) -> Select[int, datetime, datetime]:
    """Each take from the queue since ``since`` with the moment of its conversation's latest queueing before it.

    The one wait-time calculation: the estimate a queued visitor sees, the
    admin's stats and the dashboard all use it. A conversation queued, released
    and queued again waits from its latest queueing before each take; a take
    with no queueing before it is left out.
    """
    queued, queueing = aliased(StateChange), aliased(StateChange)
    latest_queueing = (
        select(func.max(queued.id))
        .where(queued.to_state == State.QUEUED, queued.conversation_id == StateChange.conversation_id,
               queued.id < StateChange.id)
        .scalar_subquery()
    )  # one look-up in ix_state_changes_to_state per take
    return (
        select(StateChange.id.label("take_id"), StateChange.created_at.label("taken"),
               queueing.created_at.label("queued"))
        .join(queueing, queueing.id == latest_queueing)
        .where(StateChange.from_state == State.QUEUED, StateChange.to_state == State.AGENT,
               StateChange.created_at >= since)
    )


class ServiceLevelQueries(Database):
    async def take_waits(self, since: datetime, limit: int | None = None) -> list[float]:
        """Seconds from queued to taken, for each take from the queue since ``since`` (the latest ``limit``)."""
        takes = takes_since(since).order_by(desc("take_id"))
        async with self.transaction() as session:
            rows = await session.execute(takes if limit is None else takes.limit(limit))
            return [(taken - waited_from).total_seconds() for _, taken, waited_from in rows]

    async def had_representative(self, conversation_id: str) -> bool:
        """Whether a representative ever held the conversation (it may have been handed back since)."""
        async with self.transaction() as session:
            taken = select(StateChange.id).where(
                StateChange.conversation_id == conversation_id, StateChange.to_state == State.AGENT
            )
            return bool(await session.scalar(select(taken.exists())))

    # -- auto-assignment -----------------------------------------------------

    async def offer(self, conversation_id: str, agent_id: str, expires_at: datetime) -> bool:
        """Offer a queued conversation to a representative, unless a live offer stands.

        An expired offer's representative joins ``offered_agents`` (tried already),
        so the next offer goes to someone else. Optimistic: the update only lands
        if nobody changed the offer since we read it, so one process wins.
        """
        now = utcnow()
        async with self.transaction() as session:
            conversation = await session.get(Conversation, conversation_id)
            if conversation is None or conversation.state != State.QUEUED:
                return False
            current, expiry = conversation.offered_to, conversation.offer_expires_at
            if current is not None and expiry is not None and expiry > now:
                return False
            tried = list(conversation.offered_agents or [])
            if current is not None and current not in tried:
                tried.append(current)
            unchanged = Conversation.offered_to.is_(None) if current is None else Conversation.offered_to == current
            result = await session.execute(
                update(Conversation)
                .where(Conversation.id == conversation_id, Conversation.state == State.QUEUED, unchanged)
                .values(offered_to=agent_id, offer_expires_at=expires_at, offered_agents=tried)
            )
        return rows_changed(result) == 1

    async def decline(self, conversation_id: str, agent_id: str) -> bool:
        """Withdraw a live offer to ``agent_id``, remembering they said no."""
        async with self.transaction() as session:
            conversation = await session.get(Conversation, conversation_id)
            if conversation is None or conversation.offered_to != agent_id:
                return False
            tried = [*(conversation.offered_agents or []), agent_id]
            result = await session.execute(
                update(Conversation)
                .where(Conversation.id == conversation_id, Conversation.offered_to == agent_id)
                .values(offered_to=None, offer_expires_at=None, offered_agents=tried)
            )
        return rows_changed(result) == 1

    async def loads(self, agent_ids: Sequence[str]) -> dict[str, tuple[int, datetime | None]]:
        """For each representative: conversations held plus live offers, and when they last took one."""
        now = utcnow()
        async with self.transaction() as session:
            held = dict(
                (
                    await session.execute(
                        select(Conversation.agent_id, func.count())
                        .where(Conversation.state == State.AGENT, Conversation.agent_id.in_(agent_ids))
                        .group_by(Conversation.agent_id)
                    )
                ).all()
            )
            offered = dict(
                (
                    await session.execute(
                        select(Conversation.offered_to, func.count())
                        .where(
                            Conversation.state == State.QUEUED,
                            Conversation.offered_to.in_(agent_ids),
                            Conversation.offer_expires_at > now,
                        )
                        .group_by(Conversation.offered_to)
                    )
                ).all()
            )
            last_take = dict(
                (
                    await session.execute(
                        select(StateChange.agent_id, func.max(StateChange.created_at))
                        .where(StateChange.to_state == State.AGENT, StateChange.agent_id.in_(agent_ids))
                        .group_by(StateChange.agent_id)
                    )
                ).all()
            )
        return {a: (held.get(a, 0) + offered.get(a, 0), last_take.get(a)) for a in agent_ids}
