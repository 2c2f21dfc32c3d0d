"""Grouping unanswered messages: paraphrases of one topic together, different topics apart."""

from datetime import UTC, datetime

from chatbot.admin.unanswered import Unanswered, group

QUESTIONS = {
    "insurance": ["do you take my insurance", "is my insurance accepted", "do you take aetna insurance",
                  "will my health insurance pay for this"],
    "parking": ["is there parking at the clinic", "where do I park when I come in", "do you validate parking",
                "is there a parking garage near you"],
    "referral": ["do I need a referral from my doctor", "does my doctor have to refer me"],
    "access": ["is the building wheelchair accessible"],
    "medicare": ["do you accept medicare"],
}  # fmt: skip


def test_paraphrases_share_a_group_and_topics_stay_apart() -> None:
    now = datetime.now(UTC)
    topic_of = {text: topic for topic, texts in QUESTIONS.items() for text in texts}
    messages = [Unanswered(str(i), text, "en", now, None) for i, text in enumerate(topic_of)]
    groups = group(messages)
    topics = [{topic_of[text] for text in g.examples} for g in groups]
    assert all(len(found) == 1 for found in topics), topics
    assert sorted(g.count for g in groups) == sorted(len(texts) for texts in QUESTIONS.values())
