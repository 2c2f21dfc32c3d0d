"""Draft intents from the content snapshot: one per section (or run of close sections), and one per bullet term.

A draft says only what its sections say: its answer is their own sentences,
in order, cut after ``MAX_ANSWER_WORDS`` words (at a sentence's end), then the
fixed disclaimer; its ``source:`` is the sections with their hashes, so the
grounding check passes it and notices when the page changes. Its examples are
made the way the glossary and the page allow: the heading or bullet term in
every question frame of its kind, the words of the glossary's concepts the
topic owns (``glossary.yaml``: a bilingual term list of spine care, the
page's word and the visitors' words for it, in English and Spanish) in frames
per kind (a treatment: "does … help"; a condition: "what causes …"), its key
phrases, and its own clauses. The site is in English: Spanish examples come
from the glossary's Spanish words, and the Spanish answer stays the English
text for an admin to translate (the draft's comments say so). Drafts are
written into ``intents/drafts/`` and are not live until ``chatbot intents
approve`` moves one into ``intents/``.

Tested in tests/test_intents_draft.py.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

from chatbot.bot.intents import LANGUAGES, Intent
from chatbot.bot.text import fold, normalize
from chatbot.content.grounding import STOPWORDS, sentences, stem, words
from chatbot.content.snapshot import Page, Section

MIN_WORDS = 8
"""A section shorter than this ("Learn More", "Submit Information") says too little to answer with."""
MAX_ANSWER_WORDS = 90
MIN_EXAMPLES = 12
FRAMED_EXAMPLES = 24
PER_CONCEPT = 3
"""Examples made of frames and phrases per language (then, in the section's language, its own clauses)."""
KEY_PHRASES = 12
MIN_SUBJECTS = 3
"""A draft in a language other than its section's takes the (untranslated) key phrases only when the glossary gives
it fewer subjects than this."""
DISCLAIMER = {"en": "This is general information, not a diagnosis.",
              "es": "Esta es información general, no un diagnóstico."}
FRAMES: dict[str, tuple[str, ...]] = {
    "en": ("{}", "{}?", "what is {}", "tell me about {}", "information about {}", "what about {}",
           "can you explain {}", "I have a question about {}", "more about {}", "what should I know about {}"),
    "es": ("{}", "¿{}?", "¿qué es {}?", "hábleme de {}", "información sobre {}", "¿y {}?", "¿me explica {}?",
           "tengo una pregunta sobre {}", "más sobre {}", "que debo saber sobre {}"),
}
"""Frames for any subject: the heading, a key phrase, a concept of the glossary of the ``topic`` kind."""
KIND_FRAMES: dict[str, dict[str, tuple[str, ...]]] = {
    "condition": {
        "en": ("what is {}", "what causes {}", "can {} cause {page}", "why do I get {}", "is {} common",
               "I think I have {}", "is {} serious", "symptoms of {}", "{}?", "tell me about {}"),
        "es": ("¿qué es {}?", "¿qué causa {}?", "¿{} puede causar {page}?", "¿por qué me da {}?",
               "¿es común {}?", "creo que tengo {}", "¿es grave {}?", "síntomas de {}", "¿{}?", "hábleme de {}"),
    },
    "symptom": {
        "en": ("why do I have {}", "what causes {}", "I have {} in my upper back", "is {} normal", "{} in my back",
               "what does {} mean", "{}?", "I get {}", "{} with {page}"),
        "es": ("¿por qué tengo {}?", "¿qué causa {}?", "tengo {} en la espalda", "¿es normal {}?",
               "{} en la espalda", "¿qué significa {}?", "¿{}?", "me da {}", "{} con {page}"),
    },
    "treatment": {
        "en": ("does {} help", "should I try {}", "is {} good for {page}", "how does {} work", "can I get {}",
               "do you offer {}", "is {} right for me", "what is {}", "{}?", "does {} help with {page}",
               "when is {} needed", "{} for {page}", "how much {} do I need"),
        "es": ("¿ayuda {}?", "¿debo probar {}?", "¿{} sirve para {page}?", "¿cómo funciona {}?",
               "¿puedo recibir {}?", "¿ofrecen {}?", "¿{} es para mí?", "¿qué es {}?", "¿{}?", "¿{} ayuda con {page}?",
               "¿cuándo se necesita {}?", "{} para {page}", "¿cuánto tiempo {}?"),
    },
    "service": {
        "en": ("how do I get {}", "can I get {}", "where can I find {}", "do you have {}", "I want {}",
               "tell me about {}", "{}?", "what about {}", "can I sign up for {}"),
        "es": ("¿cómo consigo {}?", "¿puedo recibir {}?", "¿dónde encuentro {}?", "¿tienen {}?", "quiero {}",
               "hábleme de {}", "¿{}?", "¿y {}?", "¿puedo inscribirme en {}?"),
    },
}
"""Question frames per kind of concept (chatbot/content/glossary.yaml says each concept's kind), per language.
``{page}`` is what the page is about (its title, or the glossary's words for it): visitors ask whether a treatment
helps *their* pain."""
PAGE_DEFAULT = {"en": "back pain", "es": "el dolor de espalda"}
"""``{page}`` for a page whose title the glossary does not know."""
KIND_FRAMES["topic"] = FRAMES
OPTION_KIND = "treatment"
"""A bullet of a list is one of the options a page lists (a treatment, a service): asked about as a treatment."""
MERGE_SIMILARITY = 0.3
"""Sections next to each other this close (TF-IDF cosine of their words) are one topic. On the shipped site the
closest neighbours are at 0.16 (conservative and progressive treatment), so none is merged there; two sections on
one subject with different headings ("Heat at home", "Using heat packs safely") are at 0.4 and more."""
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
    more: tuple[Section, ...] = ()
    """Sections merged into this one (close sections, one after the other on the page): one topic, cited together."""

    @property
    def sections(self) -> tuple[Section, ...]:
        return (self.section, *self.more)

    @property
    def is_bullet(self) -> bool:
        return self.name != self.section.heading

    @property
    def own_text(self) -> str:
        """What this topic says itself: a section's text without its bullets (each bullet is a topic of its own, and
        asking about one should not reach the section that lists it), a bullet's explanation."""
        if self.is_bullet:
            return self.text
        return "\n".join(line for line in self.text.splitlines() if not _BULLET.match(line))


@dataclass(frozen=True, eq=False)
class Concept:
    """One entry of the glossary: its kind (which question frames fit it) and its words in each language."""

    kind: str
    words: Mapping[str, tuple[str, ...]]

    def forms(self) -> list[tuple[str, ...]]:
        """The concept's English words as plain word sequences (``_plain``), the longest first."""
        return sorted({tuple(_plain(word).split()) for word in self.words["en"]}, key=len, reverse=True)


@dataclass
class Drafted:
    """The drafts written, and the sections left out with why."""

    written: list[Path] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _plain(text: str) -> str:
    """Normalised, each word without a plural ``s``: "bone spurs" and "bone spur" read alike."""
    return " ".join(word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word
                    for word in normalize(text).split())


@cache
def glossary() -> tuple[Concept, ...]:
    """The shipped bilingual term list (``glossary.yaml`` beside this module)."""
    data = yaml.safe_load(files(__package__).joinpath("glossary.yaml").read_text(encoding="utf-8"))
    return tuple(Concept(entry["kind"], {lang: tuple(entry[lang]) for lang in LANGUAGES}) for entry in data)


def mentions(text: str, terms: Sequence[Concept]) -> Counter[Concept]:
    """How often the text names each concept, reading the longest words first: "laser spine surgery" is one
    mention of laser spine surgery, not also one of surgery."""
    words = _plain(text).split()
    forms = sorted(((form, concept) for concept in terms for form in concept.forms()), key=lambda f: -len(f[0]))
    found: Counter[Concept] = Counter()
    at = 0
    while at < len(words):
        for form, concept in forms:
            if tuple(words[at:at + len(form)]) == form:
                found[concept] += 1
                at += len(form)
                break
        else:
            at += 1
    return found


def concepts_by_topic(found: Sequence[Topic], terms: Sequence[Concept]) -> dict[int, list[Concept]]:
    """Each concept goes to the one topic that is most about it: the topic whose name says it (a name counts three
    times), else the one whose own text says it most; on a tie the one with more to say (the longer text). One topic
    each, so that no two drafts learn the same words. Topics too short to be drafted take none."""
    scores: dict[Concept, dict[int, tuple[int, int]]] = {}
    for number, topic in enumerate(found):
        if len(topic.text.split()) < MIN_WORDS:
            continue
        named, said = mentions(topic.name, terms), mentions(topic.own_text, terms)
        for concept in named | said:
            scores.setdefault(concept, {})[number] = (3 * named[concept] + said[concept], len(topic.own_text.split()))
    owned: dict[int, list[Concept]] = {}
    for concept in terms:  # in the glossary's order
        if concept in scores:
            owned.setdefault(max(scores[concept], key=lambda n: scores[concept][n]), []).append(concept)
    return owned


def topics(pages: Iterable[Page]) -> list[Topic]:
    """Every section, or run of close sections (``merged``), and every ``- Term – explanation`` bullet as a topic of
    its own."""
    pages = list(pages)
    found = []
    for page in pages:
        for run in merged(page, pages):
            first = run[0]
            bullets = [m for m in (_BULLET.match(line) for line in first.text.splitlines()) if m]
            found.append(Topic(page, first, first.heading, "\n".join(s.text for s in run), tuple(run[1:])))
            found += [Topic(page, first, m["term"].strip(), m["text"]) for m in bullets]
    return found


def merged(page: Page, pages: Sequence[Page]) -> list[list[Section]]:
    """The page's sections in order, those next to each other that say close things (TF-IDF cosine of their words,
    over every section of ``pages``, at least ``MERGE_SIMILARITY``) as one run: two sections about one thing make one
    draft. A section with a list stays alone: its bullets are topics of their own."""
    documents = [_stems(s) for p in pages for s in p.sections]
    frequency = Counter(word for document in documents for word in set(document))
    runs: list[list[Section]] = []
    for section in page.sections:
        previous = runs[-1][-1] if runs else None
        if previous is not None and not _has_list(previous) and not _has_list(section) and \
                _cosine(_stems(previous), _stems(section), frequency, len(documents)) >= MERGE_SIMILARITY:
            runs[-1].append(section)
        else:
            runs.append([section])
    return runs


def _has_list(section: Section) -> bool:
    return any(_BULLET.match(line) for line in section.text.splitlines())


def _stems(section: Section) -> Counter[str]:
    """The section's content words (crude stems), names and numbers left out: they say who, not what about."""
    return Counter(stem(w) for w in words(f"{section.heading}\n{section.text}") if w not in STOPWORDS and w.isalpha()
                   and w not in _names_of(section))


def _names_of(section: Section) -> set[str]:
    """Words the section writes capitalised inside a sentence (*Laser Spine Institute*): names."""
    return {fold(w) for w in re.findall(r"(?<=[a-z,;] )[A-Z][a-z]+", section.text)}


def _cosine(a: Counter[str], b: Counter[str], frequency: Counter[str], documents: int) -> float:
    def weights(bag: Counter[str]) -> dict[str, float]:
        return {w: (1 + math.log(n)) * (1 + math.log((1 + documents) / (1 + frequency[w]))) for w, n in bag.items()}

    wa, wb = weights(a), weights(b)
    norm = math.sqrt(sum(x * x for x in wa.values())) * math.sqrt(sum(x * x for x in wb.values()))
    return sum(x * wb.get(w, 0.0) for w, x in wa.items()) / norm if norm else 0.0


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
    seen = Counter(_phrases(f"{topic.name}\n{topic.own_text}"))
    score = {p: n * math.log((1 + documents) / (1 + document_frequency[p])) * (1.5 if " " in p else 1.0)
             for p, n in seen.items() if document_frequency[p] <= MAX_SHARE * documents}
    return sorted(score, key=lambda p: (-score[p], p))[:count]


def _subjects(topic: Topic, lang: str, phrases: Sequence[str], concepts: Sequence[Concept]) -> list[tuple[str, str]]:
    """What the examples ask about, each with its kind: the topic's name (in Spanish too when the glossary has
    it), the words of its concepts, then its key phrases."""
    named = [c for c in concepts if mentions(topic.name, concepts)[c]]
    kind = named[0].kind if named else (OPTION_KIND if topic.is_bullet else "topic")
    name = topic.name.lower().rstrip("?")
    if lang != topic.section.language and named:
        name = named[0].words[lang][0]
    found = [(name, kind)] + [(word, c.kind) for c in concepts for word in c.words[lang]]
    if lang == topic.section.language or len(found) < MIN_SUBJECTS:  # else the glossary's words say it in `lang`
        found += [(phrase, "topic") for phrase in phrases]
    return list(dict.fromkeys(found))


_CONTRACTED = {"de el ": "del ", "a el ": "al "}
_CONTRACTIONS = re.compile(r"\b(?:de|a) el ")
"""Spanish contracts "de el" and "a el" when a frame meets an article: "síntomas del tirón muscular"."""


def _page_subject(page: Page, lang: str) -> str:
    """What the page is about, in ``lang``: the glossary's words for its title, its title in its own language."""
    named = mentions(page.title, glossary())
    if named:
        return max(named, key=lambda c: named[c]).words[lang][0]
    return page.title.lower() if lang == page.language else PAGE_DEFAULT[lang]


def examples(topic: Topic, lang: str, phrases: Sequence[str], used: set[str],
             concepts: Sequence[Concept] = ()) -> list[str]:
    """At least ``MIN_EXAMPLES`` examples: the heading (or bullet term), the words of the glossary's concepts the
    topic is about, and its key phrases, each in question frames fit for its kind; then, in the section's own
    language, its sentences and clauses. None that another draft already has (``used``, which they join): the
    matcher could not tell them apart.
    """
    subjects = _subjects(topic, lang, phrases, concepts)
    page = _page_subject(topic.page, lang)
    page_words = {w for c in concepts if mentions(topic.page.title, [c]) for w in c.words[lang]}
    found: dict[str, str] = {}
    name, kind = subjects[0]
    asked = [(name, frame) for frame in KIND_FRAMES[kind][lang]]  # the topic's own name in every frame of its kind
    for turn in range(max(len(frames[lang]) for frames in KIND_FRAMES.values())):  # the others, a new frame each turn
        asked += [(subject, KIND_FRAMES[kind][lang][(number + turn) % len(KIND_FRAMES[kind][lang])])
                  for number, (subject, kind) in enumerate(subjects[1:], start=1)]
    for subject, frame in asked:
        if "{page}" in frame and subject in page_words:  # not "can upper back pain cause upper back pain"
            continue
        text = _CONTRACTIONS.sub(lambda m: _CONTRACTED[m[0]], frame.format(subject, page=page))
        if normalize(text) not in used and len(found) < FRAMED_EXAMPLES + PER_CONCEPT * len(concepts):
            found.setdefault(normalize(text), text)
    if lang == topic.section.language:  # the section's own clauses: the words visitors use for its topic
        for clause in _clauses(topic.own_text):
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
           vocabulary: Mapping[str, Mapping[str, Sequence[str]]], concepts: Sequence[Concept] = ()) -> str:
    """The draft file: comments for the reviewer, then the intent in the ``intents/`` format."""
    said = answer(topic.text)
    body: dict[str, Any] = {"id": ident,
                            "source": {f"{topic.page.url}#{s.anchor}": s.short_hash for s in topic.sections}}
    for lang in LANGUAGES:
        found = examples(topic, lang, phrases, used[lang], concepts)
        body[lang] = {"examples": found, "answer": f"{said} {DISCLAIMER[lang]}"}
        if synonyms := synonyms_for(found, vocabulary.get(lang, {})):
            body[lang]["synonyms"] = synonyms
    cited = ", ".join(f"{topic.page.url}#{s.anchor} ({topic.page.title}: {s.heading})" for s in topic.sections)
    notes = [f"Drafted from {cited}.",
             "The answer is the section's own sentences: keep it so (chatbot intents check --content checks it)."]
    if topic.section.language != "es":
        notes.append("The page is in English: translate the Spanish answer before approving. The Spanish examples "
                     "are the glossary's Spanish words (chatbot/content/glossary.yaml), any English term among them "
                     "the page's: check them.")
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
        document_frequency.update(set(_phrases(f"{topic.name}\n{topic.own_text}")))
    outcome = Drafted()
    taken = {intent.id for intent in live}
    taken_examples = {normalize(e) for intent in live for text in intent.texts.values() for e in text.examples}
    used = dict.fromkeys(LANGUAGES, taken_examples)  # one set: the check refuses an example in two intents
    owned = concepts_by_topic(everything, glossary())
    directory.mkdir(parents=True, exist_ok=True)
    for number, topic in sorted(enumerate(everything), key=lambda t: not t[1].is_bullet):  # bullets first: their terms
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
        path.write_text(render(topic, ident, phrases, used, known, owned.get(number, [])), encoding="utf-8")
        outcome.written.append(path)
    return outcome
