"""The grounding check: every answer sentence must be supported by the page section its intent cites.

On a medical site the bot may only say what the clinic's page says. An intent
names its sources (``source: {URL#anchor: hash}``); each sentence of its
English answer is then held against the text of those sections:

- every **number** (digits, or number words: *seven*, *ninety-nine percent*), every **name** (a word
  capitalised inside the sentence, an acronym such as *MRI*) and every
  **claim word** (*cure*, *guarantee*, *always*, *never*, *not*, *permanent*,
  *proven*, *safe*, *best*, *success*...) must occur in the sources;
- no word the source uses only after a **negation** (*don't want to become
  sedentary*, *non-surgical*, *prevent further damage*) may be used without
  one: "medication can damage your liver" is not what the page says;
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
UNITS = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19, "dozen": 12,
    "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7, "ocho": 8, "nueve": 9, "diez": 10,
    "doce": 12, "trece": 13, "catorce": 14, "quince": 15, "dieciseis": 16, "diecisiete": 17,
    "dieciocho": 18, "diecinueve": 19, "veinte": 20, "veintiuno": 21, "veintidos": 22, "veintitres": 23,
    "veinticuatro": 24, "veinticinco": 25, "veintiseis": 26, "veintisiete": 27, "veintiocho": 28, "veintinueve": 29,
}
"""Number words up to 29. Left out: *one*, *uno*, *una* (they are also "a", and a page says "one of them") and the
Spanish *once*, eleven, which is the English *once*."""
TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
    "treinta": 30, "cuarenta": 40, "cincuenta": 50, "sesenta": 60, "setenta": 70, "ochenta": 80, "noventa": 90,
}
SCALES = {"hundred": 100, "cien": 100, "ciento": 100, "cientos": 100, "thousand": 1000, "mil": 1000,
          "million": 1_000_000, "millon": 1_000_000, "millones": 1_000_000}
_PERCENT = re.compile(r"\b(?:per ?cent|por ?ciento)\b")
_NUMBER_JOINERS = frozenset({"y", "and"})
"""*noventa y nueve*, *one hundred and five*: a joiner inside a number, not a word of its own."""
CLAIMS_EN = frozenset(
    "cure cures cured curing guarantee guarantees guaranteed always never not no none nothing permanent "
    "permanently proven prove proves painless safe safest safer best better only every success successful "
    "successfully eliminate eliminates eliminated effective risk risks "
    "completely complete totally total fully entirely forever instantly instant immediately immediate quickly "
    "fast faster free cheap affordable covered certain certainly definitely ensure ensures harm harmful harmless "
    "dangerous danger toxic addictive fatal deadly".split()
)
CLAIMS_ES = {
    "cura": "cure", "curan": "cure", "curar": "cure", "garantiza": "guarantee", "garantizamos": "guarantee",
    "garantia": "guarantee", "siempre": "always", "nunca": "never", "permanente": "permanent",
    "permanentemente": "permanent", "comprobado": "proven", "probado": "proven", "indoloro": "painless",
    "exito": "success", "elimina": "eliminate", "eficaz": "effective", "mejor": "best",
    "completamente": "completely", "totalmente": "totally", "inmediatamente": "immediately",
    "inmediato": "immediate", "inmediata": "immediate", "gratis": "free", "gratuito": "free", "gratuita": "free",
    "definitivamente": "definitely", "jamas": "never", "riesgo": "risk", "peligroso": "dangerous",
    "peligrosa": "dangerous", "toxico": "toxic", "adictivo": "addictive", "mortal": "fatal",
}
NEGATORS = frozenset(
    "not no never don't doesn't didn't isn't aren't wasn't weren't won't can't cannot shouldn't without non nor "
    "neither prevent prevents preventing prevented avoid avoids avoiding stop stops".split()
)
"""Words after which, to the end of the clause, the page says a thing is not so (or is kept from happening):
*don't want to become sedentary*, *non-surgical*, *prevent further damage*."""
_CLAUSE = re.compile(r"[,;:.!?()\n–—]+")
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
    """Folded words (accents gone, apostrophes kept: *don't*), numbers written as words read as digits
    (*ninety-nine percent*, *noventa y nueve por ciento*: ``99``, ``%``)."""
    folded = fold(text).replace("’", "'")
    folded = _PERCENT.sub(" % ", folded)
    return _numbers(_WORD.findall(folded))


def _numbers(found: list[str]) -> list[str]:
    """Runs of number words made one number: *twenty five* 25, *one hundred and five* 105, *dos mil* 2000."""
    out: list[str] = []
    total = current = 0
    in_number = False
    for word in [*found, ""]:
        value = UNITS.get(word, TENS.get(word))
        if word in SCALES:
            current = max(current, 1) * SCALES[word]
            if SCALES[word] >= 1000:
                total, current = total + current, 0
            in_number = True
        elif value is not None:
            current += value
            in_number = True
        elif in_number and word in _NUMBER_JOINERS:
            continue
        else:
            if in_number:
                out.append(str(total + current))
                total = current = 0
                in_number = False
            if word:
                out.append(word)
    return out


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
    negated: frozenset[str] = frozenset()
    """Stems the source uses only after a negation (*sedentary*, *surgical*, *damage*): a sentence that uses one
    without a negation says the opposite of the page."""

    @staticmethod
    def of(sections: Iterable[Section]) -> _Source:
        texts = [f"{s.heading}\n{s.text}" for s in sections]
        found = {w for text in texts for w in words(text)}
        plain: set[str] = set()
        negated: set[str] = set()
        for text in texts:
            for word, denied in _scoped(text):
                (negated if denied else plain).add(stem(word))
        return _Source(frozenset(found), frozenset(stem(w) for w in found), frozenset(negated - plain))


def _scoped(text: str) -> list[tuple[str, bool]]:
    """Each content word of the text, and whether a negation before it in its clause denies it."""
    found = []
    for clause in _CLAUSE.split(text):
        denied = False
        for word in words(clause):
            if word in NEGATORS:
                denied = True
            elif word not in STOPWORDS:
                found.append((word, denied))
    return found


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
    dropped = [word for word, denied in _scoped(sentence) if not denied and stem(word) in source.negated]
    if dropped:
        return f"negation dropped: the source says it only with a negation: {', '.join(map(repr, dropped))}"
    content = [stem(w) for w in words(sentence) if w not in STOPWORDS and (w not in CLAIMS_EN or w in source.words)]
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
