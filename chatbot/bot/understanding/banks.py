"""The phrase banks shipped in ``banks/``: what the sentence classifiers learn from.

They are the project's own safety data, reviewed like code, not files that
admins edit: a change to what counts as an emergency goes through a commit and
the development set (docs/understanding.md). Each file maps a label to
``{en: [...], es: [...]}``; both languages train one classifier, which then
reads Spanish, English and Spanglish alike.

Tested in tests/test_understanding.py.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

import yaml

Bank = dict[str, list[str]]
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's loader where PyYAML was built with it: the banks load in a tenth of the time."""


@cache
def bank(name: str) -> Bank:
    """``banks/<name>.yaml`` as ``{label: texts of both languages}``; read once per process."""
    data = yaml.load(files(__package__).joinpath("banks", f"{name}.yaml").read_text(encoding="utf-8"), Loader=_LOADER)
    return {label: [text for lang in sorted(langs) for text in langs[lang]] for label, langs in data.items()}
