"""The grounding check: every answer sentence must be supported by the page section its intent cites.

On a medical site the bot may only say what the clinic's page says. An intent
names its sources (``source: {URL#anchor: hash}``); each sentence of its
English answer is then held against the text of those sections:

- every **number** (digits, or number words: *seven*), every **name** (a word
  capitalised inside the sentence, an acronym such as *MRI*) and every
  **claim word** (*cure*, *guarantee*, *always*, *never*, *not*, *permanent*,
  *proven*, *safe*, *best*, *success*...) must occur in the sources;
- and at least ``MIN_COVERAGE`` of its **content words** (function words
  left out, each word cut to a stem of six letters) must occur there, so that
  a faithful paraphrase passes but a sentence about something else does not.

Spanish answers are translations, so their words cannot be looked up in an
English page: for them the check goes only as far as numbers (digits and
Spanish number words, read as the English ones), names, and the Spanish claim
words of ``CLAIMS_ES`` (whose English equivalent must be in the source). The
fixed disclaimer ("This is general information, not a diagnosis.") is the
bot's own and is not checked. An intent about the bot itself says
``source: none`` and is not checked; one with no ``source:`` at all is an
error. A source whose section hash differs from the one the intent quotes is
a ``stale`` warning: the page changed since the intent was written.

Tested in tests/test_grounding.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from chatbot.bot.intents import Intent
from chatbot.bot.text import fold
from chatbot.content.snapshot import Page, Section

MIN_COVERAGE = 0.6
"""Share of a sentence's content words that its sources must contain (docs/content.md: how it was chosen)."""

DISCLAIMERS = frozenset({
    "this is general information, not a diagnosis.",
    "esta es información general, no un diagnóstico.",
})

STOPWORDS = frozenset(
    "a about after again all also am an and any are as at be because been before being between both but by can "
    "could did do does doing down during each few for from further had has have having he her here hers him his "
    "how i if in into is it its itself just me more most my of off on once or other our ours out over own same "
    "she should so some such than that the their them then there these they this those through to too under "
    "until up very was we were what when where which while who whom why will with would you your yours "
    "may might must shall us let s t d ll m re ve don can't won't i'm i'll you'll you're it's that's yes".split()
)
NUMBER_WORDS = {
    "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8",
    "nine": "9", "ten": "10", "hundred": "100", "thousand": "1000", "percent": "%",
    "dos": "2", "tres": "3", "cuatro": "4", "cinco": "5", "seis": "6", "siete": "7",
    "ocho": "8", "nueve": "9", "diez": "10", "cien": "100", "ciento": "100", "mil": "1000",
}
CLAIMS_EN = frozenset(
    "cure cures cured curing guarantee guarantees guaranteed always never not no none nothing permanent "
    "permanently proven prove proves painless safe safest safer best better only every success successful "
    "successfully eliminate eliminates eliminated effective risk risks".split()
)
CLAIMS_ES = {
    "cura": "cure", "curan": "cure", "curar": "cure", "garantiza": "guarantee", "garantizamos": "guarantee",
    "garantia": "guarantee", "siempre": "always", "nunca": "never", "permanente": "permanent",
    "permanentemente": "permanent", "comprobado": "proven", "probado": "proven", "indoloro": "painless",
    "exito": "success", "elimina": "eliminate", "eficaz": "effective", "mejor": "best",
}
NOT_NAMES = frozenset({"i", "i'm", "i'll", "i’m", "i’ll", "english", "spanish"})
FIRST_PERSON = frozenset({"i", "me", "i'm", "i'll", "i've", "i'd", "myself"})
_WORD = re.compile(r"[0-9]+|%|[a-z]+(?:'[a-z]+)?")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”»)]?\s+(?=[\"“«(¿¡]?[A-ZÁÉÍÓÚÑ0-9])")
_SUFFIXES = ("ations", "ation", "ings", "ing", "edly", "ed", "ies", "es", "s", "ly")
STEM = 6


@dataclass(frozen=True)
class Finding:
    """A sentence not supported by its source (an error), or a stale source (a warning), at a file and line."""

    path: str
    line: int
    message: str
    warning: bool = False

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}" + (" (warning)" if self.warning else "")


def sentences(answer: str) -> list[str]:
    """An answer cut into sentences (after ``.``, ``!`` or ``?`` followed by a capital)."""
    return [s.strip() for s in _SENTENCE_END.split(" ".join(answer.split())) if s.strip()]


def words(text: str) -> list[str]:
    """Folded words (accents gone, apostrophes kept: *don't*), number words read as digits."""
    found = _WORD.findall(fold(text).replace("’", "'"))
    return [NUMBER_WORDS.get(word, word) for word in found]


def stem(word: str) -> str:
    """A crude stem, enough to match *exercises* with *exercise* and *become* with *becoming*."""
    for suffix in _SUFFIXES:
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            word = word[: -len(suffix)]
            break
    return word.removesuffix("e")[:STEM] if len(word) > 4 else word[:STEM]


def _names(sentence: str) -> list[str]:
    """Capitalised words after the first, and acronyms anywhere: names the source must contain.

    English capitalises the names of languages too; those are words, not names (a page in Spanish says
    "español", not "Spanish").
    """
    tokens = re.findall(r"[\w’']+", sentence)
    found = [t for t in tokens[1:] if t[0].isupper() and fold(t) not in NOT_NAMES]
    return found + [t for t in tokens[:1] if len(t) > 1 and t.isupper()]


def bot_voice(sentence: str) -> bool:
    """The bot speaking of itself ("ask me", "I'll answer", "this chat"): a page never speaks so.

    Such a sentence is the bot's own, not a claim of the page: its content words are not looked up, but its
    numbers, names and claim words still must be in the source.
    """
    said = set(words(sentence))
    return bool(said & FIRST_PERSON) or "this chat" in " ".join(words(sentence))


@dataclass(frozen=True)
class _Source:
    """The words of the sections an intent cites, in the forms the check looks them up."""

    words: frozenset[str]
    stems: frozenset[str]

    @staticmethod
    def of(sections: Iterable[Section]) -> _Source:
        found = {w for s in sections for w in words(f"{s.heading}\n{s.text}")}
        return _Source(frozenset(found), frozenset(stem(w) for w in found))


def _missing(sentence: str, source: _Source, claims: Mapping[str, str]) -> list[str]:
    """The numbers, claim words (``claims``: as said -> as the source would say it) and names the source lacks."""
    missing = []
    for word in dict.fromkeys(words(sentence)):
        if (word.isdigit() or word == "%") and word not in source.words:
            missing.append(f"number {word!r}")
        elif word in claims and claims[word] not in source.words and stem(claims[word]) not in source.stems:
            missing.append(f"claim word {word!r}")
    for name in _names(sentence):
        if not all(w in source.words for w in words(name)):
            missing.append(f"name {name!r}")
    return missing


_CLAIMS_AS_SAID = {word: word for word in CLAIMS_EN}


def unsupported_en(sentence: str, source: _Source) -> str | None:
    """Why an English sentence is not supported by the source (numbers, names or claim words it lacks; too few
    of the sentence's content words), or None when it is."""
    missing = _missing(sentence, source, _CLAIMS_AS_SAID)
    if missing:
        return f"not there: {', '.join(missing)}"
    content = [stem(w) for w in words(sentence) if w not in STOPWORDS and w not in CLAIMS_EN]
    if not content or bot_voice(sentence):
        return None
    covered = sum(1 for w in content if w in source.stems) / len(content)
    return None if covered >= MIN_COVERAGE else f"only {covered:.0%} of its content words are there"


def unsupported_es(sentence: str, source: _Source) -> str | None:
    """Why a Spanish sentence is not supported: numbers, names or claim words the (English) source lacks."""
    missing = _missing(sentence, source, CLAIMS_ES)
    return f"not there: {', '.join(missing)}" if missing else None


# -- where a sentence is in its file ---------------------------------------------------------------


def _answer_lines(path: str) -> dict[str, tuple[int, list[str]]]:
    """``{lang: (first line of the answer's text, the file's lines)}``, read again from the file for line numbers."""
    text = Path(path).read_text(encoding="utf-8")
    lines = text.splitlines()
    root = yaml.compose(text)
    found: dict[str, tuple[int, list[str]]] = {}
    if not isinstance(root, yaml.MappingNode):
        return found
    for key, value in root.value:
        if isinstance(value, yaml.MappingNode):
            for inner_key, inner in value.value:
                if inner_key.value == "answer":
                    folded = getattr(inner, "style", None) in (">", "|")
                    found[key.value] = (inner.start_mark.line + (1 if folded else 0), lines)
    return found


def _line_of(sentence: str, start: int, lines: list[str]) -> int:
    """The 1-based line where ``sentence`` starts, searching from the answer's first line (0-based ``start``)."""
    text, owners = "", []
    for number in range(start, len(lines)):
        piece = " ".join(lines[number].split()) + " "
        text += piece
        owners += [number] * len(piece)
    at = text.find(" ".join(sentence.split()[:4]))
    return owners[at] + 1 if at >= 0 else start + 1


# -- the check ---------------------------------------------------------------------------------------


def _resolve(intent: Intent, pages: Mapping[str, Page]) -> tuple[list[Section], list[Finding]]:
    """The sections an intent cites; errors for those not in the snapshot, warnings for those that changed."""
    sections: list[Section] = []
    findings: list[Finding] = []
    for source in intent.sources or ():
        url, _, anchor = source.ref.partition("#")
        page = pages.get(url)
        section = page.section(anchor) if page is not None else None
        if section is None:
            missing = "page" if page is None else "section"
            findings.append(Finding(intent.path, source.line, f"source {source.ref}: no such {missing} in the content"))
            continue
        sections.append(section)
        if source.sha256 and not section.sha256.startswith(source.sha256):
            findings.append(Finding(intent.path, source.line, f"stale: {source.ref} changed since this intent quoted "
                                    f"it (hash {source.sha256}, now {section.short_hash})", warning=True))
    return sections, findings


def check_intent(intent: Intent, pages: Mapping[str, Page]) -> list[Finding]:
    """Every finding for one intent: its sources, then each answer sentence not supported by them."""
    if intent.sources is None:
        return [Finding(intent.path, 1, "no 'source:': cite the page section (URL#anchor: hash), or 'source: none' "
                                        "for an intent about the bot itself")]
    if not intent.sources:
        return []
    sections, findings = _resolve(intent, pages)
    if not sections:
        return findings
    source = _Source.of(sections)
    refs = ", ".join(s.ref for s in intent.sources)
    places = _answer_lines(intent.path)
    for lang, localized in intent.texts.items():
        start, lines = places.get(lang, (0, []))
        judge = unsupported_en if lang == "en" else unsupported_es
        for sentence in sentences(localized.answer):
            if sentence.casefold() in DISCLAIMERS:
                continue
            reason = judge(sentence, source)
            if reason is not None:
                findings.append(Finding(intent.path, _line_of(sentence, start, lines),
                                        f'answer sentence not in {refs}: "{sentence}" ({reason})'))
    return findings


def check(intents: Sequence[Intent], pages: Mapping[str, Page]) -> list[Finding]:
    """Every finding for every intent, by file and line."""
    findings = [finding for intent in intents for finding in check_intent(intent, pages)]
    return sorted(findings, key=lambda f: (f.path, f.line))
