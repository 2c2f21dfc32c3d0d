"""The shipped intent files, and the checker's report on broken ones: each problem at its exact file and line."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatbot.bot.intents import LANGUAGES, IntentError, Problem, check_directory, load_intents
from chatbot.bot.text import normalize

INTENTS = Path(__file__).resolve().parents[1] / "intents"
BROKEN = Path(__file__).resolve().parent / "data" / "broken_intents"

SPEC_IDS = {
    "greeting", "thanks_goodbye", "bot_identity", "human_agent", "upper_back_pain_overview", "pain_causes",
    "nerve_compression", "herniated_disc", "bone_spurs", "spinal_degeneration", "radiating_pain", "tingling_spasms",
    "conservative_treatment", "medication", "heat_therapy", "exercise", "rest", "cortisone_injections",
    "when_conservative_fails", "minimally_invasive_procedures", "surgery_candidate", "mri_review", "phone_hours",
    "info_packet", "seminars", "patient_stories", "physicians_centers", "spanish_available",
}  # fmt: skip
MEDICAL_IDS = {
    "upper_back_pain_overview", "pain_causes", "nerve_compression", "herniated_disc", "bone_spurs",
    "spinal_degeneration", "radiating_pain", "tingling_spasms", "conservative_treatment", "medication",
    "heat_therapy", "exercise", "rest", "cortisone_injections", "when_conservative_fails",
    "minimally_invasive_procedures", "surgery_candidate",
}  # fmt: skip
DISCLAIMER = {
    "en": "This is general information, not a diagnosis.",
    "es": "Esta es información general, no un diagnóstico.",
}
MIN_SHIPPED_EXAMPLES = 10


# -- the shipped files --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped():
    """The answerable intents: the out-of-scope file only trains the matcher's "none of these"."""
    return {intent.id: intent for intent in load_intents(INTENTS) if intent.answerable}


def test_shipped_files_have_no_problems():
    intents, problems = check_directory(INTENTS)
    assert [str(p) for p in problems] == []
    assert len(intents) == len(SPEC_IDS) + 1


def test_exactly_the_spec_ids_are_shipped(shipped):
    assert set(shipped) == SPEC_IDS
    assert {path.stem for path in INTENTS.glob("*.yaml")} == SPEC_IDS | {"out_of_scope"}


def test_the_out_of_scope_file_is_not_answerable():
    (outside,) = [intent for intent in load_intents(INTENTS) if not intent.answerable]
    assert outside.id == outside.action == "out_of_scope"


def test_load_intents_sorts_by_id(shipped):
    assert list(shipped) == sorted(shipped)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_intent_has_enough_examples_and_an_answer(shipped, lang):
    for intent in shipped.values():
        localized = intent.texts[lang]
        assert len(localized.examples) >= MIN_SHIPPED_EXAMPLES, intent.id
        assert len(set(map(normalize, localized.examples))) == len(localized.examples), f"repeat in {intent.id}"
        assert localized.answer and localized.answer == localized.answer.strip(), intent.id


@pytest.mark.parametrize("lang", LANGUAGES)
def test_quick_replies_lead_to_another_intent(shipped, lang):
    """Each quick reply is, word for word, an example of another intent: clicking it gets that intent's answer."""
    owner = {normalize(example): intent.id for intent in shipped.values() for example in intent.texts[lang].examples}
    for intent in shipped.values():
        replies = intent.texts[lang].quick_replies
        assert all(isinstance(reply, str) and reply.strip() for reply in replies), intent.id
        for reply in replies:
            assert owner.get(normalize(reply)) not in (None, intent.id), f"{intent.id}: {reply!r}"
        if intent.action is None:
            assert 2 <= len(replies) <= 3, intent.id


def test_only_human_agent_hands_off(shipped):
    assert {intent.id for intent in shipped.values() if intent.action is not None} == {"human_agent"}
    assert shipped["human_agent"].action == "handoff"
    assert shipped["human_agent"].texts["en"].answer.startswith("I'll connect you with a representative.")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_medical_answers_say_they_are_not_a_diagnosis(shipped, lang):
    for intent_id in MEDICAL_IDS:
        assert shipped[intent_id].texts[lang].answer.endswith(DISCLAIMER[lang]), intent_id


def test_answers_invent_no_numbers(shipped):
    """The page's phone number is cut off, and it gives no figures: an answer with a digit made one up."""
    for intent in shipped.values():
        for lang in LANGUAGES:
            assert not re.search(r"\d", intent.texts[lang].answer), f"{intent.id} ({lang})"


def test_readme_is_not_an_intent():
    assert (INTENTS / "README.md").is_file()
    assert all(Path(intent.path).suffix == ".yaml" for intent in load_intents(INTENTS))


# -- one test per kind of problem ---------------------------------------------------------------------


def reported(case: str) -> list[str]:
    return [str(problem) for problem in check_directory(BROKEN / case)[1]]


def at(case: str, name: str, line: int, message: str) -> str:
    return f"{BROKEN / case / name}:{line}: {message}"


def test_bad_yaml_points_at_the_parser_error():
    assert reported("bad_yaml") == [
        at("bad_yaml", "bad_yaml.yaml", 4,
           "invalid YAML: expected ',' or ']', but got ':' (while parsing a flow sequence on line 3)"),
    ]  # fmt: skip


def test_top_level_must_be_a_mapping():
    assert reported("not_mapping") == [
        at("not_mapping", "not_mapping.yaml", 2, "expected a mapping (id, en, es) at the top level, found a list"),
    ]


def test_empty_file():
    assert reported("empty_file") == [
        at("empty_file", "empty_file.yaml", 1, "the file is empty: expected a mapping with id, en and es"),
    ]


def test_missing_required_fields():
    assert reported("missing_fields") == [
        at("missing_fields", "missing_fields.yaml", 1, "missing required field 'id'"),
        at("missing_fields", "missing_fields.yaml", 4, "missing required field 'examples' in 'es'"),
    ]


def test_empty_required_fields():
    assert reported("empty_fields") == [
        at("empty_fields", "empty_fields.yaml", 1, "empty required field 'id' at the top level"),
        at("empty_fields", "empty_fields.yaml", 4, "empty required field 'answer' in 'en'"),
        at("empty_fields", "empty_fields.yaml", 7, "empty required field 'answer' in 'es'"),
    ]


def test_unknown_top_level_and_language_keys():
    assert reported("unknown_keys") == [
        at("unknown_keys", "unknown_keys.yaml", 5,
           "unknown key 'quick_reply' in 'en' (expected: examples, answer, quick_replies, synonyms)"),
        at("unknown_keys", "unknown_keys.yaml", 9,
           "unknown key 'fr' at the top level (expected: id, action, form, source, en, es)"),
    ]  # fmt: skip


def test_duplicate_key():
    assert reported("duplicate_key") == [
        at("duplicate_key", "duplicate_key.yaml", 8, "duplicate key 'en' at the top level (first on line 2)"),
    ]


def test_bad_id():
    assert reported("bad_id") == [
        at("bad_id", "Bad-Id.yaml", 2, "bad id 'Bad-Id': use only lower-case letters, digits and underscores"),
    ]


def test_id_must_match_the_file_name():
    assert reported("id_mismatch") == [
        at("id_mismatch", "heat.yaml", 1, "id 'heat_therapy' does not match the file name (expected id: heat)"),
    ]


def test_unknown_action():
    assert reported("unknown_action") == [
        at("unknown_action", "unknown_action.yaml", 2, "unknown action 'transfer' (known: handoff, out_of_scope)"),
    ]


def test_duplicate_id_is_reported_in_both_files():
    first, second = BROKEN / "duplicate_id" / "same.yaml", BROKEN / "duplicate_id" / "same.yml"
    intents, problems = check_directory(BROKEN / "duplicate_id")
    assert [str(p) for p in problems] == [
        f"{first}:1: duplicate id 'same': also in {second}:3",
        f"{second}:3: duplicate id 'same': also in {first}:1",
    ]
    assert [intent.path for intent in intents] == [str(first)]  # the first file only, so ids stay unique


def test_missing_language():
    assert reported("missing_language") == [
        at("missing_language", "missing_language.yaml", 1, "missing language 'es'"),
    ]


def test_too_few_examples():
    assert reported("too_few_examples") == [
        at("too_few_examples", "too_few_examples.yaml", 6,
           "2 example(s) in 'es': at least 3 are needed (10+ match better)"),
    ]  # fmt: skip


def test_examples_must_be_text_with_words():
    case, name = "example_not_text", "example_not_text.yaml"
    assert reported(case) == [
        at(case, name, 5, "an item of 'examples' in 'en' is not text, found a yes/no value ('no') (put it in quotes)"),
        at(case, name, 6, "an item of 'examples' in 'en' is not text, found a number ('42') (put it in quotes)"),
        at(case, name, 7, "an item of 'examples' in 'en' is not text, found a list"),
        at(case, name, 8, "an item of 'examples' in 'en' has no words: '?!'"),
    ]


def test_fields_of_the_wrong_type():
    case, name = "wrong_types", "wrong_types.yaml"
    assert reported(case) == [
        at(case, name, 2, "'en' must be a mapping with examples and answer, found text"),
        at(case, name, 4, "'examples' in 'es' must be a list, found text"),
        at(case, name, 5, "'answer' in 'es' must be text, found a list"),
        at(case, name, 6, "'quick_replies' in 'es' must be a list, found text"),
    ]


def test_same_example_in_two_intents_is_reported_at_both():
    heat, rest = BROKEN / "duplicate_example" / "heat.yaml", BROKEN / "duplicate_example" / "rest.yaml"
    assert reported("duplicate_example") == [
        f"{heat}:4: example 'does heat help' (en) is also in another intent: {rest}:5",
        f"{rest}:5: example 'Does HEAT help?!' (en) is also in another intent: {heat}:4",
    ]


def test_folder_without_intent_files():
    """Its README.md does not count: only *.yaml and *.yml files are intents."""
    assert reported("no_files") == [f"{BROKEN / 'no_files'}:1: no intent files (*.yaml, *.yml) in the directory"]


def test_missing_directory(tmp_path):
    absent = tmp_path / "absent"
    assert [str(p) for p in check_directory(absent)[1]] == [f"{absent}:1: the intent directory does not exist"]


def test_path_that_is_not_a_directory(tmp_path):
    file = tmp_path / "intents.yaml"
    file.write_text("id: x\n", encoding="utf-8")
    assert [str(p) for p in check_directory(file)[1]] == [f"{file}:1: not a directory"]


def test_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "latin.yaml"
    path.write_bytes("id: latin\nen:\n  answer: caf\xe9\n".encode("latin-1"))
    assert [str(p) for p in check_directory(tmp_path)[1]] == [f"{path}:3: cannot read the file: it is not UTF-8 text"]


def test_nesting_too_deep_for_the_parser(tmp_path):
    (tmp_path / "deep.yaml").write_text("[" * 5000, encoding="utf-8")
    assert [str(p) for p in check_directory(tmp_path)[1]] == [
        f"{tmp_path / 'deep.yaml'}:1: invalid YAML: nested too deeply"
    ]


def test_unreadable_file(tmp_path):
    (tmp_path / "folder.yaml").mkdir()  # matches *.yaml but cannot be read as a file
    problems = check_directory(tmp_path)[1]
    assert [(p.path, p.line) for p in problems] == [(str(tmp_path / "folder.yaml"), 1)]
    assert problems[0].message.startswith("cannot read the file: ")


_YAMLISH = st.text(alphabet=st.sampled_from(list("id:en es-[]{}\"'&*!|>#?,\n\t abc0é¿")), max_size=120)


@settings(max_examples=200, deadline=None)
@given(text=st.one_of(_YAMLISH, st.text(max_size=80)))
def test_any_file_content_gives_problems_never_a_crash(text):
    with tempfile.TemporaryDirectory() as directory:
        (Path(directory) / "x.yaml").write_text(text, encoding="utf-8")
        intents, problems = check_directory(directory)
    assert all(problem.line >= 1 and problem.message for problem in problems)
    assert intents == [] or not problems


# -- loading ------------------------------------------------------------------------------------------

VALID = """\
id: {id}
action: {action}
en:
  examples: [{en}]
  answer: |
    I'll connect you with a representative.
es:
  examples: [{es}]
  answer: Le comunico con un representante.
  quick_replies:
    - ¿Cuál es su número de teléfono?
"""


def test_a_valid_folder_loads(tmp_path):
    people_en, people_es = "talk to a person, a human please, real person", "hablar con una persona, humano, agente"
    (tmp_path / "people.yml").write_text(
        VALID.format(id="people", action="handoff", en=people_en, es=people_es), "utf-8"
    )
    (tmp_path / "quiet.yaml").write_text(VALID.format(id="quiet", action="", en="a, b, c", es="x, y, z"), "utf-8")
    (tmp_path / ".#people.yml").write_text("not: [yaml", encoding="utf-8")  # an editor's lock file: skipped
    (tmp_path / "README.md").write_text("notes", encoding="utf-8")
    people, quiet = load_intents(tmp_path)
    assert (people.id, people.action, people.path) == ("people", "handoff", str(tmp_path / "people.yml"))
    assert quiet.action is None  # an empty optional field means none
    assert people.texts["en"].answer == "I'll connect you with a representative."
    assert people.texts["en"].quick_replies == ()
    assert people.texts["es"].quick_replies == ("¿Cuál es su número de teléfono?",)
    assert people.texts["es"].examples == ("hablar con una persona", "humano", "agente")


def test_load_intents_raises_with_every_problem_one_per_line():
    with pytest.raises(IntentError) as raised:
        load_intents(BROKEN / "empty_fields")
    assert len(raised.value.problems) == 3
    assert all(isinstance(problem, Problem) for problem in raised.value.problems)
    assert str(raised.value).splitlines() == [str(problem) for problem in raised.value.problems]
