"""Checking YAML files that people edit by hand (intents, forms): every problem at its file and line, all at once.

The checks walk the YAML node tree (``yaml.compose``) instead of ``yaml.safe_load``'s Python values for three
reasons: nodes carry their line; duplicate keys, which ``safe_load`` silently drops, can be seen; and an unquoted
``no`` or ``123`` (a boolean, a number) can be told apart from text. ``chatbot.bot.intents`` and
``chatbot.bot.forms`` build their files' checks from these.

Tested in tests/test_intents.py, tests/test_forms.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

STR = "tag:yaml.org,2002:str"
NULL = "tag:yaml.org,2002:null"
Pair = tuple[yaml.Node, yaml.Node]
"""(key node, value node)"""


@dataclass(frozen=True)
class Problem:
    """Something wrong in a hand-edited file (intent, form); ``line`` is 1-based (1 for a whole file or a folder)."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass
class FileCheck:
    """One file being checked: its problems so far, and its id once read (for the cross-file checks)."""

    path: str
    problems: list[Problem] = field(default_factory=list)
    id: str | None = None
    id_line: int = 1

    def fail(self, at: int | yaml.Node, message: str) -> None:
        """Record a problem at a line number, or at the line where a YAML node starts."""
        line = at.start_mark.line + 1 if isinstance(at, yaml.Node) else at
        self.problems.append(Problem(self.path, line, message))


_SCALAR_KINDS = {"bool": "a yes/no value", "int": "a number", "float": "a number", "timestamp": "a date"}


def describe(node: yaml.Node) -> str:
    """How a node reads to an admin: "a list", "a number ('42')", "nothing"..."""
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if node.tag in (NULL, STR):
        return "nothing" if node.tag == NULL else "text"
    name = node.tag.rsplit(":", 1)[-1]
    return f"{_SCALAR_KINDS.get(name, 'a value of type ' + name)} ({node.value!r})"


def blank(node: yaml.Node) -> bool:
    """An empty value: ``key:`` with nothing after it, or only spaces."""
    return isinstance(node, yaml.ScalarNode) and node.tag in (STR, NULL) and not node.value.strip()


def read_text(file: FileCheck) -> str | None:
    """The file's text, or None with the problem recorded (unreadable, not UTF-8)."""
    try:
        raw = Path(file.path).read_bytes()
    except OSError as exc:
        file.fail(1, f"cannot read the file: {exc.strerror or exc}")
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        file.fail(raw.count(b"\n", 0, exc.start) + 1, "cannot read the file: it is not UTF-8 text")
        return None


def compose(file: FileCheck, text: str) -> yaml.Node | None:
    """The YAML node tree, or None with the problem recorded at the line where the parser stopped."""
    try:
        return yaml.compose(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        context = f" ({exc.context} on line {exc.context_mark.line + 1})" if exc.context and exc.context_mark else ""
        file.fail(mark.line + 1 if mark else 1, f"invalid YAML: {exc.problem}{context}")
    except yaml.YAMLError as exc:  # a reader error: a character YAML does not allow
        position = getattr(exc, "position", 0)
        file.fail(text.count("\n", 0, position) + 1, f"invalid YAML: {exc}")
    except RecursionError:  # PyYAML's composer recurses once per nesting level
        file.fail(1, "invalid YAML: nested too deeply")
    return None


def top_mapping(file: FileCheck, keys: str) -> yaml.MappingNode | None:
    """The file's top-level mapping, or None with the problem recorded: unreadable, not YAML, empty, or not a
    mapping. ``keys`` names what the mapping should hold, for the messages ("id, en and es")."""
    text = read_text(file)
    root = compose(file, text) if text is not None else None
    if root is None:
        if text is not None and not file.problems:
            file.fail(1, f"the file is empty: expected a mapping with {keys}")
        return None
    if not isinstance(root, yaml.MappingNode):
        file.fail(root, f"expected a mapping ({keys.replace(' and ', ', ')}) at the top level, found {describe(root)}")
        return None
    return root


def keyed(file: FileCheck, node: yaml.MappingNode, allowed: tuple[str, ...], where: str) -> dict[str, Pair]:
    """``{key: (key node, value node)}``, reporting keys that are unknown or repeated."""
    found: dict[str, Pair] = {}
    for key, value in node.value:
        name = key.value if isinstance(key, yaml.ScalarNode) else None
        if name not in allowed:
            shown = repr(name) if name is not None else describe(key)
            file.fail(key, f"unknown key {shown} {where} (expected: {', '.join(allowed)})")
        elif name in found:
            file.fail(key, f"duplicate key {name!r} {where} (first on line {found[name][0].start_mark.line + 1})")
        else:
            found[name] = (key, value)
    return found


def required_text(file: FileCheck, fields: dict[str, Pair], name: str, where: str) -> str | None:
    """A required, non-empty text field; None (and a problem) when it is missing, empty or not text."""
    if name not in fields:
        return None
    key, value = fields[name]
    if blank(value):
        file.fail(key, f"empty required field {name!r} {where}")
        return None
    if not isinstance(value, yaml.ScalarNode) or value.tag != STR:
        file.fail(value, f"{name!r} {where} must be text, found {describe(value)}")
        return None
    return str(value.value).strip()
