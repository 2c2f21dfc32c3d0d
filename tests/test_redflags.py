"""Red-flag spotting: emergencies in English and Spanish, typos and all, and silence on ordinary questions."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from chatbot.bot.redflags import CATEGORIES, RedFlag, detect, emergency_message
from chatbot.bot.text import normalize

POSITIVES = [
    # loss of bladder or bowel control
    ("since this morning I can't control my bladder", "bladder_bowel"),
    ("i cant hold my pee anymore and my back is killing me", "bladder_bowel"),
    ("I wet myself today without noticing", "bladder_bowel"),
    ("lost control of my bowels last night", "bladder_bowel"),
    ("i think i have incontinance now??", "bladder_bowel"),
    ("cant controll my bladdr", "bladder_bowel"),
    ("I can't pee even though I need to", "bladder_bowel"),
    ("no puedo controlar la orina", "bladder_bowel"),
    ("perdí el control de la vejiga", "bladder_bowel"),
    ("me orino sin darme cuenta desde ayer", "bladder_bowel"),
    ("tengo incontinencia y dolor de espalda", "bladder_bowel"),
    ("no puedo aguantar las ganas de hacer pis", "bladder_bowel"),
    # numbness in the saddle area
    ("my groin is numb", "saddle_numbness"),
    ("numbness in my inner thighs and between my legs", "saddle_numbness"),
    ("I have no feeling in my butt and private parts", "saddle_numbness"),
    ("numbnes around my groin since yesterday", "saddle_numbness"),
    ("i cant feel anything down there", "saddle_numbness"),
    ("tengo la entrepierna dormida", "saddle_numbness"),
    ("siento entumecida la zona genital", "saddle_numbness"),
    ("adormecimiento en las ingles y los muslos", "saddle_numbness"),
    # sudden weakness or paralysis
    ("I can't move my legs", "sudden_weakness"),
    ("my legs just gave out and I fell to the floor", "sudden_weakness"),
    ("i cant feel my legs", "sudden_weakness"),
    ("I think I'm paralized from the waist down", "sudden_weakness"),
    ("suddenly my arm went weak and I couldn't lift it", "sudden_weakness"),
    ("I can't walk since this morning", "sudden_weakness"),
    ("no puedo mover las piernas", "sudden_weakness"),
    ("se me doblaron las piernas y no me sostienen", "sudden_weakness"),
    ("no siento las piernas", "sudden_weakness"),
    ("estoy paralizado de la cintura para abajo", "sudden_weakness"),
    # chest pain / breathing
    ("I have chest pain and my upper back hurts", "chest_breathing"),
    ("it's hard to breathe", "chest_breathing"),
    ("I'm short of breath when I walk", "chest_breathing"),
    ("pain in my chest that goes to my back", "chest_breathing"),
    ("am i having a heart atack", "chest_breathing"),
    ("chest pian since this morning", "chest_breathing"),
    ("tightness in my chest, can't catch my breath", "chest_breathing"),
    ("tengo dolor en el pecho y me falta el aire", "chest_breathing"),
    ("me duele el pecho", "chest_breathing"),
    ("no puedo respirar bien", "chest_breathing"),
    ("creo que me esta dando un infarto", "chest_breathing"),
    # trauma
    ("I fell down the stairs and now my back hurts", "trauma"),
    ("back pain after a car accident yesterday", "trauma"),
    ("I was rear ended on the highway", "trauma"),
    ("fell off a ladder at work", "trauma"),
    ("my mom fell and hit her head", "trauma"),
    ("I had a bad fall on the ice", "trauma"),
    ("i was in a crash last week", "trauma"),
    ("tuve un accidente de coche", "trauma"),
    ("me caí por las escaleras", "trauma"),
    ("me cai de la bici ayer", "trauma"),
    ("me atropelló un carro", "trauma"),
    # fever
    # stroke and thunderclap headache
    ("my face is drooping on one side", "stroke"),
    ("his speech is slurred and his arm is weak", "stroke"),
    ("se me durmió la mitad del cuerpo", "stroke"),
    ("I think I'm having a stroke", "stroke"),
    ("worst headache of my life came on suddenly", "headache"),
    ("never had a headache like this before", "headache"),
    ("el peor dolor de cabeza de mi vida", "headache"),
    ("I have a fever and back pain", "fever"),
    ("my back hurts and i have a fevr", "fever"),
    ("running a high temperature with back pain", "fever"),
    ("tengo fiebre y me duele la espalda", "fever"),
    ("fiebre y escalofríos desde anoche", "fever"),
    # self-harm
    ("the pain is so bad I want to kill myself", "self_harm"),
    ("i have been thinking about suicide", "self_harm"),
    ("sometimes I feel like I want to die", "self_harm"),
    ("i just want to end it all", "self_harm"),
    ("I'd be better off dead", "self_harm"),
    ("thinking of sucide", "self_harm"),
    ("quiero morirme", "self_harm"),
    ("he pensado en quitarme la vida", "self_harm"),
    ("a veces pienso en suicidarme", "self_harm"),
    ("ya no quiero vivir con este dolor", "self_harm"),
    ("no quiero seguir viviendo", "self_harm"),
    ("could this be a stroke? my arm went weak", "stroke"),
    ("me quiero morir, ya no aguanto", "self_harm"),
]

NEGATIVES = [
    "does heat help my back",
    "what is nerve compression",
    "tingling in my arm",
    "I get muscle spasms in my upper back",
    "numbness and tingling in my hands",
    "I had a minor injury at the gym",
    "I can't fall asleep because of the pain",
    "it started in the fall",
    "I hurt my back moving a chest of drawers",
    "what exercises strengthen the upper back",
    "can I get a cortisone shot",
    "how do I request an MRI review",
    "what are your phone hours",
    "what is a herniated disc",
    "do bone spurs cause pain",
    "is laser spine surgery minimally invasive",
    "am I a candidate for surgery",
    "hello",
    "thanks, bye",
    "can I talk to a person",
    "does the pain radiate down my arm because of a nerve",
    "I hurt myself lifting boxes last week",
    "this pain is killing me, what can I do",
    "no fever, no accident, just a constant ache",
    "I've never had a fall or an injury",
    "my legs are fine but my upper back aches",
    "can I take a hot bath for muscle pain",
    "que es la compresion de un nervio",
    "el calor ayuda con el dolor de espalda",
    "tengo hormigueo en el brazo",
    "tengo espasmos musculares",
    "no tengo fiebre",
    "quiero cortarme el pelo antes de la cita",
    "se me cayó el celular y me agaché a recogerlo",
    "hace un año que tengo hormigueo en la espalda",
    "¿hay servicio en español?",
    "quiero hablar con una persona",
    "what happens at a medical seminar",
    "I read the patient reviews",
    "should I rest or stay active",
    "I work in a temperature-controlled office",
    "does a pianist get back pain",
    "can't wait for my appointment",
    "my arm feels weak after work",
    # figures of speech that name a stroke or dying
    "my golf stroke has been off since my upper back started aching",
    "quiero morirme de la vergüenza, se me olvidó su nombre",
    "I could die of embarrassment, I forgot her name",
]


@pytest.mark.parametrize(("text", "category"), POSITIVES)
def test_emergency_is_spotted_with_its_category(text: str, category: str) -> None:
    flag = detect(text)
    assert flag is not None, text
    assert flag.category == category, (text, flag)
    assert flag.phrase and flag.phrase in normalize(text)


@pytest.mark.parametrize("text", NEGATIVES)
def test_ordinary_question_is_not_an_emergency(text: str) -> None:
    assert detect(text) is None, (text, detect(text))


def test_there_are_enough_cases_for_every_category() -> None:
    assert len(POSITIVES) >= 40 and len(NEGATIVES) >= 30
    assert {category for _, category in POSITIVES} == set(CATEGORIES)


def test_phrase_is_the_visitors_own_words() -> None:
    flag = detect("hello, does heat help? since today I cant controll my bladdr, thanks")
    assert flag == RedFlag("bladder_bowel", "cant controll my bladdr")


def test_first_category_by_priority_wins() -> None:
    flag = detect("I fell off a ladder and now I want to kill myself")
    assert flag is not None and flag.category == "self_harm"


@pytest.mark.parametrize("junk", ["", "   ", "\x00\x01", "🙂🙂🙂", "?!?!", "ñ" * 50, "a" * 10_000, None, 42, b"bytes"])
def test_junk_input_is_quietly_ignored(junk: object) -> None:
    assert detect(junk) is None  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gives_none_or_a_flag_with_a_known_category(text: str) -> None:
    flag = detect(text)
    assert flag is None or (flag.category in CATEGORIES and flag.phrase)


def test_huge_input_is_bounded() -> None:
    huge = "my back hurts and I wonder why " * 200_000 + "I can't feel my legs"
    assert detect(huge) is None  # beyond the scanned prefix: the protocol never sends this much
    assert detect("I can't feel my legs " + huge) == RedFlag("sudden_weakness", "can t feel my legs")


@pytest.mark.parametrize("category", CATEGORIES)
def test_emergency_message_in_english(category: str) -> None:
    text = emergency_message("en", RedFlag(category, "x"))
    assert "911" in text and "112" in text and "emergency room" in text
    assert "team" in text
    assert ("988" in text) == (category == "self_harm")


@pytest.mark.parametrize("category", CATEGORIES)
def test_emergency_message_in_spanish(category: str) -> None:
    text = emergency_message("es", RedFlag(category, "x"))
    assert "llame al 911" in text.lower() and "emergencias" in text
    assert "equipo" in text
    assert ("988" in text) == (category == "self_harm")


def test_emergency_message_falls_back_to_english() -> None:
    assert emergency_message("fr", RedFlag("fever", "fever")) == emergency_message("en", RedFlag("fever", "fever"))


def test_acceptance_set_agrees_on_what_is_urgent() -> None:
    """The paraphrase set was written independently: its urgent questions flag, and nothing else does."""
    cases = yaml.safe_load((Path(__file__).parent / "data" / "paraphrases.yaml").read_text(encoding="utf-8"))
    wrong = [case["text"] for case in cases if (detect(case["text"]) is not None) != (case["expect"] == "urgent")]
    assert wrong == []
