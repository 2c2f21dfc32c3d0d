"""Splitting a message into the sentences and clauses that ask something.

Why: visitors tell a story before the question ("I've had this ache for weeks
after moving house... does heat help?"), greet first, or ask two things at
once. Matching the whole message lets the story decide; matching the question
lets the question decide. Red flags are looked for in every unit, question or not.
"""

from __future__ import annotations

import re

MAX_UNITS = 24
"""A 2,000-character message has at most about this many sentences; the rest are not scanned separately."""
LONG_SENTENCE_WORDS = 12
"""Sentences longer than this are also scanned clause by clause (a red flag after a comma, "and", "but")."""

_SENTENCE = re.compile(r"[¿¡]?[^.!?;\n¿¡]+[.!?;]*", re.UNICODE)
_QUESTION_WORDS = (
    r"what|whats|how|hows|when|where|why|who|whom|which|can|could|do|does|did|is|are|was|should|would|will|"
    r"may|might|am|any|anything|que|qué|como|cómo|cuando|cuándo|donde|dónde|por que|por qué|porque|quien|quién|"
    r"cual|cuál|cuanto|cuánto|cuanta|cuánta|puedo|puede|pueden|podria|podría|se puede|hay|es|son|debo|deberia|"
    r"debería|tienen|tiene|necesito|sirve|ayuda|ayudan"
)
_LEADING = re.compile(
    rf"^\W*(?:(?:and|also|so|ok|okay|well|but|oh|y|entonces|pues|bueno|pero|tambien|también)\s+)?(?:{_QUESTION_WORDS})\b",
    re.IGNORECASE,
)
"""A question word first: a question even without its mark ("hay citas esta semana"), unless a full stop ends it."""
_ASKING = re.compile(
    r"\b(?:(?:want|wants|wanted|would like|d like|need|needs) to know|i was wondering|wondering|tell me|let me know|"
    r"(?:i have|i've got|quick|one more|another) question|question for you|"
    r"quer[ií]a (?:saber|preguntar)|tengo una (?:pregunta|duda|consulta)|una (?:pregunta|duda|consulta)|"
    r"explain|info on|information (?:on|about)|any (?:advice|tips|info)|i need (?:help|info|information)|"
    r"quiero saber|quiere saber|quieren saber|quisiera saber|me gustaria saber|me gustaría saber|necesito saber|"
    r"explique|expliqueme|"
    r"expl[ií]quenme|d[ií]game|digame|informaci[oó]n sobre|info sobre)\b",
    re.IGNORECASE,
)
_CLAUSE = re.compile(r",|\s(?:and|but|then|so|y|pero|luego|entonces)\s", re.IGNORECASE)
_SECOND_QUESTION = re.compile(
    rf"\s(?:and|also|plus|and also|y|y también|y tambien|además|ademas)\s+(?=(?:{_QUESTION_WORDS})\b)",
    re.IGNORECASE,
)


_GREETING = re.compile(
    r"^\W*(?:hi|hello|hey|hiya|howdy|good (?:morning|afternoon|evening)|greetings|hola+|buenas(?: tardes| noches)?|"
    r"buenos d[ií]as|saludos|qu[eé] tal)\b(?:\W+(?:there|team|all|everyone|folks|guys|y'?all|buenas|qu[eé] tal|"
    r"c[oó]mo est[aá]n?))*\W*",
    re.IGNORECASE,
)


def without_greeting(unit: str) -> str:
    """``unit`` less a greeting it opens with ("hola buenas, quería saber si..."), when something is left to ask."""
    rest = _GREETING.sub("", unit, count=1)
    return rest if len(rest.split()) >= 2 else unit


def sentences(text: str) -> list[str]:
    """The message's sentences, in order, with their punctuation; at most ``MAX_UNITS``."""
    found = [match.group().strip() for match in _SENTENCE.finditer(text)]
    return [sentence for sentence in found if any(ch.isalnum() for ch in sentence)][:MAX_UNITS]


def asks(sentence: str) -> bool:
    """True when the sentence reads as a question or a request for information."""
    stripped = sentence.strip()
    if stripped.endswith("?") or stripped.startswith("¿") or _ASKING.search(stripped):
        return True
    return bool(_LEADING.search(stripped)) and not stripped.endswith(".")


def questions(text: str) -> list[str]:
    """The units that ask something: question sentences, each split where a second question starts.

    Empty when no sentence reads as a question (the caller then matches the whole message).
    """
    found: list[str] = []
    for sentence in sentences(text):
        asked = without_greeting(sentence)
        if asks(asked):
            found += [part.strip() for part in _SECOND_QUESTION.split(asked) if part.strip()]
    return found[:MAX_UNITS]


def scan_units(text: str) -> list[str]:
    """Every sentence, plus the clauses of long ones: what red flags and requests are looked for in."""
    units: list[str] = []
    for sentence in sentences(text):
        units.append(sentence)
        if len(sentence.split()) > LONG_SENTENCE_WORDS:
            units += [clause.strip() for clause in _CLAUSE.split(sentence) if len(clause.split()) >= 2]
    return units[: 2 * MAX_UNITS]


# -- denials: "no chest pain, just a sore back" ------------------------------------------------------

_CLAUSE_BREAK = re.compile(r"[,;:.!?¿¡\n]|\s(?:but|just|only|except|although|though|however|pero|solo|sólo|sino|aunque|"
                    r"excepto|salvo)\s", re.IGNORECASE)
_DENIAL = re.compile(
    r"^\W*(?:(?:and|also|y|o|or)\s+)?(?:no|not|never|nothing|without|zero|nor|neither|"
    r"i\s*(?:'?m|am) not|(?:i\s*)?(?:do|did|have|has)\s*(?:n'?t|not)|(?:i\s*)?(?:don|didn|haven|hasn)'?t|i\s+never|"
    r"there\s*(?:'s| is| are) no|sin|ni|nunca|tampoco|nada de)\b",
    re.IGNORECASE,
)
_SURE_DENIAL = re.compile(
    r"^\W*(?:(?:and|also|y)\s+)?(?:no loss of|without (?:any )?loss of|"
    r"(?:i\s*(?:'?ve|have)\s+|i\s+)?never (?:lost|had)|"
    r"(?:i\s*)?haven'?t (?:lost|had)|sin p[eé]rdida de|nunca (?:he|hemos) perdido|no he perdido)\b",
    re.IGNORECASE,
)
_NEVER_LIKE_THIS = re.compile(r"\blike (?:this|that|it)\b|\bcomo (?:este|esta|esto|ese)\b|\bas[ií]\b", re.IGNORECASE)
""""Never had a headache like this": not a denial but the first time, for a sure denial's "never had" too."""
_LOST_ABILITY = re.compile(
    r"\b(?:can'?t|cannot|can not|unable|able|could ?n'?t|could not|won'?t|feel|feeling|move|moving|control|hold|walk|"
    r"stand|well|properly|pee|urinate|stop|want|wanna|wish|live|living|point|reason|wake|work|working|respond\w*|"
    r"like this|like that|before|salen|sale|funciona\w*|responde\w*|asi|así|como este|antes|"
    r"puedo|pude|puede|consigo|logro|incapaz|siento|sentir|mover|controlo|controlar|aguant\w*|camin\w*|respir\w*|"
    r"orin\w*|par[ao]|quiero|ganas|vivir|sentido|despertar)\b",
    re.IGNORECASE,
)


def clauses(text: str) -> list[str]:
    """``text`` cut at punctuation and at contrast words (but, just, pero, solo...): what one denial covers."""
    return _CLAUSE_BREAK.split(text)


def denies(clause: str) -> bool:
    """True when the clause denies a symptom ("no fever", "I don't have any numbness", "sin fiebre").

    A clause that names a lost ability is never a denial, whatever its first word:
    "no puedo caminar", "I can't feel my legs", "no me salen las palabras",
    "never had a headache like this", "I don't want to live".
    """
    if _SURE_DENIAL.search(clause):
        return not _NEVER_LIKE_THIS.search(clause)
    return bool(_DENIAL.search(clause)) and not _LOST_ABILITY.search(clause)
