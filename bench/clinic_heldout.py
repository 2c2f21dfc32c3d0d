"""The shipped intents on questions they were not written from: does what CLINC150 measures carry over?

    python bench/clinic_heldout.py [--intents intents] [--threshold T] [--json]

Builds the bot exactly as the server does (``chatbot.bot.answers.Bot`` from the intent
folder, including the ``out_of_scope`` negatives, at the matcher's default
threshold unless ``--threshold``), then asks it 40 paraphrased clinic
questions that are in no intent file and 30 out-of-scope ones. A clinic
question is right when the bot answers with its intent; an out-of-scope one
when the bot hands off for low confidence. No server or database is needed.
Exit status 0 always: this measures, it does not gate.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chatbot.bot.answers import Bot  # noqa: E402
from chatbot.bot.intents import load_intents  # noqa: E402

CLINIC: tuple[tuple[str, str, str], ...] = (  # (text, language, intent)
    ("good evening, is someone available?", "en", "greeting"),
    ("that answers it, thanks so much, have a good day", "en", "thanks_goodbye"),
    ("is this an automated chat or a real person", "en", "bot_identity"),
    ("please put me through to somebody on your staff", "en", "human_agent"),
    ("what exactly counts as muscle pain in the upper back", "en", "upper_back_pain_overview"),
    ("why would the muscles between my shoulders hurt so much", "en", "pain_causes"),
    ("what can cause a pinched nerve in the spine", "en", "nerve_compression"),
    ("why do I feel the pain in my arm when the problem is in my back", "en", "radiating_pain"),
    ("could a slipped disc be behind my symptoms", "en", "herniated_disc"),
    ("can bony growths on the vertebrae cause nerve pain", "en", "bone_spurs"),
    ("is my spine wearing out with age, what does degeneration mean", "en", "spinal_degeneration"),
    ("my upper back keeps twitching and tingling, what does that mean", "en", "tingling_spasms"),
    ("what can I try before going for an operation", "en", "conservative_treatment"),
    ("would an injection of cortisone help my back", "en", "cortisone_injections"),
    ("which stretches should I do for my upper back", "en", "exercise"),
    ("should I put a hot pack on my sore back", "en", "heat_therapy"),
    ("is it ok to take ibuprofen for the pain", "en", "medication"),
    ("is it better to stay in bed for a few days", "en", "rest"),
    ("I've tried everything for half a year and it still hurts", "en", "when_conservative_fails"),
    ("how does your laser spine procedure work", "en", "minimally_invasive_procedures"),
    ("how would I know if I need an operation", "en", "surgery_candidate"),
    ("where do I send my MRI so your doctors can look at it", "en", "mri_review"),
    ("can I get a free brochure about your treatments", "en", "info_packet"),
    ("are there any upcoming seminars near me", "en", "seminars"),
    ("what do other patients say about you", "en", "patient_stories"),
    ("tell me about the doctors at your centers", "en", "physicians_centers"),
    ("what number can I call you on", "en", "phone_hours"),
    ("can we do this chat in spanish", "en", "spanish_available"),
    ("what makes the upper back hurt in the first place", "en", "pain_causes"),
    ("is there a way to treat this without surgery", "en", "conservative_treatment"),
    ("buenas tardes, ¿hay alguien ahí?", "es", "greeting"),
    ("muchas gracias por la información, adiós", "es", "thanks_goodbye"),
    ("¿me pueden pasar con alguien del equipo?", "es", "human_agent"),
    ("¿qué causa el dolor muscular en la parte alta de la espalda?", "es", "pain_causes"),
    ("¿mi dolor puede venir de un disco herniado?", "es", "herniated_disc"),
    ("¿sirve aplicar calor en la espalda?", "es", "heat_therapy"),
    ("¿qué ejercicios me recomiendan para la espalda?", "es", "exercise"),
    ("¿cuál es el número de teléfono?", "es", "phone_hours"),
    ("¿cómo solicito la revisión de mi resonancia?", "es", "mri_review"),
    ("¿soy candidato para una cirugía?", "es", "surgery_candidate"),
)

OUT_OF_SCOPE: tuple[tuple[str, str], ...] = (  # (text, language): the bot must hand off
    ("can you recommend a good italian restaurant", "en"),
    ("how do I renew my passport", "en"),
    ("what's the score of the baseball game", "en"),
    ("my car won't start this morning", "en"),
    ("wake me up at six tomorrow", "en"),
    ("how many ounces are in a cup", "en"),
    ("who wrote pride and prejudice", "en"),
    ("what's the exchange rate for euros", "en"),
    ("can you order me a pizza", "en"),
    ("is it going to snow this weekend", "en"),
    ("how do I cancel my netflix subscription", "en"),
    ("what's the best laptop for students", "en"),
    ("my cat keeps throwing up", "en"),
    ("what is the longest river in africa", "en"),
    ("do you sell gift cards", "en"),
    ("what's the wifi password", "en"),
    ("help me write a cover letter", "en"),
    ("how long should I boil an egg", "en"),
    ("which bank has the best savings rate", "en"),
    ("what movies are playing tonight", "en"),
    ("can you fix my leaking faucet", "en"),
    ("when is the next full moon", "en"),
    ("how do I get to the airport", "en"),
    ("what's a synonym for happy", "en"),
    ("¿cuál es la receta de la paella?", "es"),
    ("¿a qué hora empieza el partido de fútbol?", "es"),
    ("quiero comprar un teléfono nuevo", "es"),
    ("¿va a llover mañana?", "es"),
    ("¿cómo cambio la contraseña de mi correo?", "es"),
    ("¿qué serie me recomiendas ver?", "es"),
)


def run(bot: Bot) -> dict:
    """Ask every question; the misses are listed so a regression can be read off the output."""
    misses = []
    right = 0
    for text, lang, intent in CLINIC:
        reply = bot.reply(text, lang)
        if reply.intent == intent:
            right += 1
        else:
            misses.append({"text": text, "expect": intent, "got": reply.intent or reply.handoff_reason,
                           "confidence": reply.confidence})
    handed = 0
    for text, lang in OUT_OF_SCOPE:
        reply = bot.reply(text, lang)
        # Any handoff to a person counts: "can you order me a pizza" read as a purchase (pricing) is still no
        # wrong answer. An urgent one would be a false alarm, and is a miss.
        if reply.handoff_reason is not None and reply.handoff_reason != "urgent" and reply.intent is None:
            handed += 1
        else:
            misses.append({"text": text, "expect": "handoff", "got": reply.intent or reply.handoff_reason,
                           "confidence": reply.confidence})
    return {"threshold": bot.threshold, "clinic_right": right, "clinic_total": len(CLINIC),
            "oos_handed_off": handed, "oos_total": len(OUT_OF_SCOPE), "misses": misses}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--intents", default=str(Path(__file__).resolve().parents[1] / "intents"))
    parser.add_argument("--threshold", type=float, help="handoff threshold (default: the matcher's)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    result = run(Bot(load_intents(args.intents), threshold=args.threshold))
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"threshold {result['threshold']:.3f}: clinic questions answered right "
          f"{result['clinic_right']}/{result['clinic_total']}, out-of-scope handed off "
          f"{result['oos_handed_off']}/{result['oos_total']}")
    for miss in result["misses"]:
        print(f"  miss: {miss['text']!r}: expected {miss['expect']}, got {miss['got']} ({miss['confidence']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
