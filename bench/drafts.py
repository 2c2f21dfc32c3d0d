"""Drafted intents nobody edited, against the hand-written ones, on the understanding development set.

    python bench/drafts.py [--content content] [--json] [--sets development paraphrases "held out"]

Drafts intents from the content snapshot (``chatbot.content.draft``, exactly as
``chatbot intents draft`` writes them, not edited), adds the five intents about
the bot itself (greeting, thanks, bot identity, a person, out of scope: they
are not taken from content, ``source: none``), and builds the bot from that
folder as the server does; once more with the synonyms of the shipped intents
(the understanding work's vocabulary) whose terms the drafts' examples use;
then the same for the shipped ``intents/``. Both
answer the development set's messages that expect an answer
(``tests/data/understanding/en_answer.yaml`` and the answer items of
``es.yaml``), the paraphrase set (``tests/data/paraphrases.yaml``) and the
held-out set's (``heldout.yaml``: reported, never tuned on); and the share of
the messages a person must answer (``expect: handoff``) each bot answers
itself is reported too.

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
UNDERSTANDING = ROOT / "tests/data/understanding"
SETS: dict[str, tuple[list[Path], str | None]] = {
    "development (en)": ([UNDERSTANDING / "en_answer.yaml"], "en"),
    "development (es)": ([UNDERSTANDING / "es.yaml"], "es"),
    "paraphrases": ([ROOT / "tests/data/paraphrases.yaml"], None),
    "held out (en)": ([UNDERSTANDING / "heldout.yaml"], "en"),
    "held out (es)": ([UNDERSTANDING / "heldout.yaml"], "es"),
}
"""Label: the files and the language of their messages (None: both). The held-out set is reported, never tuned on."""
HANDOFF_SETS: dict[str, list[Path]] = {
    "development": [UNDERSTANDING / "en_handoff.yaml", UNDERSTANDING / "es.yaml"],
    "held out": [UNDERSTANDING / "heldout.yaml"],
}
"""Messages a person must answer (expect: handoff): the share a bot answers instead is reported too."""


def questions(paths: list[Path], lang: str | None) -> list[tuple[str, str, frozenset[str]]]:
    """(text, language, expected intents) of the messages that expect an answer (a message asking two things
    expects either), in ``lang`` (None: all)."""
    found = []
    for path in paths:
        for item in yaml.safe_load(path.read_text(encoding="utf-8")):
            intent = item.get("intent") or item.get("expect")
            expected = frozenset(intent if isinstance(intent, list) else [intent])
            if item.get("expect") in ("answer", intent) and not expected & {"handoff", "urgent", None} \
                    and lang in (None, item["lang"]):
                found.append((item["text"], item["lang"], expected))
    return found


def handoffs(paths: list[Path]) -> list[tuple[str, str]]:
    """(text, language) of the messages that must go to a person (``expect: handoff``)."""
    return [(item["text"], item["lang"]) for path in paths
            for item in yaml.safe_load(path.read_text(encoding="utf-8")) if item.get("expect") == "handoff"]


def drafted_folder(content: Path, into: Path, synonyms: bool) -> Path:
    """The drafts, unedited (with the shipped intents' synonyms whose terms they use, or none), plus the shipped
    intents about the bot itself."""
    vocabulary = draft.vocabulary(load_intents(ROOT / "intents")) if synonyms else {}
    for name in ABOUT_THE_BOT:
        shutil.copy(ROOT / "intents" / f"{name}.yaml", into / f"{name}.yaml")
    live = load_intents(into)  # as `chatbot intents draft` sees them: no draft reuses their examples
    draft.write(sorted(snapshot.load(content).values(), key=lambda p: p.url), into, live, vocabulary)
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


def answered(bot: Bot, asked: list[tuple[str, str]]) -> dict[str, float]:
    """Share of the messages a person must answer that the bot answered itself."""
    said = sum(1 for text, lang in asked if bot.reply(text, lang).handoff_reason is None)
    return {"answered": said / len(asked), "n": len(asked)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--content", type=Path, default=ROOT / "content")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--sets", nargs="+", choices=("development", "paraphrases", "held out"),
                        default=["development", "paraphrases", "held out"], help="which sets to ask (default: all)")
    args = parser.parse_args()
    bots = {"hand-written": Bot(load_intents(ROOT / "intents"))}
    for name, synonyms in (("drafted", False), ("drafted + synonyms", True)):
        with tempfile.TemporaryDirectory() as scratch:
            bots[name] = Bot(load_intents(drafted_folder(args.content, Path(scratch), synonyms)))
    asked = {label: where for label, where in SETS.items() if label.split(" (")[0] in args.sets}
    results = {name: {label: score(bot, questions(*where), name != "hand-written") for label, where in asked.items()}
               for name, bot in bots.items()}
    for scores in results.values():  # both languages of the development set together, weighted by their sizes
        if "development" in args.sets:
            en, es = scores["development (en)"], scores["development (es)"]
            scores["development (all)"] = {key: (en[key] * en["n"] + es[key] * es["n"]) / (en["n"] + es["n"])
                                           for key in ("right", "wrong")} | {"n": en["n"] + es["n"]}
    wrongly = {name: {label: answered(bot, handoffs(paths)) for label, paths in HANDOFF_SETS.items()
                      if label in args.sets} for name, bot in bots.items()}
    if args.json:
        print(json.dumps({"answer": results, "handoff": wrongly}))
        return 0
    print(f"{'set':<18} {'n':>4}  " + "  ".join(f"{name + ' right/wrong (÷ hand)':>40}" for name in results))
    for label in results["hand-written"]:
        hand = results["hand-written"][label]
        cells = [f"{r[label]['right']:>6.1%} / {r[label]['wrong']:>5.1%} ({r[label]['right'] / hand['right']:>4.0%})"
                 for r in results.values()]
        print(f"{label:<18} {hand['n']:>4.0f}  " + "  ".join(f"{cell:>40}" for cell in cells))
    print("\nanswered, of the messages a person must answer (expect: handoff; lower is better)")
    for label in wrongly["hand-written"]:
        row = [f"{w[label]['answered']:>40.1%}" for w in wrongly.values()]
        print(f"{label:<18} {wrongly['hand-written'][label]['n']:>4.0f}  " + "  ".join(row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
