"""The form files in ``forms/``: load them, check them (``file:line: message``), and check what a visitor submits.

A form is what the clinic's page asks visitors to fill in ("Request an MRI Review: Submit Information", the info
packet with the e-newsletter, a seminar, a call-back), offered in the chat. Admins edit the files by hand, so they
are checked like the intent files: on the YAML node tree, every problem at its line, all at once
(``chatbot.bot.yamlcheck``). A submission is checked against its form field by field, so the visitor hears
what to fix in each field, and nothing is stored until every field is right.

Tested in tests/test_forms.py.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from chatbot.bot.intents import LANGUAGES, SUFFIXES, Intent, IntentError
from chatbot.bot.yamlcheck import (
    NULL,
    FileCheck,
    Pair,
    Problem,
    blank,
    describe,
    keyed,
    required_text,
    top_mapping,
)
from chatbot.shared.shapes import is_email, is_phone, storable

_ID = re.compile(r"[a-z0-9_]+")
TYPES = ("text", "email", "phone", "date", "choice", "checkbox")
TEXT_MAX = 200
"""A text field's length when the file gives no ``max_length``."""
TEXT_LIMIT = 2000
_TOP_KEYS = ("id", "source", "fields", *LANGUAGES)
_LANG_KEYS = ("title", "offer", "consent", "confirmation")
_FIELD_KEYS = ("name", "type", "required", "max_length", "label", "options")
_OPTION_KEYS = ("value", "label")
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_LIMITS = {"email": 254, "phone": 40, "date": 10, "choice": 64}


@dataclass(frozen=True)
class Option:
    value: str
    label: Mapping[str, str]


@dataclass(frozen=True)
class Field:
    """One field: its name in submissions, its type, its label per language."""

    name: str
    type: str
    label: Mapping[str, str]
    required: bool = False
    max_length: int = TEXT_MAX
    options: tuple[Option, ...] = ()

    def json(self, lang: str) -> dict[str, Any]:
        body: dict[str, Any] = {"name": self.name, "type": self.type, "label": self.label[lang],
                                "required": self.required}
        if self.type == "text":
            body["max_length"] = self.max_length
        if self.options:
            body["options"] = [{"value": o.value, "label": o.label[lang]} for o in self.options]
        return body

    def check(self, value: Any) -> tuple[Any, str | None]:
        """The value as stored (text trimmed), or the kind of problem (a key of ``PROBLEMS``)."""
        if self.type == "checkbox":
            if value is None:
                value = False
            if not isinstance(value, bool):
                return None, "bool"
            return value, "tick" if self.required and not value else None
        if value is None or (isinstance(value, str) and not value.strip()):
            return None, "required" if self.required else None
        if not isinstance(value, str):
            return None, "text"
        value = value.strip()
        if len(value) > self.limit:
            return None, "long"
        if not storable(value):
            return None, "unstorable"
        return value, self._shape(value)

    @property
    def limit(self) -> int:
        return self.max_length if self.type == "text" else _LIMITS[self.type]

    def _shape(self, value: str) -> str | None:
        if self.type == "email" and not is_email(value):
            return "email"
        if self.type == "phone" and not is_phone(value):
            return "phone"
        if self.type == "date":
            try:
                date.fromisoformat(value)
            except ValueError:
                return "date"
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                return "date"
        if self.type == "choice" and value not in {o.value for o in self.options}:
            return "choice"
        return None


PROBLEMS: dict[str, dict[str, str]] = {
    "required": {"en": "{label}: this field is required.", "es": "{label}: este campo es obligatorio."},
    "tick": {"en": "{label}: please tick this box.", "es": "{label}: marque esta casilla."},
    "bool": {"en": "{label}: must be true or false.", "es": "{label}: debe ser verdadero o falso."},
    "text": {"en": "{label}: must be text.", "es": "{label}: debe ser texto."},
    "long": {"en": "{label}: at most {limit} characters.", "es": "{label}: {limit} caracteres como máximo."},
    "unstorable": {"en": "{label}: contains characters that cannot be stored.",
                   "es": "{label}: contiene caracteres que no se pueden guardar."},
    "email": {"en": "{label}: enter an email address such as name@example.com.",
              "es": "{label}: escriba un correo electrónico como nombre@ejemplo.com."},
    "phone": {"en": "{label}: enter a phone number (digits, spaces and + ( ) - .).",
              "es": "{label}: escriba un número de teléfono (dígitos, espacios y + ( ) - .)."},
    "date": {"en": "{label}: enter a date as YYYY-MM-DD.", "es": "{label}: escriba una fecha como AAAA-MM-DD."},
    "choice": {"en": "{label}: choose one of the options.", "es": "{label}: elija una de las opciones."},
    "unknown": {"en": "This form has no such field.", "es": "Este formulario no tiene ese campo."},
    "consent": {"en": "Please agree to the consent text to send this form.",
                "es": "Acepte el texto de consentimiento para enviar este formulario."},
    "values": {"en": "The values must be an object of field name: value.",
               "es": "Los valores deben ser un objeto de nombre de campo: valor."},
}
"""What a visitor reads under a field when it is refused, in the conversation's language."""


@dataclass(frozen=True)
class Localized:
    title: str
    offer: str
    """The quick reply that opens the form after an intent's answer ("Would you like us to review your MRI?")."""
    consent: str
    confirmation: str


@dataclass(frozen=True)
class Form:
    id: str
    fields: tuple[Field, ...]
    texts: Mapping[str, Localized]
    path: str
    source: str | None = None

    def json(self, lang: str) -> dict[str, Any]:
        """The ``form`` event: the definition in one language (the conversation's)."""
        texts = self.texts[lang]
        return {"id": self.id, "lang": lang, "title": texts.title, "consent": texts.consent,
                "confirmation": texts.confirmation, "fields": [f.json(lang) for f in self.fields]}

    def check(self, values: Any, consent: Any, lang: str = "en") -> tuple[dict[str, Any], dict[str, str]]:
        """The values to store, and an error per field (``consent`` for the consent) in ``lang``; store only with
        no errors. Fields the form does not have are errors too: nothing slips past the form into a lead."""
        if not isinstance(values, Mapping):
            return {}, {"values": PROBLEMS["values"][lang]}
        known = {f.name: f for f in self.fields}
        errors = {str(name)[:64]: PROBLEMS["unknown"][lang] for name in values if name not in known}
        clean: dict[str, Any] = {}
        for field in self.fields:
            value, problem = field.check(values.get(field.name))
            if problem is not None:
                errors[field.name] = PROBLEMS[problem][lang].format(label=field.label[lang], limit=field.limit)
            elif value is not None:
                clean[field.name] = value
        if consent is not True:
            errors["consent"] = PROBLEMS["consent"][lang]
        return clean, errors


# -- checking a file --------------------------------------------------------------------------------


def _labels(file: FileCheck, node: yaml.Node, where: str) -> dict[str, str] | None:
    """``label: {en: ..., es: ...}``: a text in every language."""
    if not isinstance(node, yaml.MappingNode):
        file.fail(node, f"'label' {where} must be a mapping of en and es, found {describe(node)}")
        return None
    fields = keyed(file, node, LANGUAGES, f"in the label {where}")
    labels = {lang: required_text(file, fields, lang, f"in the label {where}") for lang in LANGUAGES}
    for lang in LANGUAGES:
        if lang not in fields:
            file.fail(node, f"missing {lang!r} in the label {where}")
    found = {lang: text for lang, text in labels.items() if text is not None}
    return found if len(found) == len(LANGUAGES) else None


def _options(file: FileCheck, fields: dict[str, Pair], where: str) -> tuple[Option, ...] | None:
    node = fields["options"][1]
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        file.fail(node, f"'options' {where} must be a list of value and label, found {describe(node)}")
        return None
    options, seen = [], set()
    for item in node.value:
        if not isinstance(item, yaml.MappingNode):
            file.fail(item, f"an option {where} must be a mapping of value and label, found {describe(item)}")
            continue
        found = keyed(file, item, _OPTION_KEYS, f"in an option {where}")
        value = required_text(file, found, "value", f"in an option {where}")
        label = _labels(file, found["label"][1], f"of an option {where}") if "label" in found else None
        if "value" not in found or "label" not in found:
            file.fail(item, f"an option {where} needs a value and a label")
        elif value is not None and value in seen:
            file.fail(found["value"][1], f"option {value!r} {where} is given twice")
        if value is not None and label is not None:
            seen.add(value)
            options.append(Option(value, label))
    return tuple(options) if len(options) == len(node.value) else None


def _flag(file: FileCheck, fields: dict[str, Pair], where: str) -> bool:
    if "required" not in fields:
        return False
    node = fields["required"][1]
    if node.tag != _BOOL:
        file.fail(node, f"'required' {where} must be true or false, found {describe(node)}")
        return False
    return bool(yaml.safe_load(node.value))


def _max_length(file: FileCheck, fields: dict[str, Pair], kind: str | None, where: str) -> int:
    if "max_length" not in fields:
        return TEXT_MAX
    node = fields["max_length"][1]
    if kind != "text":
        file.fail(fields["max_length"][0], f"'max_length' {where} is for text fields only")
    elif node.tag != _INT or not 1 <= (length := int(yaml.safe_load(node.value))) <= TEXT_LIMIT:
        file.fail(node, f"'max_length' {where} must be a whole number from 1 to {TEXT_LIMIT}, found {describe(node)}")
    else:
        return length
    return TEXT_MAX


def _field(file: FileCheck, node: yaml.Node, names: dict[str, int]) -> Field | None:
    """One item of ``fields:``; ``names`` (name: line) catches a name used twice."""
    if not isinstance(node, yaml.MappingNode):
        file.fail(node, f"a field must be a mapping (name, type, label...), found {describe(node)}")
        return None
    before = len(file.problems)
    fields = keyed(file, node, _FIELD_KEYS, "in a field")
    for key in ("name", "type", "label"):
        if key not in fields:
            file.fail(node, f"missing required key {key!r} in a field")
    name = required_text(file, fields, "name", "in a field")
    where = f"of field {name!r}" if name else "of a field"
    if name is not None:
        line = fields["name"][1].start_mark.line + 1
        if not _ID.fullmatch(name) or name in ("consent", "values"):
            file.fail(line, f"bad field name {name!r}: use lower-case letters, digits and _ (not consent or values)")
        elif name in names:
            file.fail(line, f"field name {name!r} is used twice (first on line {names[name]})")
        names.setdefault(name, line)
    kind = required_text(file, fields, "type", where)
    if kind is not None and kind not in TYPES:
        file.fail(fields["type"][1], f"unknown type {kind!r} {where} (known: {', '.join(TYPES)})")
    label = _labels(file, fields["label"][1], where) if "label" in fields else None
    options: tuple[Option, ...] | None = ()
    if kind == "choice" and "options" not in fields:
        file.fail(node, f"a choice field needs 'options' ({where})")
    elif "options" in fields and kind != "choice":
        file.fail(fields["options"][0], f"'options' {where} is for choice fields only")
    elif "options" in fields:
        options = _options(file, fields, where)
    required, max_length = _flag(file, fields, where), _max_length(file, fields, kind, where)
    if len(file.problems) > before or name is None or kind is None or label is None or options is None:
        return None
    return Field(name, kind, label, required, max_length, options)


def _localized(file: FileCheck, lang: str, key: yaml.Node, node: yaml.Node) -> Localized | None:
    where = f"in {lang!r}"
    if not isinstance(node, yaml.MappingNode):
        file.fail(key if node.tag == NULL else node, f"{lang!r} must be a mapping of {', '.join(_LANG_KEYS)}, "
                  f"found {describe(node)}")
        return None
    fields = keyed(file, node, _LANG_KEYS, where)
    texts = {name: required_text(file, fields, name, where) for name in _LANG_KEYS}
    for name in _LANG_KEYS:
        if name not in fields:
            file.fail(key, f"missing required field {name!r} {where}")
    if any(text is None for text in texts.values()):
        return None
    return Localized(**{name: str(text) for name, text in texts.items()})


def _check_file(path: Path) -> tuple[FileCheck, Form | None]:
    file = FileCheck(str(path))
    root = top_mapping(file, "id, fields, en and es")
    if root is None:
        return file, None
    top = keyed(file, root, _TOP_KEYS, "at the top level")
    for name in ("id", "fields", *LANGUAGES):
        if name not in top:
            file.fail(root, f"missing required field {name!r}")
    ident = required_text(file, top, "id", "at the top level")
    if ident is not None:
        file.id, file.id_line = ident, top["id"][0].start_mark.line + 1
        if ident != path.stem or not _ID.fullmatch(ident):
            file.fail(top["id"][1], f"id {ident!r} must be lower-case letters, digits and _, and the file's name "
                      f"(expected id: {path.stem})")
    fields: list[Field | None] = []
    if "fields" in top:
        node = top["fields"][1]
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            file.fail(node, f"'fields' must be a list of fields, found {describe(node)}")
        else:
            names: dict[str, int] = {}
            fields = [_field(file, item, names) for item in node.value]
    texts = {lang: _localized(file, lang, *top[lang]) for lang in LANGUAGES if lang in top}
    source = required_text(file, top, "source", "at the top level") if "source" in top and not blank(top["source"][1]) \
        else None
    if file.problems or ident is None or any(t is None for t in texts.values()):
        return file, None
    return file, Form(ident, tuple(f for f in fields if f is not None),
                      {lang: t for lang, t in texts.items() if t is not None}, file.path, source)


# -- the folder ---------------------------------------------------------------------------------------


def check_directory(directory: str | Path) -> tuple[dict[str, Form], list[Problem]]:
    """Every form in ``directory`` by id, and every problem. A missing folder has no forms (forms are optional)."""
    folder = Path(directory)
    if not folder.exists():
        return {}, []
    if not folder.is_dir():
        return {}, [Problem(str(folder), 1, "not a directory")]
    paths = sorted(p for p in folder.iterdir() if p.suffix in SUFFIXES and not p.name.startswith("."))
    checked = [_check_file(path) for path in paths]
    problems = [problem for file, _ in checked for problem in file.problems]
    forms = {form.id: form for _, form in checked if form is not None}
    return forms, sorted(problems, key=lambda p: (p.path, p.line))


def references(intents: Sequence[Intent], forms: Mapping[str, Form]) -> list[Problem]:
    """An intent that offers a form no file defines."""
    return [Problem(intent.path, intent.form_line, f"form {intent.form!r} is not in the forms folder "
                    f"(known: {', '.join(sorted(forms)) or 'none'})")
            for intent in intents if intent.form is not None and intent.form not in forms]


def load_forms(directory: str | Path, intents: Sequence[Intent] = ()) -> dict[str, Form]:
    """The forms of ``directory``; raises ``IntentError`` (like the intents) listing every problem if there is any."""
    forms, problems = check_directory(directory)
    problems += references(intents, forms)
    if problems:
        raise IntentError(problems)
    return forms
