"""The system messages a visitor sees, in English and Spanish.

Plain words, no promises the clinic's page does not make: it offers a phone
line "seven days a week" and a live chat, so that is what we point to.

Tested in tests/test_visitor_chat.py, tests/test_agents.py.
"""

from __future__ import annotations

from datetime import datetime

_TEXTS: dict[str, dict[str, str]] = {
    "queued": {
        "en": "A representative will join you shortly. You are number {position} in line; {online} online right now.",
        "es": (
            "Un representante le atenderá en breve. Usted es el número {position} en la fila; {online} en línea ahora."
        ),
    },
    "no_agents": {
        "en": (
            "No representative is online right now. You can call us at the toll-free number at the top of this "
            "page: we're here for you seven days a week. Or leave your name and an email or phone number here and "
            "we'll get back to you. You keep your place in line meanwhile."
        ),
        "es": (
            "No hay ningún representante en línea en este momento. Puede llamarnos al número gratuito que aparece "
            "arriba en esta página: estamos para ayudarle los siete días de la semana. O deje aquí su nombre y un "
            "correo electrónico o teléfono y le contactaremos. Mientras tanto, conserva su lugar en la fila."
        ),
    },
    "agent_joined": {"en": "{name} has joined the conversation.", "es": "{name} se ha unido a la conversación."},
    "released": {
        "en": "{name} has stepped away; you are back in line for the next representative.",
        "es": "{name} se ha retirado; vuelve a estar en la fila para el siguiente representante.",
    },
    "closed_by_visitor": {"en": "The visitor closed this conversation.", "es": "El visitante cerró esta conversación."},
    "closed_by_agent": {"en": "{name} closed this conversation.", "es": "{name} cerró esta conversación."},
    "idle": {
        "en": "This conversation was closed after a period without messages.",
        "es": "Esta conversación se cerró tras un periodo sin mensajes.",
    },
    "after_hours": {
        "en": (
            "Our representatives are away right now{back}. For help now, call the toll-free number at the top of "
            "this page: we're here for you seven days a week. Or leave your name and an email or phone number here "
            "and we'll get back to you. Meanwhile I can still answer your questions."
        ),
        "es": (
            "Nuestros representantes no están disponibles en este momento{back}. Si necesita ayuda ahora, llame al "
            "número gratuito que aparece arriba en esta página: estamos para ayudarle los siete días de la semana. "
            "O deje aquí su nombre y un correo electrónico o teléfono y le contactaremos. Mientras tanto, puedo "
            "seguir respondiendo sus preguntas."
        ),
    },
    "back_at": {"en": "; they are back {day} at {time} ({zone})", "es": "; vuelven el {day} a las {time} ({zone})"},
    "handback": {
        "en": "You're chatting with our assistant again. Ask for a person any time.",
        "es": "Vuelve a hablar con nuestro asistente. Puede pedir hablar con una persona cuando quiera.",
    },
    "contact_saved": {
        "en": "Thank you, {name}. We have your contact details and will get back to you.",
        "es": "Gracias, {name}. Tenemos sus datos de contacto y le responderemos.",
    },
}


def notice(key: str, lang: str, **values: object) -> str:
    """The ``key`` notice in ``lang`` (English when the language is unknown), filled with ``values``."""
    variants = _TEXTS[key]
    return variants.get(lang, variants["en"]).format(**values)


def queued(lang: str, position: int | None, online: int) -> str:
    """The handoff notice: the place in line, or, with nobody online, what to do instead."""
    if online == 0:
        return notice("no_agents", lang)
    label = {
        "en": "representative" if online == 1 else "representatives",
        "es": "representante" if online == 1 else "representantes",
    }.get(lang, "representatives")
    return notice("queued", lang, position=position or 1, online=f"{online} {label}")


_DAY_NAMES = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
}


def after_hours(lang: str, back: datetime | None) -> str:
    """The out-of-hours notice, saying when representatives are back if that is known."""
    when = ""
    if back is not None:
        days = _DAY_NAMES.get(lang, _DAY_NAMES["en"])
        when = notice("back_at", lang, day=days[back.weekday()], time=back.strftime("%H:%M"), zone=str(back.tzinfo))
    return notice("after_hours", lang, back=when)
