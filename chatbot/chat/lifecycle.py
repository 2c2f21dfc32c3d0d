"""The conversation lifecycle: its states, why it changes state, and which changes are allowed.

One table, ``TRANSITIONS``, says for every reason which states a conversation
may leave for which one. Every change of state is built by ``change()``, which
refuses what the table does not allow, so the rules live here once: the
conversation service (the only caller) and the store's conditional update then
make each change happen at most once, across processes.

``bot -> queued`` (a handoff, for one of ``HANDOFF_REASONS``), ``bot|queued ->
agent`` (a representative takes it), ``agent -> queued`` (released), ``agent ->
bot`` (handed back), and any open state ``-> closed``.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any

from chatbot.store import Transition


class State(StrEnum):
    BOT = "bot"
    QUEUED = "queued"
    AGENT = "agent"
    CLOSED = "closed"


OPEN = frozenset({State.BOT, State.QUEUED, State.AGENT})


class Reason(StrEnum):
    """Why a conversation is in its state; stored with every change and sent in ``state`` events."""

    CREATED = "created"
    # bot -> queued: the bot hands off
    LOW_CONFIDENCE = "low_confidence"
    REQUESTED = "requested"
    URGENT = "urgent"
    PRICING = "pricing"
    BOOKING = "booking"
    PRESCRIPTION = "prescription"
    PERSONAL_RESULT = "personal_result"
    DIAGNOSIS = "diagnosis"
    NAMED_PERSON = "named_person"
    COMPLAINT = "complaint"
    AFTER_HOURS = "after_hours"
    # a representative acts
    TAKEOVER = "takeover"
    ASSIGNED = "assigned"
    RELEASED = "released"
    HANDBACK = "handback"
    # -> closed
    CLOSED_BY_VISITOR = "closed_by_visitor"
    CLOSED_BY_AGENT = "closed_by_agent"
    IDLE = "idle"


HANDOFF_REASONS = frozenset({
    Reason.LOW_CONFIDENCE, Reason.REQUESTED, Reason.URGENT, Reason.PRICING, Reason.BOOKING, Reason.PRESCRIPTION,
    Reason.PERSONAL_RESULT, Reason.DIAGNOSIS, Reason.NAMED_PERSON, Reason.COMPLAINT, Reason.AFTER_HOURS,
})
CLOSE_REASONS = frozenset({Reason.CLOSED_BY_VISITOR, Reason.CLOSED_BY_AGENT, Reason.IDLE})

TRANSITIONS: dict[Reason, tuple[frozenset[State], State]] = {
    **{reason: (frozenset({State.BOT}), State.QUEUED) for reason in HANDOFF_REASONS},
    # A take is decided by the write: the conversation may have moved between bot and queued since it was read.
    Reason.TAKEOVER: (frozenset({State.BOT, State.QUEUED}), State.AGENT),
    Reason.ASSIGNED: (frozenset({State.BOT, State.QUEUED}), State.AGENT),
    Reason.RELEASED: (frozenset({State.AGENT}), State.QUEUED),
    Reason.HANDBACK: (frozenset({State.AGENT}), State.BOT),
    **{reason: (OPEN, State.CLOSED) for reason in CLOSE_REASONS},
}
"""reason -> (the states a conversation may leave for it, the state it enters)."""


def change(reason: Reason, expect: Iterable[State] | None = None, **conditions: Any) -> Transition:
    """The state change for ``reason``, from the table's states or from the narrower ``expect``.

    ``conditions`` are the store's extra requirements and what to record
    (``expect_agent``, ``expect_offer_to``, ``agent_id``, ``agent_name``).
    Raises ValueError for a change the table does not allow: a bug, never a visitor's doing.
    """
    allowed, to_state = TRANSITIONS[reason]
    states = allowed if expect is None else frozenset(expect)
    if not states or not states <= allowed:
        raise ValueError(f"{reason} cannot move a conversation out of {sorted(states - allowed) or 'no state'}")
    return Transition(to_state=to_state, reason=reason, expect=tuple(sorted(states)), **conditions)
