"""Drafted intents nobody edited, against the hand-written ones, on the understanding development set.

    python bench/drafts.py [--content content] [--json]

Drafts intents from the content snapshot (``chatbot.content.draft``, exactly as
``chatbot intents draft`` writes them, not edited), adds the five intents about
the bot itself (greeting, thanks, bot identity, a person, out of scope: they
are not taken from content, ``source: none``), and builds the bot from that
folder as the server does; once more with the synonyms of the shipped intents
(the understanding work's vocabulary) whose terms the drafts' examples use;
then the same for the shipped ``intents/``. Both
answer the development set's messages that expect an answer
(``tests/data/understanding/en_answer.yaml`` and the answer items of
``es.yaml``) and the paraphrase set (``tests/data/paraphrases.yaml``).

A drafted intent has no hand-written id, so ``ANSWERS`` says which
hand-written intents each draft answers: those whose answer its own text
gives (the page section or bullet it was drafted from). A reply is right when
the bot answers (no handoff) with the expected intent, or with a draft that
answers it. Hand-written intents no draft answers (the page's sections for
them are too short: MRI review, surgery candidate, Spanish) count as misses
for the drafts. Exit status 0 always: this measures, it does not gate.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chatbot.bot.answers import Bot  # noqa: E402
from chatbot.bot.intents import load_intents  # noqa: E402
from chatbot.content import draft, snapshot  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ABOUT_THE_BOT = ("greeting", "thanks_goodbye", "bot_identity", "human_agent", "out_of_scope")
ANSWERS: dict[str, set[str]] = {
    "heat": {"heat_therapy"},
    "rest": {"rest"},
    "cortisone_injections": {"cortisone_injections"},
    "anti_inflammatory_medication": {"medication"},
    "targeted_exercise": {"exercise"},
    "conservative_treatment": {"conservative_treatment"},
    "muscle_innervation": {"nerve_compression", "bone_spurs", "herniated_disc", "spinal_degeneration",
                           "radiating_pain"},
    "upper_back_muscle_pain": {"upper_back_pain_overview", "pain_causes", "tingling_spasms"},
    "progressive_treatment": {"when_conservative_fails", "minimally_invasive_procedures"},
    "patient_reviews_and_stories": {"patient_stories"},
    "back_to_health": {"patient_stories"},
    "meet_our_physicians_and_surgeons": {"physicians_centers"},
    "what_is_laser_spine_surgery_can_laser_sp": {"seminars"},
    "download_your_info_packet": {"info_packet"},
    "contact_us_by_phone": {"phone_hours"},
    "need_an_immediate_response": {"phone_hours"},
}
SETS = {
    "development (en)": ROOT / "tests/data/understanding/en_answer.yaml",
    "development (es)": ROOT / "tests/data/understanding/es.yaml",
    "paraphrases": ROOT / "tests/data/paraphrases.yaml",
}


def questions(path: Path) -> list[tuple[str, str, frozenset[str]]]:
    """(text, language, expected intents) of the messages that expect an answer (a message asking two things
    expects either)."""
    found = []
    for item in yaml.safe_load(path.read_text(encoding="utf-8")):
        intent = item.get("intent") or item.get("expect")
        expected = frozenset(intent if isinstance(intent, list) else [intent])
        if item.get("expect") in ("answer", intent) and not expected & {"handoff", "urgent", None}:
            found.append((item["text"], item["lang"], expected))
    return found


def drafted_folder(content: Path, into: Path, synonyms: bool) -> Path:
    """The drafts, unedited (with the shipped intents' synonyms whose terms they use, or none), plus the shipped
    intents about the bot itself."""
    vocabulary = draft.vocabulary(load_intents(ROOT / "intents")) if synonyms else {}
    draft.write(sorted(snapshot.load(content).values(), key=lambda p: p.url), into, [], vocabulary)
    for name in ABOUT_THE_BOT:
        shutil.copy(ROOT / "intents" / f"{name}.yaml", into / f"{name}.yaml")
    return into


def score(bot: Bot, asked: list[tuple[str, str, frozenset[str]]], drafted: bool) -> dict[str, float]:
    """Share answered with the right intent, and share answered with a wrong one."""
    right = wrong = 0
    for text, lang, expected in asked:
        reply = bot.reply(text, lang)
        if reply.handoff_reason is not None or reply.intent is None:
            continue
        meant = ANSWERS.get(reply.intent, {reply.intent}) if drafted else {reply.intent}
        right += bool(expected & meant)
        wrong += not expected & meant
    return {"right": right / len(asked), "wrong": wrong / len(asked), "n": len(asked)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--content", type=Path, default=ROOT / "content")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    bots = {"hand-written": Bot(load_intents(ROOT / "intents"))}
    for name, synonyms in (("drafted", False), ("drafted + synonyms", True)):
        with tempfile.TemporaryDirectory() as scratch:
            bots[name] = Bot(load_intents(drafted_folder(args.content, Path(scratch), synonyms)))
    results = {name: {label: score(bot, questions(path), name != "hand-written") for label, path in SETS.items()}
               for name, bot in bots.items()}
    if args.json:
        print(json.dumps(results))
        return 0
    print(f"{'set':<18} {'n':>4}  " + "  ".join(f"{name + ' right/wrong (÷ hand)':>40}" for name in results))
    for label in SETS:
        hand = results["hand-written"][label]
        cells = [f"{r[label]['right']:>6.1%} / {r[label]['wrong']:>5.1%} ({r[label]['right'] / hand['right']:>4.0%})"
                 for r in results.values()]
        print(f"{label:<18} {hand['n']:>4.0f}  " + "  ".join(f"{cell:>40}" for cell in cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
