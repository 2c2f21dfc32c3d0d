"""The grounding check: ``chatbot intents check DIR --content DIR`` on the shipped intents and on invented answers.

Real files only: the shipped intents and the shipped snapshot (content/, the
shipped site's import), copied and edited where a test needs a wrong one.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from chatbot.admin.content import check_grounding
from chatbot.bot.intents import check_directory
from chatbot.cli.main import main
from chatbot.content import grounding, snapshot
from chatbot.content.snapshot import section_hash
from tests.conftest import INTENTS, ROOT

CONTENT = ROOT / "content"
INVENTED = "Our procedure cures 99% of patients."


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    """Copies of the shipped intents and snapshot, to edit."""
    return Path(shutil.copytree(INTENTS, tmp_path / "intents")), Path(shutil.copytree(CONTENT, tmp_path / "content"))


def check(intents: Path, content: Path, capsys) -> tuple[int, int, list[str]]:
    """What ``intents check --content`` adds to the file check: (errors, warnings, the lines printed).

    The command itself is run once (the invented sentence): its overlap check trains the matcher many times over.
    """
    found, problems = check_directory(intents)
    assert problems == []
    errors, warnings = check_grounding(found, content)
    return errors, warnings, capsys.readouterr().out.splitlines()


def line_of(path: Path, text: str) -> int:
    return next(number for number, line in enumerate(path.read_text().splitlines(), start=1) if text in line)


def test_the_shipped_intents_are_grounded_in_the_shipped_site(capsys) -> None:
    assert check(INTENTS, CONTENT, capsys) == (0, 0, [])


def test_every_shipped_intent_cites_a_source_or_says_none() -> None:
    intents, problems = check_directory(INTENTS)
    assert problems == []
    about_the_bot = {i.id for i in intents if i.sources == ()}
    assert about_the_bot == {"greeting", "human_agent", "thanks_goodbye", "bot_identity", "out_of_scope"}
    assert all(i.sources and all(s.sha256 for s in i.sources) for i in intents if i.id not in about_the_bot)


def test_an_invented_sentence_is_caught_at_its_file_and_line(folders: tuple[Path, Path], capsys) -> None:
    intents, content = folders
    path = intents / "heat_therapy.yaml"
    text = path.read_text()
    path.write_text(text.replace(" Heat packs,", f"\n    {INVENTED} Heat packs,", 1))
    assert path.read_text() != text
    assert main(["intents", "check", str(intents), "--content", str(content)]) == 1
    printed = capsys.readouterr()
    assert printed.err.splitlines()[-1].startswith(f"{intents}: 29 intents, 1 error(s)")
    lines = [line for line in printed.out.splitlines() if not line.endswith("(warning)")]
    assert lines == [f'{path}:{line_of(path, INVENTED)}: answer sentence not in '
                     f'upper-back-muscle-pain.html#conservative-treatment: "{INVENTED}" '
                     "(not there: claim word 'cures', number '99', number '%')"]


def test_a_spanish_answer_may_not_add_a_number_or_a_name(folders: tuple[Path, Path], capsys) -> None:
    intents, content = folders
    path = intents / "rest.yaml"
    text = path.read_text()
    start = text.index("es:")
    added = "La doctora García lo recomienda 3 veces al día."
    path.write_text(text[:start] + text[start:].replace("Esta es información general", f"{added}\n    Esta es "
                                                        "información general", 1))
    errors, _, (line,) = check(intents, content, capsys)
    assert errors == 1
    assert line.startswith(f"{path}:{line_of(path, added)}: answer sentence not in ")
    assert line.endswith(f"\"{added}\" (not there: number '3', name 'García')")


def test_a_changed_section_makes_its_intents_stale(folders: tuple[Path, Path], capsys) -> None:
    intents, content = folders
    (snapshot_file,) = content.glob("upper-back-muscle-pain-html-*.json")
    page = json.loads(snapshot_file.read_text())
    section = next(s for s in page["sections"] if s["anchor"] == "progressive-treatment")
    old = section["sha256"][:12]
    section["text"] += " Outpatient procedures need no overnight stay."
    section["sha256"] = section_hash(section["heading"], section["text"])
    snapshot_file.write_text(json.dumps(page))
    errors, warnings, lines = check(intents, content, capsys)
    assert (errors, warnings) == (0, 2)  # warnings (two intents cite the section): they fail only with --strict
    path = intents / "when_conservative_fails.yaml"
    assert f"{path}:{line_of(path, 'upper-back-muscle-pain.html#progressive-treatment')}: stale: " \
           f"upper-back-muscle-pain.html#progressive-treatment changed since this intent quoted it (hash {old}, " \
           f"now {section['sha256'][:12]}) (warning)" in lines


def test_an_intent_without_source_or_with_an_unknown_one_is_an_error(folders: tuple[Path, Path], capsys) -> None:
    intents, content = folders
    rest = intents / "rest.yaml"
    rest.write_text("".join(line for line in rest.read_text().splitlines(True)
                            if not line.startswith(("source:", "  upper-back"))))
    heat = intents / "heat_therapy.yaml"
    heat.write_text(heat.read_text().replace("#conservative-treatment:", "#heat:"))
    errors, _, lines = check(intents, content, capsys)
    assert errors == 2
    assert f"{heat}:3: source upper-back-muscle-pain.html#heat: no such section in the content" in lines
    assert f"{rest}:1: no 'source:': cite the page section (URL#anchor: hash), or 'source: none' for an intent " \
           "about the bot itself" in lines


def test_an_empty_snapshot_folder_is_an_error(tmp_path: Path, capsys) -> None:
    expected = f"{tmp_path}:1: no page snapshots here (chatbot content import SOURCE --out {tmp_path})"
    assert check(INTENTS, tmp_path, capsys) == (1, 0, [expected])


@pytest.mark.parametrize(("value", "expected"), [
    ("source: 42", "'source' must be URL#anchor, a mapping of URL#anchor: hash, or none; found a number ('42')"),
    ("source: page.html", "a source must be written URL#anchor (a page and a section), found 'page.html'"),
    ("source:\n  page.html#heat: xyz", "the hash of source 'page.html#heat' must be 6 to 64 hex digits, found 'xyz'"),
    ("source: []", "'source' must be URL#anchor, a mapping of URL#anchor: hash, or none; found a list"),
])
def test_the_loader_checks_source_with_file_and_line(folders: tuple[Path, Path], value: str, expected: str) -> None:
    intents, _ = folders
    path = intents / "rest.yaml"
    text = path.read_text()
    start, end = text.index("source:"), text.index("en:")
    path.write_text(text[:start] + value + "\n" + text[end:])
    _, problems = check_directory(intents)
    assert [str(p) for p in problems] == [f"{path}:{line_of(path, value.splitlines()[-1])}: {expected}"]


def test_a_plain_source_without_hash_is_accepted_and_never_stale(folders: tuple[Path, Path]) -> None:
    intents, _ = folders
    path = intents / "rest.yaml"
    text = path.read_text()
    start, end = text.index("source:"), text.index("en:")
    path.write_text(text[:start] + "source: upper-back-muscle-pain.html#conservative-treatment\n" + text[end:])
    found, problems = check_directory(intents)
    assert problems == []
    (rest,) = [i for i in found if i.id == "rest"]
    assert [(s.ref, s.sha256, s.line) for s in rest.sources or ()] == [
        ("upper-back-muscle-pain.html#conservative-treatment", "", 2)]


# -- the sentence rules on their own ------------------------------------------------------------------

SECTION = (
    "Conservative treatment\nIf you are experiencing upper back pain in the form of throbbing, tingling or muscle "
    "spasms, your physician may attempt to manage your symptoms with a series of conservative, non-surgical "
    "treatments.\n- Heat – the application of heat to an injury facilitates your blood flow and expedites the "
    "healing process. Heat packs, blankets and hot tub therapy can all be helpful.\n- Rest – while you don’t want to "
    "become sedentary, limited rest is often all that is needed to overcome muscle pain."
)


@pytest.fixture(scope="module")
def source() -> grounding._Source:
    from chatbot.content.snapshot import Section
    return grounding._Source.of([Section("conservative-treatment", "", SECTION, "en")])


@pytest.mark.parametrize(("sentence", "reason"), [
    (INVENTED, "not there: claim word 'cures', number '99', number '%'"),
    ("Heat therapy is always safe.", "not there: claim word 'always', claim word 'safe'"),
    ("Rest is not needed to overcome muscle pain.", "not there: claim word 'not'"),
    ("Dr. Smith offers heat packs.", "not there: name 'Smith'"),
    ("Heat packs help in two weeks.", "not there: number '2'"),
    ("Insurance covers these treatments.", "only 33% of its content words are there"),
    ("I can tell you that heat cures back pain.", "not there: claim word 'cures'"),
    ("Heat helps ninety-nine percent of patients.", "not there: number '99', number '%'"),  # numbers as words
    ("Heat packs completely stop muscle spasms.", "not there: claim word 'completely'"),
    ("Surgical treatments can manage your symptoms.",  # the page says "non-surgical"
     "negation dropped: the source says it only with a negation: 'surgical'"),
])
def test_invented_english_sentences_are_refused(source: grounding._Source, sentence: str, reason: str) -> None:
    assert grounding.unsupported_en(sentence, source) == reason


@pytest.mark.parametrize("sentence", [
    "Applying heat to an injury increases blood flow and speeds up the healing process.",
    "The point is to rest some without becoming sedentary.",
    "Ask me about any of them to learn more.",  # the bot's own voice: only numbers, names and claims are looked up
])
def test_faithful_paraphrases_and_the_bots_own_words_pass(source: grounding._Source, sentence: str) -> None:
    assert grounding.unsupported_en(sentence, source) is None


@pytest.mark.parametrize(("sentence", "reason"), [
    ("Nuestro procedimiento cura al 99 % de los pacientes.", "not there: claim word 'cura', number '99', number '%'"),
    ("El calor siempre ayuda.", "not there: claim word 'siempre'"),
    ("El calor ayuda durante siete días.", "not there: number '7'"),
    ("El calor alivia al noventa y nueve por ciento.", "not there: number '99', number '%'"),
    ("La terapia de calor es totalmente gratis.", "not there: claim word 'totalmente', claim word 'gratis'"),
])
def test_spanish_sentences_are_checked_for_numbers_names_and_claims(source: grounding._Source, sentence: str,
                                                                    reason: str) -> None:
    assert grounding.unsupported_es(sentence, source) == reason
    assert grounding.unsupported_es("El calor acelera la curación.", source) is None


def test_a_new_claim_made_of_the_pages_own_words_is_caught_when_it_drops_a_negation() -> None:
    """The page says exercise may "prevent further damage"; medication that "can damage your liver" is not said."""
    page = snapshot.load(CONTENT)["upper-back-muscle-pain.html"]
    source = grounding._Source.of([page.section("conservative-treatment")])
    assert grounding.unsupported_en("Anti-inflammatory medication can damage your liver.", source) == \
        "negation dropped: the source says it only with a negation: 'damage'"
    assert grounding.unsupported_en("Targeted exercise may help prevent further damage.", source) is None


def test_answers_are_cut_into_sentences() -> None:
    assert grounding.sentences("Yes. Our site is also in Spanish (\"También\"). ¿Sí? Call 1-800.") == [
        "Yes.", "Our site is also in Spanish (\"También\").", "¿Sí?", "Call 1-800."]
