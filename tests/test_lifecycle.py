"""chatbot.chat.lifecycle: the one table of allowed state changes (over sockets: test_agents, test_routing)."""

from __future__ import annotations

import pytest

from chatbot.bot.understanding.requests import REASONS
from chatbot.chat.lifecycle import CLOSE_REASONS, HANDOFF_REASONS, OPEN, TRANSITIONS, Reason, State, change


def test_every_reason_but_created_has_a_row() -> None:
    assert set(TRANSITIONS) == set(Reason) - {Reason.CREATED}


def test_the_bot_hands_off_only_from_bot_and_every_request_reason_is_a_handoff() -> None:
    for reason in HANDOFF_REASONS:
        assert change(reason).expect == ("bot",) and change(reason).to_state == State.QUEUED
    assert {Reason(reason) for reason in REASONS.values()} <= HANDOFF_REASONS


def test_closing_from_any_open_state_and_nothing_leaves_closed() -> None:
    for reason in CLOSE_REASONS:
        assert set(change(reason).expect) == OPEN and change(reason).to_state == State.CLOSED
    assert all(State.CLOSED not in allowed for allowed, _ in TRANSITIONS.values())


def test_a_caller_may_narrow_a_change_but_never_widen_it() -> None:
    accepted = change(Reason.ASSIGNED, {State.QUEUED}, expect_offer_to="rep-1", agent_id="rep-1")
    assert accepted.expect == ("queued",) and accepted.expect_offer_to == "rep-1"
    with pytest.raises(ValueError, match="handback cannot move a conversation out of"):
        change(Reason.HANDBACK, {State.QUEUED})
    with pytest.raises(ValueError):
        change(Reason.RELEASED, set())
