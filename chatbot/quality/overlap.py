"""The intent check that needs the matcher: examples the bot would answer with another intent.

Each example is held out and matched against a matcher built from the rest
of its language's examples (read through the intents' synonyms, as the bot
reads them). If another intent comes first with a confidence at or above the
bot's threshold, a visitor who types it would get that intent's answer: one of
the two intents needs clearer examples. ``chatbot intents check`` prints these
as warnings (``--strict`` makes them fail). An example that merely ranks
another intent first *below* the threshold is not reported: the bot would hand
that visitor to a person, not answer wrongly (earlier, every such ranking was a
warning: 159 on the shipped intents, which told nobody what to fix).

The examples are held out in groups (``chatbot.quality.crossval``), so the check
takes seconds. Out-of-scope examples are ranked here as one more intent, so an
example too close to an answerable intent is reported too.

Tested in tests/test_admin_cli.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from chatbot.bot.intents import LANGUAGES, Intent
from chatbot.bot.matcher import DEFAULT_THRESHOLD
from chatbot.bot.understanding.vocabulary import Vocabulary
from chatbot.quality.crossval import FOLDS, cross_validate


@dataclass(frozen=True)
class Overlap:
    """An example that the matcher, without it, would give to ``closer`` rather than ``intent``."""

    path: str
    line: int
    lang: str
    example: str
    intent: str
    own: float
    closer: str
    score: float

    def __str__(self) -> str:
        return (
            f"{self.path}:{self.line}: example {self.example!r} ({self.lang}) would be answered by intent "
            f"{self.closer} ({self.score:.2f}) rather than its own, {self.intent} ({self.own:.2f})"
        )


def example_lines(path: str | Path) -> dict[tuple[str, str], int]:
    """The 1-based line of each ``(lang, example)`` in an intent file, read from the YAML node marks."""
    try:
        root = yaml.compose(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    lines: dict[tuple[str, str], int] = {}
    for key, lang_node in getattr(root, "value", []) if isinstance(root, yaml.MappingNode) else []:
        if key.value not in LANGUAGES or not isinstance(lang_node, yaml.MappingNode):
            continue
        for field, examples in lang_node.value:
            if field.value == "examples" and isinstance(examples, yaml.SequenceNode):
                for node in examples.value:
                    if isinstance(node, yaml.ScalarNode):
                        lines.setdefault((key.value, node.value), node.start_mark.line + 1)
    return lines


def _language(intents: Sequence[Intent], lang: str, folds: int) -> list[Overlap]:
    vocabulary = Vocabulary.of(intent.texts[lang].synonyms for intent in intents)
    pairs = [(example, intent.id) for intent in intents for example in intent.texts[lang].examples]
    spoken = [(vocabulary.rewrite(example), own) for example, own in pairs]
    paths = {intent.id: intent.path for intent in intents}
    lines = {path: example_lines(path) for path in set(paths.values())}
    found: list[Overlap] = []
    for (example, own), ranked in zip(pairs, cross_validate(spoken, folds=folds, k=len(intents)), strict=True):
        own_score = next((c.confidence for c in ranked if c.intent == own), 0.0)
        other = ranked[0] if ranked and ranked[0].intent != own else None
        if other is not None and other.confidence >= DEFAULT_THRESHOLD:
            line = lines[paths[own]].get((lang, example), 1)
            found.append(Overlap(paths[own], line, lang, example, own, own_score, other.intent, other.confidence))
    return found


def closer_elsewhere(intents: Sequence[Intent], folds: int = FOLDS) -> list[Overlap]:
    """Every example that, held out, another intent would answer (first, at the threshold or above); in file order."""
    found = [overlap for lang in LANGUAGES for overlap in _language(intents, lang, folds)]
    return sorted(found, key=lambda o: (o.path, o.line))
