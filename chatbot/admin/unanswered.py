"""The unanswered report: find the messages the bot could not answer, group them, draft intents from the groups.

Grouping is lexical, on purpose: no model to download, and an admin can see
why two messages ended up together. Each message is normalised, stripped of
function words (English and Spanish, and verbs that say nothing of the topic:
*take*, *come*, *bring*), its words reduced to a stem (a common suffix cut off,
then at most six letters: *park*, *parking*; *accept*, but *accessible* apart
from it), then weighted by TF-IDF; groups are the clusters of an
average-linkage agglomerative clustering under a cosine-distance threshold.
The threshold, 0.85, was chosen with the first stems (every word cut to four
letters) on 55 hand-labelled out-of-scope questions in 12 topics: it never put
two topics in one group there, while 0.9 merged topics that merely share a
word, such as "procedure". But those four-letter stems merged
*accept* with *accessible* and *appointment* with *apply*: 30 clinic-adjacent
questions (insurance, parking, payment, referrals...) came out in 11 groups of
which 4 mixed topics; with these stems, 2 of 11 do (tests/test_unanswered.py).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from sklearn.cluster import AgglomerativeClustering
from sklearn.feature_extraction.text import TfidfVectorizer

from chatbot.bot.intents import LANGUAGES
from chatbot.bot.text import normalize
from chatbot.chat.protocol import iso
from chatbot.store.reads import Unanswered

DISTANCE = 0.85
STEM = 6
_SUFFIXES = ("ations", "ation", "ments", "ment", "ances", "ance", "ences", "ence", "ibles", "ible", "ables", "able",
             "ings", "ing", "iones", "ions", "ion", "ed", "es", "s")
_MIN_STEM = 4
_FUNCTION_WORDS = frozenset(
    """
a an the is are was were be been am do does did have has had i me my you your we our us it its this that these those
there here what which who whom when where why how can could will would should may might must of in on at to for from by
with about as into after before over under and or but if so not no yes any some all more most very just also than then
too please hi hello get got want need like know tell much many long take come go make bring one thing
el la los las un una unos unas de del al y o que en es son se su sus por para con como cuando donde cual quien hay me mi
mis yo tu usted ustedes le les lo nos si pero mas muy ya este esta estos estas eso esa puedo puede pueden quiero tengo
tiene hola gracias cuanto cuanta cuantos cuantas
""".split()
)


@dataclass(frozen=True)
class Group:
    """Similar unanswered messages in one language, with what representatives answered them with."""

    lang: str
    count: int
    examples: list[str]  # distinct texts, most frequent first
    answers: list[str]  # representatives' first replies, most frequent first
    conversations: list[str]  # a few conversation ids, to open their transcripts
    last_seen: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "lang": self.lang,
            "count": self.count,
            "examples": self.examples,
            "answers": self.answers,
            "conversations": self.conversations,
            "last_seen": iso(self.last_seen),
        }


# -- grouping ----------------------------------------------------------------------


def _content_words(text: str) -> list[str]:
    return [word for word in normalize(text).split() if len(word) > 1 and word not in _FUNCTION_WORDS]


def _stem(word: str) -> str:
    """The word without its first matching suffix (if at least ``_MIN_STEM`` letters remain), cut to ``STEM``."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= _MIN_STEM:
            return word[: -len(suffix)][:STEM]
    return word[:STEM]


def _key(text: str) -> str:
    """What the clustering compares: the content words' stems, or the whole normalised text if none is left."""
    stems = " ".join(_stem(word) for word in _content_words(text))
    return stems or normalize(text) or text.strip().casefold()


def _clusters(keys: Sequence[str]) -> list[int]:
    """A cluster label per key (keys are distinct)."""
    if len(keys) < 2:
        return [0] * len(keys)
    try:
        vectors = TfidfVectorizer(sublinear_tf=True, token_pattern=r"(?u)\b\w+\b").fit_transform(keys)
    except ValueError:  # not one word among them: nothing to compare
        return list(range(len(keys)))
    distances = np.clip(1.0 - (vectors @ vectors.T).toarray(), 0.0, 2.0)
    np.fill_diagonal(distances, 0.0)
    labels = AgglomerativeClustering(
        n_clusters=None, distance_threshold=DISTANCE, metric="precomputed", linkage="average"
    ).fit_predict(distances)
    return [int(label) for label in labels]


def group(messages: Sequence[Unanswered], examples: int = 10) -> list[Group]:
    """Groups of similar messages, per language, the largest first (then the most recent)."""
    groups: list[Group] = []
    for lang in sorted({m.lang for m in messages}):
        in_lang = [m for m in messages if m.lang == lang]
        by_key: dict[str, list[Unanswered]] = {}
        for message in in_lang:
            by_key.setdefault(_key(message.text), []).append(message)
        keys = list(by_key)
        members: dict[int, list[Unanswered]] = {}
        for key, label in zip(keys, _clusters(keys), strict=True):
            members.setdefault(label, []).extend(by_key[key])
        groups += [_summary(lang, found, examples) for found in members.values()]
    return sorted(groups, key=lambda g: (g.count, g.last_seen), reverse=True)


def _summary(lang: str, found: list[Unanswered], examples: int) -> Group:
    texts = Counter(m.text.strip() for m in found)
    answers = Counter(m.agent_reply.strip() for m in found if m.agent_reply)
    conversations = list(dict.fromkeys(m.conversation_id for m in found))
    return Group(
        lang=lang,
        count=len(found),
        examples=[t for t, _ in texts.most_common(examples)],
        answers=[t for t, _ in answers.most_common(3)],
        conversations=conversations[:10],
        last_seen=max(m.created_at for m in found),
    )


# -- drafts -------------------------------------------------------------------


def draft_id(group: Group, taken: set[str]) -> str:
    """``draft_`` and the group's three most frequent content words, unique among ``taken``."""
    words = Counter(w for text in group.examples for w in _content_words(text) if re.fullmatch(r"[a-z0-9]+", w))
    base = "_".join(["draft", *(w for w, _ in words.most_common(3))])[:60]
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}_{n}", n + 1
    taken.add(candidate)
    return candidate


def draft(group: Group, intent_id: str) -> str:
    """A draft intent file in the ``intents/`` format, with what an admin must still do in its comments.

    The answer is left empty on purpose: it must be written from the clinic's page,
    and ``chatbot intents check`` refuses the file until it is.
    """
    body: dict[str, Any] = {"id": intent_id}
    for lang in LANGUAGES:
        body[lang] = {"examples": group.examples if lang == group.lang else [], "answer": "", "quick_replies": []}
    notes = [
        f"Draft from the unanswered report: {group.count} visitor message(s) in '{group.lang}', "
        f"the last on {group.last_seen:%Y-%m-%d}.",
        "Before moving it into intents/: give it a real id (and file name), add at least 10 examples",
        "in each language, and write the answers from the clinic's page only (no medical claims,",
        "numbers or promises the page does not make).",
    ]
    if group.answers:
        notes.append("What representatives answered:")
        notes += [f"  - {' '.join(answer.split())[:300]}" for answer in group.answers]
    header = "".join(f"# {line}\n" for line in notes)
    return header + yaml.safe_dump(body, allow_unicode=True, sort_keys=False, width=100)


def write_drafts(groups: Sequence[Group], directory: Path) -> list[Path]:
    """One draft file per group in ``directory`` (created if needed); existing drafts are never overwritten."""
    directory.mkdir(parents=True, exist_ok=True)
    taken = {path.stem for path in directory.glob("*.yaml")}
    written = []
    for found in groups:
        intent_id = draft_id(found, taken)
        path = directory / f"{intent_id}.yaml"
        path.write_text(draft(found, intent_id), encoding="utf-8")
        written.append(path)
    return written
