"""The intent files in ``intents/``: load them, and check them so that every problem points at a file and line.

The files are edited by hand by clinic staff, so a mistake must be reported
where it is, all at once, rather than as the first exception; the checks walk
the YAML node tree (``chatbot.bot.yamlcheck`` says why).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from chatbot.bot.text import normalize
from chatbot.bot.yamlcheck import (
    NULL,
    STR,
    FileCheck,
    Pair,
    Problem,
    blank,
    describe,
    keyed,
    required_text,
    top_mapping,
)

LANGUAGES: tuple[str, ...] = ("en", "es")
ACTIONS: frozenset[str] = frozenset({"handoff", "out_of_scope"})
OUT_OF_SCOPE = "out_of_scope"
"""The action of an intent whose examples the bot must not answer (trained as "none of the intents")."""
MIN_EXAMPLES = 3
SUFFIXES = (".yaml", ".yml")

_ID = re.compile(r"[a-z0-9_]+")
_TOP_KEYS = ("id", "action", "form", "source", *LANGUAGES)
NO_SOURCE = "none"
"""``source: none``: the intent is about the bot itself (greeting, thanks...), not about the clinic's pages."""
_SOURCE_REF = re.compile(r"[^\s#]+#[^\s#]+")
_SOURCE_HASH = re.compile(r"[0-9a-f]{6,64}")
_LANG_KEYS = ("examples", "answer", "quick_replies", "synonyms")


@dataclass(frozen=True)
class Localized:
    """One language of an intent: what visitors type, what the bot answers, what they may click next."""

    examples: tuple[str, ...]
    answer: str
    quick_replies: tuple[str, ...]
    synonyms: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """``{term: variants}``: everyday words read as the term (``chatbot.bot.understanding.vocabulary``)."""


@dataclass(frozen=True)
class Source:
    """A page section an intent's answer is taken from (``URL#anchor``), with the section hash it was taken at."""

    ref: str
    sha256: str
    """The start of the section's SHA-256 when the intent was written; empty: not quoted, never stale."""
    line: int


@dataclass(frozen=True)
class Intent:
    """One intent file, valid; ``texts`` is keyed by language (every one of ``LANGUAGES``)."""

    id: str
    action: str | None
    texts: Mapping[str, Localized]
    path: str
    sources: tuple[Source, ...] | None = None
    """``source:``: None when the file has none, () for ``source: none`` (checked by chatbot.content.grounding)."""
    form: str | None = None
    """``form:``: the id of a form (``forms/``) the bot offers after this intent's answer."""
    form_line: int = 1

    @property
    def answerable(self) -> bool:
        """False for an out-of-scope intent: its examples teach the matcher what to hand off."""
        return self.action != OUT_OF_SCOPE


@dataclass
class _File(FileCheck):
    """One intent file being checked, with what the cross-file checks need from it."""

    examples: list[tuple[str, str, int]] = field(default_factory=list)  # (lang, text, line)
    variants: list[tuple[str, str, str, int]] = field(default_factory=list)  # (lang, variant, term, line)


class IntentError(Exception):
    """The intent folder cannot be loaded; ``problems`` lists every reason found."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


# -- reading ----------------------------------------------------------------------------------------


# -- one file ---------------------------------------------------------------------------------------


def _strings(file: _File, fields: dict[str, Pair], name: str, where: str) -> list[tuple[str, int]] | None:
    """A list of texts with their lines (``[]`` when absent or empty); None when it is not a list.

    Items that are not text, or have no words, are reported and left out.
    """
    if name not in fields or fields[name][1].tag == NULL:
        return []
    value = fields[name][1]
    if not isinstance(value, yaml.SequenceNode):
        file.fail(value, f"{name!r} {where} must be a list, found {describe(value)}")
        return None
    items = []
    for item in value.value:
        if not isinstance(item, yaml.ScalarNode) or item.tag != STR:
            hint = " (put it in quotes)" if isinstance(item, yaml.ScalarNode) else ""
            file.fail(item, f"an item of {name!r} {where} is not text, found {describe(item)}{hint}")
        elif not normalize(item.value):
            file.fail(item, f"an item of {name!r} {where} has no words: {item.value!r}")
        else:
            items.append((item.value, item.start_mark.line + 1))
    return items


def _localized(file: _File, lang: str, key: yaml.Node, node: yaml.Node) -> Localized | None:
    """One language block (``en:``/``es:``), or None when anything in it is wrong."""
    where = f"in {lang!r}"
    if not isinstance(node, yaml.MappingNode):
        at = key if node.tag == NULL else node
        file.fail(at, f"{lang!r} must be a mapping with examples and answer, found {describe(node)}")
        return None
    before = len(file.problems)
    fields = keyed(file, node, _LANG_KEYS, where)
    for name in ("examples", "answer"):
        if name not in fields:
            file.fail(key, f"missing required field {name!r} {where}")
    examples = _strings(file, fields, "examples", where)
    if examples is not None and "examples" in fields:
        file.examples += [(lang, text, line) for text, line in examples]
        key_node, items = fields["examples"]
        count = len(items.value) if isinstance(items, yaml.SequenceNode) else 0  # bad items are reported already
        if count < MIN_EXAMPLES:
            file.fail(key_node, f"{count} example(s) {where}: at least {MIN_EXAMPLES} are needed (10+ match better)")
    answer = required_text(file, fields, "answer", where)
    replies = _strings(file, fields, "quick_replies", where)
    synonyms = _synonyms(file, lang, fields, [t for t, _ in examples or []])
    if len(file.problems) > before or examples is None or answer is None or replies is None or synonyms is None:
        return None
    return Localized(tuple(t for t, _ in examples), answer, tuple(t for t, _ in replies), synonyms)


def _synonyms(file: _File, lang: str, fields: dict[str, Pair], examples: list[str]
              ) -> dict[str, tuple[str, ...]] | None:
    """``synonyms:``, a mapping of term -> list of variants; None (and problems) when malformed.

    A term must occur (as whole words) in one of the intent's examples of the
    same language, or its variants would lead nowhere; a variant may not be
    its own term. Variants given twice are reported across files (``_clashing_variants``).
    """
    where = f"in {lang!r}"
    if "synonyms" not in fields or fields["synonyms"][1].tag == NULL:
        return {}
    node = fields["synonyms"][1]
    if not isinstance(node, yaml.MappingNode):
        file.fail(node, f"'synonyms' {where} must be a mapping of term: [variants], found {describe(node)}")
        return None
    before = len(file.problems)
    spoken = [f" {normalize(example)} " for example in examples]
    table: dict[str, tuple[str, ...]] = {}
    for key, value in node.value:
        if not isinstance(key, yaml.ScalarNode) or key.tag != STR or not normalize(key.value):
            file.fail(key, f"a synonym term {where} must be text with at least one word, found {describe(key)}")
            continue
        term = key.value
        if not any(f" {normalize(term)} " in example for example in spoken):
            file.fail(key, f"synonym term {term!r} {where} is in none of this intent's examples")
        variants = _strings(file, {"variants": (key, value)}, "variants", f"of synonym {term!r} {where}")
        if variants is None:
            continue
        if not variants:
            file.fail(key, f"synonym term {term!r} {where} has no variants")
        for variant, line in variants:
            if normalize(variant) == normalize(term):
                file.fail(line, f"variant {variant!r} {where} is the same as its term")
            file.variants.append((lang, variant, term, line))
        table[term] = tuple(variant for variant, _ in variants)
    return table if len(file.problems) == before else None


def _sources(file: _File, fields: dict[str, Pair]) -> tuple[Source, ...] | None:
    """``source:``: ``none``, one ``URL#anchor``, or a mapping ``URL#anchor: hash`` (None when absent or wrong)."""
    if "source" not in fields:
        return None
    node = fields["source"][1]
    if isinstance(node, yaml.ScalarNode) and node.tag == STR and node.value.strip() == NO_SOURCE:
        return ()
    if isinstance(node, yaml.ScalarNode) and node.tag == STR:
        pairs: list[tuple[yaml.Node, yaml.Node | None]] = [(node, None)]
    elif isinstance(node, yaml.MappingNode) and node.value:
        pairs = list(node.value)
    else:
        file.fail(node, f"'source' must be URL#anchor, a mapping of URL#anchor: hash, or none; found {describe(node)}")
        return None
    sources = []
    for ref, digest in pairs:
        where = ref.start_mark.line + 1
        if not isinstance(ref, yaml.ScalarNode) or not _SOURCE_REF.fullmatch(ref.value.strip()):
            file.fail(ref, f"a source must be written URL#anchor (a page and a section), found {ref.value!r}"
                      if isinstance(ref, yaml.ScalarNode) else f"a source must be URL#anchor, found {describe(ref)}")
            continue
        quoted = "" if digest is None or digest.tag == NULL else str(digest.value).strip()
        if digest is not None and not (isinstance(digest, yaml.ScalarNode) and _SOURCE_HASH.fullmatch(quoted)
                                       or digest.tag == NULL):
            file.fail(digest, f"the hash of source {ref.value!r} must be 6 to 64 hex digits, found {quoted!r}")
            continue
        sources.append(Source(ref.value.strip(), quoted, where))
    return tuple(sources)


def _identity(file: _File, fields: dict[str, Pair]) -> tuple[str | None, str | None]:
    """The ``id`` (checked against the file name) and the ``action`` (checked against ``ACTIONS``)."""
    stem = Path(file.path).stem
    ident = required_text(file, fields, "id", "at the top level")
    if ident is not None:
        file.id, file.id_line = ident, fields["id"][0].start_mark.line + 1
        if not _ID.fullmatch(ident):
            file.fail(fields["id"][1], f"bad id {ident!r}: use only lower-case letters, digits and underscores")
        elif ident != stem:
            file.fail(fields["id"][1], f"id {ident!r} does not match the file name (expected id: {stem})")
    action = None
    if "action" in fields and not blank(fields["action"][1]):  # optional: an empty one means none
        action = required_text(file, fields, "action", "at the top level")
        if action is not None and action not in ACTIONS:
            file.fail(fields["action"][1], f"unknown action {action!r} (known: {', '.join(sorted(ACTIONS))})")
    return ident, action


def _check_file(path: Path) -> tuple[_File, Intent | None]:
    """Every problem of one file on its own, and the intent when there are none."""
    file = _File(str(path))
    root = top_mapping(file, "id, en and es")
    if root is None:
        return file, None
    fields = keyed(file, root, _TOP_KEYS, "at the top level")
    for name in ("id", *LANGUAGES):
        if name not in fields:
            what = "language" if name in LANGUAGES else "required field"
            file.fail(root, f"missing {what} {name!r}")
    ident, action = _identity(file, fields)
    texts = {lang: _localized(file, lang, *fields[lang]) for lang in LANGUAGES if lang in fields}
    complete = {lang: localized for lang, localized in texts.items() if localized is not None}
    sources = _sources(file, fields)
    form = required_text(file, fields, "form", "at the top level") if "form" in fields else None
    if form is not None and not _ID.fullmatch(form):
        file.fail(fields["form"][1], f"bad form id {form!r}: use only lower-case letters, digits and underscores")
    if file.problems or ident is None or len(complete) < len(LANGUAGES):
        return file, None
    form_line = fields["form"][1].start_mark.line + 1 if "form" in fields else 1
    return file, Intent(ident, action, complete, file.path, sources, form, form_line)


# -- the folder -------------------------------------------------------------------------------------


def _duplicate_ids(files: list[_File]) -> tuple[list[Problem], set[str]]:
    """Ids used by more than one file, reported at each; and the paths to drop (all but the first)."""
    by_id: dict[str, list[_File]] = defaultdict(list)
    for file in files:
        if file.id is not None:
            by_id[file.id].append(file)
    problems: list[Problem] = []
    dropped: set[str] = set()
    for ident, same in by_id.items():
        if len(same) < 2:
            continue
        for file in same:
            others = ", ".join(f"{o.path}:{o.id_line}" for o in same if o is not file)
            problems.append(Problem(file.path, file.id_line, f"duplicate id {ident!r}: also in {others}"))
        dropped.update(file.path for file in same[1:])
    return problems, dropped


def _duplicate_examples(files: list[_File]) -> list[Problem]:
    """The same example (after ``normalize``) in two intents: the matcher could not tell them apart."""
    places: dict[str, list[tuple[_File, str, str, int]]] = defaultdict(list)
    for file in files:
        for lang, text, line in file.examples:
            places[normalize(text)].append((file, lang, text, line))
    problems = []
    for found in places.values():
        for file, lang, text, line in found:
            # reversed: for each other file, its first occurrence is the one kept
            others = {o.path: f"{o.path}:{o_line}" for o, _, _, o_line in reversed(found) if o is not file}
            if others:
                where = ", ".join(sorted(others.values()))
                problems.append(
                    Problem(file.path, line, f"example {text!r} ({lang}) is also in another intent: {where}")
                )
    return problems


def _clashing_variants(files: list[_File]) -> list[Problem]:
    """A variant given two different terms (in one language): the rewrite could only follow one of them."""
    places: dict[tuple[str, str], list[tuple[_File, str, int]]] = defaultdict(list)
    for file in files:
        for lang, variant, term, line in file.variants:
            places[(lang, normalize(variant))].append((file, term, line))
    problems = []
    for (lang, _), found in places.items():
        if len({normalize(term) for _, term, _ in found}) < 2:
            continue
        for file, _, line in found:
            others = ", ".join(f"{o.path}:{o_line} ({o_term!r})" for o, o_term, o_line in found if o_line != line
                               or o is not file)
            problems.append(Problem(file.path, line, f"variant given another term ({lang}): {others}"))
    return problems


def _intent_files(directory: Path) -> list[Path] | Problem:
    """The ``*.yaml``/``*.yml`` files, sorted; hidden files (editor lock files) are skipped."""
    if not directory.exists():
        return Problem(str(directory), 1, "the intent directory does not exist")
    if not directory.is_dir():
        return Problem(str(directory), 1, "not a directory")
    try:
        paths = sorted(p for p in directory.iterdir() if p.suffix in SUFFIXES and not p.name.startswith("."))
    except OSError as exc:
        return Problem(str(directory), 1, f"cannot list the directory: {exc.strerror or exc}")
    if not paths:
        return Problem(str(directory), 1, f"no intent files ({', '.join('*' + s for s in SUFFIXES)}) in the directory")
    return paths


def check_directory(directory: str | Path) -> tuple[list[Intent], list[Problem]]:
    """Check every intent file in ``directory``: the intents that were valid, and every problem found.

    Files are checked on their own, then against each other (duplicate ids and
    examples). When two files claim one id, only the first (by file name) is returned.
    """
    paths = _intent_files(Path(directory))
    if isinstance(paths, Problem):
        return [], [paths]
    checked = [_check_file(path) for path in paths]
    files = [file for file, _ in checked]
    problems = [problem for file in files for problem in file.problems]
    id_problems, dropped = _duplicate_ids(files)
    problems += id_problems + _duplicate_examples(files) + _clashing_variants(files)
    problems.sort(key=lambda p: (p.path, p.line))
    intents = [intent for _, intent in checked if intent is not None and intent.path not in dropped]
    return intents, problems


def load_intents(directory: str | Path) -> list[Intent]:
    """All intents in ``directory``, sorted by id; raises ``IntentError`` listing every problem if there is any."""
    intents, problems = check_directory(directory)
    if problems:
        raise IntentError(problems)
    return sorted(intents, key=lambda intent: intent.id)
