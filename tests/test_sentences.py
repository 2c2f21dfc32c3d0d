"""chatbot.bot.understanding.sentences: which units of a message ask something, and what is scanned."""

from __future__ import annotations

import pytest

from chatbot.bot.understanding.sentences import MAX_UNITS, asks, denies, questions, scan_units, sentences


def test_a_story_before_the_question_leaves_only_the_question() -> None:
    text = "I've been a baker for years. My back aches every morning. Does heat help?"
    assert sentences(text) == ["I've been a baker for years.", "My back aches every morning.", "Does heat help?"]
    assert questions(text) == ["Does heat help?"]


def test_two_questions_in_one_sentence_are_split_where_the_second_starts() -> None:
    assert questions("does heat help and how long should I rest?") == ["does heat help", "how long should I rest?"]
    assert questions("¿qué es la cortisona y cuánto reposo necesito?") == [
        "¿qué es la cortisona", "cuánto reposo necesito?"
    ]


def test_questions_without_a_question_mark_are_recognised() -> None:
    assert asks("what is a cortisone shot") and asks("i was wondering about seminars")
    assert asks("quisiera saber el horario")
    assert asks("my husband wants to know if the seminar costs anything") and asks("mi esposo quiere saber el horario")
    assert asks("hay citas esta semana") and not asks("hay mañanas que no puedo ni peinarme.")  # a full stop: told
    assert not asks("my back hurts every day.") and not asks("gracias")


def test_a_message_with_no_question_has_no_question_units() -> None:
    assert questions("hello") == [] and questions("thanks, bye") == []


def test_long_sentences_are_also_scanned_clause_by_clause() -> None:
    text = "I sit at a desk all day and my upper back aches a lot, but since last night I can't feel my legs"
    units = scan_units(text)
    assert "since last night I can't feel my legs" in units


def test_work_is_bounded_on_any_input() -> None:
    assert len(sentences("a. " * 5000)) == MAX_UNITS
    assert sentences("🙂🙂 ... !!!") == [] and questions("") == []


@pytest.mark.parametrize("clause", [
    "no fever", "I don't have any numbness", "sin fiebre", "I've never had bladder problems",
    "never lost control of my bladder", "nunca he perdido el control",
])
def test_a_denial_is_read_as_one(clause: str) -> None:
    assert denies(clause)


@pytest.mark.parametrize("clause", [
    "never had a headache like this before", "I've never had pain like this", "nunca he tenido un dolor así",
    "no puedo caminar", "I can't feel my legs", "I don't want to live",
])
def test_a_first_time_or_a_lost_ability_is_not_a_denial(clause: str) -> None:
    assert not denies(clause)
