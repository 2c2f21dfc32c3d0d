"""The intent check that needs the matcher: examples closer to another intent than to their own.

Each example is held out and matched against a matcher built from the rest
of its language's examples. If another intent ranks above the example's own,
a visitor who types it would likely get the wrong answer (or be handed off):
one of the two intents needs clearer examples. ``chatbot intents check``
prints these as warnings (``--strict`` makes them fail).

The examples are held out in groups (``chatbot.crossval``), so the check
takes seconds. Out-of-scope examples are ranked here as one more intent, so an
example too close to an answerable intent is reported too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from chatbot.crossval import FOLDS, cross_validate
from chatbot.intents import LANGUAGES, Intent


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
            f"{self.path}:{self.line}: example {self.example!r} ({self.lang}) is closer to intent "
            f"{self.closer} ({self.score:.2f}) than to its own, {self.intent} ({self.own:.2f})"
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
    pairs = [(example, intent.id) for intent in intents for example in intent.texts[lang].examples]
    paths = {intent.id: intent.path for intent in intents}
    lines = {path: example_lines(path) for path in set(paths.values())}
    found: list[Overlap] = []
    for (example, own), ranked in zip(pairs, cross_validate(pairs, folds=folds, k=len(intents)), strict=True):
        own_score = next((c.confidence for c in ranked if c.intent == own), 0.0)
        other = next((c for c in ranked if c.intent != own), None)
        if other is not None and other.confidence > own_score:
            line = lines[paths[own]].get((lang, example), 1)
            found.append(Overlap(paths[own], line, lang, example, own, own_score, other.intent, other.confidence))
    return found


def closer_elsewhere(intents: Sequence[Intent], folds: int = FOLDS) -> list[Overlap]:
    """Every example that, held out, ranks another intent strictly above its own; in file order."""
    found = [overlap for lang in LANGUAGES for overlap in _language(intents, lang, folds)]
    return sorted(found, key=lambda o: (o.path, o.line))
