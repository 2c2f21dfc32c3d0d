"""Draft intents from the content snapshot: one per section, and one per bullet term of a section's list.

A draft says only what its section says: its answer is the section's own
sentences, in order, cut after ``MAX_ANSWER_WORDS`` words (at a sentence's
end), then the fixed disclaimer; its ``source:`` is the section with its hash,
so the grounding check passes it and notices when the page changes. Its
examples come from the section's heading, its bullet terms and its key phrases
(the word pairs and words most particular to this section among all sections),
set in a few question frames per language. The site is in English, so a
Spanish draft keeps the English terms inside Spanish frames and says in its
comments that its answer must be translated; a Spanish section gives Spanish
text. Drafts are written into ``intents/drafts/`` and are not live until
``chatbot intents approve`` moves one into ``intents/``.

Tested in tests/test_intents_draft.py.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from chatbot.bot.intents import LANGUAGES, Intent
from chatbot.bot.text import normalize
from chatbot.content.grounding import STOPWORDS, sentences
from chatbot.content.snapshot import Page, Section

MIN_WORDS = 8
"""A section shorter than this ("Learn More", "Submit Information") says too little to answer with."""
MAX_ANSWER_WORDS = 90
MIN_EXAMPLES = 12
FRAMED_EXAMPLES = 24
"""Examples made of frames and phrases per language (then, in the section's language, its own clauses)."""
KEY_PHRASES = 12
DISCLAIMER = {"en": "This is general information, not a diagnosis.",
              "es": "Esta es información general, no un diagnóstico."}
FRAMES = {
    "en": ("{}", "{}?", "what is {}", "tell me about {}", "information about {}", "what about {}",
           "can you explain {}", "I have a question about {}", "more about {}", "what should I know about {}"),
    "es": ("{}", "¿{}?", "¿qué es {}?", "hábleme de {}", "información sobre {}", "¿y {}?", "¿me explica {}?",
           "tengo una pregunta sobre {}", "más sobre {}", "que debo saber sobre {}"),
}
OPTION_FRAMES = {
    "en": ("does {} help", "should I try {}", "how does {} work", "is {} right for me"),
    "es": ("¿ayuda {}?", "¿debo probar {}?", "¿cómo funciona {}?", "¿{} es para mí?"),
}
"""Frames for a bullet of a list (one of the options the page lists: a treatment, a service), not for a section."""
MAX_SHARE = 0.25
"""A phrase in more than this share of all topics ("pain", "muscle") is the site's, not one topic's."""
_BULLET = re.compile(r"^- (?P<term>[^–—:]{2,60}?)\s*[–—:]\s+(?P<text>.+)$")
_ID = re.compile(r"[^a-z0-9]+")
_CLAUSE = re.compile(r"[.,;:!?()\n–—]+")


@dataclass(frozen=True)
class Topic:
    """What one draft is about: a section, or one bullet of its list (named by its term), and the text it answers
    from."""

    page: Page
    section: Section
    name: str
    text: str


@dataclass
class Drafted:
    """The drafts written, and the sections left out with why."""

    written: list[Path] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def topics(pages: Iterable[Page]) -> list[Topic]:
    """Every section with enough text, and every ``- Term – explanation`` bullet as a topic of its own."""
    found = []
    for page in pages:
        for section in page.sections:
            bullets = [m for m in (_BULLET.match(line) for line in section.text.splitlines()) if m]
            found.append(Topic(page, section, section.heading, section.text))
            found += [Topic(page, section, m["term"].strip(), m["text"]) for m in bullets]
    return found


def answer(text: str) -> str:
    """The text's own sentences, in order, as many as fit in ``MAX_ANSWER_WORDS`` (at least one)."""
    kept: list[str] = []
    for sentence in sentences(text.replace("\n- ", "\n").removeprefix("- ")):
        if kept and len(" ".join([*kept, sentence]).split()) > MAX_ANSWER_WORDS:
            break
        kept.append(sentence if sentence[-1] in ".!?" else sentence + ".")
    said = " ".join(kept)
    return said[:1].upper() + said[1:]


def _phrases(text: str) -> list[str]:
    """Candidate key phrases: one content word, or two side by side within a clause (normalised)."""
    found = []
    for clause in _CLAUSE.split(text):
        words = normalize(clause).split()
        found += [w for w in words if w not in STOPWORDS and len(w) > 3]
        found += [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)
                  if a not in STOPWORDS and b not in STOPWORDS and len(a) > 2 and len(b) > 2]
    return found


def key_phrases(topic: Topic, document_frequency: Mapping[str, int], documents: int, count: int) -> list[str]:
    """The phrases most particular to this topic (TF-IDF over all topics), pairs before single words on ties."""
    seen = Counter(_phrases(f"{topic.name}\n{topic.text}"))
    score = {p: n * math.log((1 + documents) / (1 + document_frequency[p])) * (1.5 if " " in p else 1.0)
             for p, n in seen.items() if document_frequency[p] <= MAX_SHARE * documents}
    return sorted(score, key=lambda p: (-score[p], p))[:count]


def examples(topic: Topic, lang: str, phrases: Sequence[str], used: set[str]) -> list[str]:
    """At least ``MIN_EXAMPLES`` examples: the heading (or bullet term) and key phrases, as typed and in question
    frames; none that another draft already has (``used``, which they join): the matcher could not tell them apart.
    """
    subjects = list(dict.fromkeys([topic.name.lower().rstrip("?"), *phrases]))
    frames = FRAMES[lang] + (OPTION_FRAMES[lang] if topic.name != topic.section.heading else ())
    found: dict[str, str] = {}
    for turn in range(len(frames)):  # each subject in a different frame each turn
        for number, subject in enumerate(subjects):
            text = frames[(number + turn) % len(frames)].format(subject)
            if normalize(text) not in used and len(found) < FRAMED_EXAMPLES:
                found.setdefault(normalize(text), text)
    if lang == topic.section.language:  # the section's own clauses: the words visitors use for its topic
        for clause in _clauses(topic.text):
            if normalize(clause) not in used:
                found.setdefault(normalize(clause), clause)
    used.update(found)
    return list(found.values())


def _clauses(text: str) -> list[str]:
    """The text's sentences, and the parts of long ones between commas and dashes, of three words or more."""
    found = []
    for sentence in sentences(text.replace("\n- ", "\n").removeprefix("- ")):
        found.append(sentence.rstrip(".!?"))
        parts = [p.strip() for p in re.split(r"[,;:–—]", sentence.rstrip(".!?"))]
        if len(parts) > 1:
            found += [p for p in parts if len(p.split()) >= 3]
    return found


def draft_id(topic: Topic, taken: set[str]) -> str:
    """An id from the topic's name, unique among ``taken`` (which it joins)."""
    base = _ID.sub("_", normalize(topic.name)).strip("_")[:40] or "topic"
    ident, number = base, 1
    while ident in taken:
        number += 1
        ident = f"{base}_{number}"
    taken.add(ident)
    return ident


def synonyms_for(found: Sequence[str], vocabulary: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """The synonyms (``term: variants``) whose term is, as whole words, in one of the draft's examples."""
    spoken = [f" {normalize(example)} " for example in found]
    return {term: list(variants) for term, variants in vocabulary.items()
            if any(f" {normalize(term)} " in example for example in spoken)}


def render(topic: Topic, ident: str, phrases: Sequence[str], used: Mapping[str, set[str]],
           vocabulary: Mapping[str, Mapping[str, Sequence[str]]]) -> str:
    """The draft file: comments for the reviewer, then the intent in the ``intents/`` format."""
    said = answer(topic.text)
    body: dict[str, Any] = {"id": ident,
                            "source": {f"{topic.page.url}#{topic.section.anchor}": topic.section.short_hash}}
    for lang in LANGUAGES:
        found = examples(topic, lang, phrases, used[lang])
        body[lang] = {"examples": found, "answer": f"{said} {DISCLAIMER[lang]}"}
        if synonyms := synonyms_for(found, vocabulary.get(lang, {})):
            body[lang]["synonyms"] = synonyms
    notes = [f"Drafted from {topic.page.url}#{topic.section.anchor} ({topic.page.title}: {topic.section.heading}).",
             "The answer is the section's own sentences: keep it so (chatbot intents check --content checks it)."]
    if topic.section.language != "es":
        notes.append("The page is in English: translate the Spanish answer, and the terms in its examples, "
                     "before approving.")
    notes.append(f"Approve: chatbot intents approve {ident}")
    return "".join(f"# {line}\n" for line in notes) + yaml.safe_dump(body, allow_unicode=True, sort_keys=False,
                                                                      width=110)


def vocabulary(intents: Iterable[Intent]) -> dict[str, dict[str, tuple[str, ...]]]:
    """Every synonym the intents declare, by language: ``{lang: {term: variants}}``."""
    found: dict[str, dict[str, tuple[str, ...]]] = {lang: {} for lang in LANGUAGES}
    for intent in intents:
        for lang, text in intent.texts.items():
            found[lang].update(text.synonyms)
    return found


def write(pages: Iterable[Page], directory: Path, live: Sequence[Intent],
          synonyms: Mapping[str, Mapping[str, Sequence[str]]] | None = None) -> Drafted:
    """One draft file per topic with enough text. The ids and examples of the ``live`` intents are not reused (an
    example in two intents is refused by the check), and a draft already in ``directory`` is left as it is (an
    admin may be editing it). ``synonyms`` (default: the live intents') whose term a draft's example uses go into
    the draft, so that its visitors' everyday words reach it."""
    known = vocabulary(live) if synonyms is None else synonyms
    everything = topics(pages)
    document_frequency: Counter[str] = Counter()
    for topic in everything:
        document_frequency.update(set(_phrases(f"{topic.name}\n{topic.text}")))
    outcome = Drafted()
    taken = {intent.id for intent in live}
    used = {lang: {normalize(e) for intent in live for text in intent.texts.values() for e in text.examples}
            for lang in LANGUAGES}
    directory.mkdir(parents=True, exist_ok=True)
    for topic in sorted(everything, key=lambda t: t.name == t.section.heading):  # bullets first: their terms
        where = f"{topic.page.url}#{topic.section.anchor}" + (f" ({topic.name})" if topic.name != topic.section.heading
                                                              else "")
        if len(topic.text.split()) < MIN_WORDS:
            outcome.skipped.append(f"{where}: too little text to answer with ({len(topic.text.split())} words)")
            continue
        ident = draft_id(topic, taken)
        phrases = key_phrases(topic, document_frequency, len(everything), KEY_PHRASES)
        path = directory / f"{ident}.yaml"
        if path.exists():
            outcome.skipped.append(f"{where}: {path} exists, left as it is")
            continue
        path.write_text(render(topic, ident, phrases, used, known), encoding="utf-8")
        outcome.written.append(path)
    return outcome
