"""The conversation lifecycle: its states, why it changes state, and which changes are allowed.

One table, ``TRANSITIONS``, says for every reason which states a conversation
may leave for which one. Every change of state is built by ``change()``, which
refuses what the table does not allow, so the rules live here once: the
conversation service (the only caller) and the store's conditional update then
make each change happen at most once, across processes.

The states and reasons themselves are the values of the database's columns and
live with the models (``store/models.py``, so that the store's queries name them
too); they are imported from here by everything above the store.

``bot -> queued`` (a handoff, for one of ``HANDOFF_REASONS``), ``bot|queued ->
agent`` (a representative takes it), ``agent -> queued`` (released), ``agent ->
bot`` (handed back), ``agent -> agent`` (transferred), and any open state ``-> closed``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from chatbot.store import Transition
from chatbot.store.models import Reason, State

__all__ = ["CLOSE_REASONS", "EVENTS", "HANDOFF_REASONS", "OPEN", "TRANSITIONS", "Reason", "State", "change"]


OPEN = frozenset({State.BOT, State.QUEUED, State.AGENT})


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
    Reason.TRANSFERRED: (frozenset({State.AGENT}), State.AGENT),  # from one representative to another
    **{reason: (OPEN, State.CLOSED) for reason in CLOSE_REASONS},
}
"""reason -> (the states a conversation may leave for it, the state it enters)."""

EVENTS: dict[Reason, str] = {
    **{reason: "conversation.handed_off" for reason in HANDOFF_REASONS},
    Reason.TAKEOVER: "conversation.assigned",
    Reason.ASSIGNED: "conversation.assigned",
    Reason.TRANSFERRED: "conversation.assigned",
    **{reason: "conversation.closed" for reason in CLOSE_REASONS},
}
"""reason -> the webhook event its change records in the same transaction (docs/integrations.md); a release or a
hand-back records none."""


def change(reason: Reason, expect: Iterable[State] | None = None, **conditions: Any) -> Transition:
    """The state change for ``reason``, from the table's states or from the narrower ``expect``.

    ``conditions`` are the store's extra requirements and what to record
    (``expect_agent``, ``expect_offer_to``, ``agent_id``, ``agent_name``, ``event_data``, ``notify``).
    Raises ValueError for a change the table does not allow: a bug, never a visitor's doing.
    """
    allowed, to_state = TRANSITIONS[reason]
    states = allowed if expect is None else frozenset(expect)
    if not states or not states <= allowed:
        raise ValueError(f"{reason} cannot move a conversation out of {sorted(states - allowed) or 'no state'}")
    return Transition(to_state=to_state, reason=reason, expect=tuple(sorted(states)), event=EVENTS.get(reason),
                      **conditions)
