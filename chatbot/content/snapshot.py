"""The content snapshot: one JSON file per imported page, the ground truth the intents are checked against.

A page is kept as its URL, title, language, fetch time, the SHA-256 of what was
fetched, and its sections (``anchor``, ``heading``, ``text``, and each
section's own SHA-256, which intents quote to notice when a section changed).
Files are written to a temporary name and renamed, so an interrupted import
never leaves half a snapshot; and comparing a new import with the files already
there tells the admin what changed on the site.

Tested in tests/test_content_import.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

HASH_CHARS = 12
"""How much of a section's SHA-256 an intent quotes: enough to notice a change, short enough to read."""

_SLUG = re.compile(r"[^a-z0-9]+")


class SnapshotError(Exception):
    """A snapshot file that cannot be read as one (not JSON, or missing fields)."""


@dataclass(frozen=True)
class Section:
    """The text under one heading of a page; ``anchor`` is the heading's id on the page (or its slug)."""

    anchor: str
    heading: str
    text: str
    language: str
    sha256: str = ""

    def __post_init__(self) -> None:
        if not self.sha256:
            object.__setattr__(self, "sha256", section_hash(self.heading, self.text))

    @property
    def short_hash(self) -> str:
        """The part of the hash an intent file quotes."""
        return self.sha256[:HASH_CHARS]


@dataclass(frozen=True)
class Page:
    """One imported page: where it came from, and its main text as sections."""

    url: str
    title: str
    language: str
    fetched_at: str
    sha256: str
    sections: tuple[Section, ...]
    source: str = ""
    """The SOURCE argument that listed the page: a page it no longer lists is removed on re-import."""

    def section(self, anchor: str) -> Section | None:
        """The section with this anchor, or None."""
        return next((s for s in self.sections if s.anchor == anchor), None)


def section_hash(heading: str, text: str) -> str:
    """SHA-256 of a section's heading and text: what an intent's ``source:`` hash is compared with."""
    return hashlib.sha256(f"{heading}\n{text}".encode()).hexdigest()


def file_name(url: str) -> str:
    """A readable, unique file name for a page's snapshot: a slug of the URL and 8 hex digits of its hash."""
    slug = _SLUG.sub("-", url.lower().split("://", 1)[-1]).strip("-")[:80] or "page"
    return f"{slug}-{hashlib.sha256(url.encode()).hexdigest()[:8]}.json"


def to_json(page: Page) -> str:
    """The snapshot file's text (sorted keys, so that re-imports diff cleanly in git)."""
    return json.dumps(asdict(page), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def from_json(text: str) -> Page:
    """A page read back from its snapshot file; ``SnapshotError`` when it is not one."""
    try:
        data = json.loads(text)
        sections = tuple(
            Section(s["anchor"], s["heading"], s["text"], s["language"], s["sha256"]) for s in data["sections"]
        )
        return Page(data["url"], data["title"], data["language"], data["fetched_at"], data["sha256"], sections,
                    data.get("source", ""))
    except (ValueError, KeyError, TypeError) as exc:
        raise SnapshotError(f"not a page snapshot ({type(exc).__name__}: {exc})") from None


def write(directory: Path, page: Page) -> Path:
    """Write the page's snapshot atomically: a temporary file in the same folder, then a rename."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / file_name(page.url)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(to_json(page))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def load(directory: Path) -> dict[str, Page]:
    """Every snapshot in ``directory`` by URL (hidden, temporary files skipped); ``SnapshotError`` names a bad one."""
    pages: dict[str, Page] = {}
    if not directory.is_dir():
        return pages
    for path in sorted(directory.glob("*.json")):
        if path.name.startswith("."):
            continue
        try:
            page = from_json(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, SnapshotError) as exc:
            raise SnapshotError(f"{path}: {exc}") from None
        pages[page.url] = page
    return pages


def remove(directory: Path, url: str) -> None:
    """Delete a page's snapshot (the page is gone from its source)."""
    (directory / file_name(url)).unlink(missing_ok=True)


@dataclass
class Changes:
    """What a re-import changed, page by page and section by section (anchors)."""

    added: list[str] = field(default_factory=list)
    changed: dict[str, tuple[list[str], list[str], list[str]]] = field(default_factory=dict)
    """``{url: (sections added, changed, removed)}``."""
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    sections_added: int = 0

    def lines(self) -> Iterable[str]:
        """One line per page that is new, changed or gone, for the admin to read."""
        for url in self.added:
            yield f"+ {url}"
        for url, (plus, changed, minus) in self.changed.items():
            parts = [f"+{a}" for a in plus] + [f"~{a}" for a in changed] + [f"-{a}" for a in minus]
            yield f"~ {url}: {', '.join(parts) if parts else 'title changed'}"
        for url in self.removed:
            yield f"- {url}"

    def summary(self) -> str:
        """Counts of pages and sections added, changed and removed."""
        plus = self.sections_added + sum(len(p) for p, _, _ in self.changed.values())
        changed = sum(len(c) for _, c, _ in self.changed.values())
        minus = sum(len(m) for _, _, m in self.changed.values())
        return (f"pages: {len(self.added)} added, {len(self.changed)} changed, {len(self.removed)} removed, "
                f"{len(self.unchanged)} unchanged; sections: {plus} added, {changed} changed, {minus} removed")


def compare(old: Page | None, new: Page, changes: Changes) -> None:
    """Record how ``new`` differs from the snapshot it replaces (None: a new page)."""
    if old is None:
        changes.added.append(new.url)
        changes.sections_added += len(new.sections)
        return
    before = {s.anchor: s.sha256 for s in old.sections}
    after = {s.anchor: s.sha256 for s in new.sections}
    plus = [a for a in after if a not in before]
    changed = [a for a in after if a in before and before[a] != after[a]]
    minus = [a for a in before if a not in after]
    if plus or changed or minus or old.title != new.title:
        changes.changed[new.url] = (plus, changed, minus)
    else:
        changes.unchanged.append(new.url)
