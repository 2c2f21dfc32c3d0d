"""Synonyms in the intent files: rewriting messages, and the intent check's errors with file and line."""

from __future__ import annotations

from pathlib import Path

from chatbot.bot.intents import check_directory
from chatbot.bot.understanding.vocabulary import Vocabulary
from tests.conftest import INTENTS


def test_variants_become_their_term_whole_words_longest_first() -> None:
    vocabulary = Vocabulary({"advil": "painkillers", "muscle relaxers": "painkillers", "rest": "reposo"})
    assert vocabulary.rewrite("Is ADVIL ok? or muscle relaxers") == "is painkillers ok or painkillers"
    assert vocabulary.rewrite("restaurant near you") == "restaurant near you", "whole words only"
    assert Vocabulary({}).rewrite("¿Qué TAL?") == "que tal"


def test_the_shipped_intents_give_drug_names_and_everyday_words() -> None:
    intents, problems = check_directory(INTENTS)
    assert problems == []
    by_id = {intent.id: intent for intent in intents}
    assert "aleve" in by_id["medication"].texts["en"].synonyms["painkillers"]
    assert "epidural" in by_id["cortisone_injections"].texts["es"].synonyms["inyeccion de cortisona"]


def _intent(folder: Path, name: str, synonyms: str) -> Path:
    """An intent whose examples (line 3) are its own, so that only the synonyms (from line 6) can clash."""
    path = folder / f"{name}.yaml"
    path.write_text(
        f"id: {name}\nen:\n  examples: [{name} help, heat pack {name}, heating pad {name}]\n  answer: Heat helps.\n"
        f"{synonyms}es:\n  examples: [{name} calor, {name} compresas, {name} almohadilla]\n  answer: El calor ayuda.\n",
        encoding="utf-8",
    )
    return path


def test_broken_synonyms_are_reported_with_file_and_line(tmp_path: Path) -> None:
    _intent(tmp_path, "heat", "  synonyms:\n    heat: warm\n")
    _intent(tmp_path, "warmth", "  synonyms:\n    sauna: [steam]\n    heat pack: [heat pack]\n")
    _, problems = check_directory(tmp_path)
    messages = sorted(str(p).replace(str(tmp_path) + "/", "") for p in problems)
    assert messages == [
        "heat.yaml:6: 'variants' of synonym 'heat' in 'en' must be a list, found text",
        "warmth.yaml:6: synonym term 'sauna' in 'en' is in none of this intent's examples",
        "warmth.yaml:7: variant 'heat pack' in 'en' is the same as its term",
    ]


def test_a_variant_given_two_terms_is_reported_at_both_places(tmp_path: Path) -> None:
    _intent(tmp_path, "heat", "  synonyms:\n    heat pack: [hot pad]\n")
    _intent(tmp_path, "pads", "  synonyms:\n    heating pad: [hot pad]\n")
    _, problems = check_directory(tmp_path)
    assert [(Path(p.path).name, p.line) for p in problems] == [("heat.yaml", 6), ("pads.yaml", 6)]
    assert all("variant given another term (en)" in p.message for p in problems)
