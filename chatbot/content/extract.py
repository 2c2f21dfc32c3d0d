"""A page's main text, split into sections by its headings: what the bot may say comes only from here.

HTML goes through trafilatura, which keeps the article and drops navigation,
phone banners, sidebars and footers (measured against readability-lxml with
selectolax in docs/content.md), and returns it as XML whose ``<head>``,
``<p>`` and ``<list>`` elements are read here. Trafilatura drops the headings'
``id`` attributes, so those are read from the page itself: a section's anchor
is the id the page gives its heading (links into the page keep working), or a
slug of the heading. Markdown files are split on their ``#`` headings, plain
text on short lines that read as titles. Text before the first heading belongs
to a section named after the page's title.

Tested in tests/test_content_import.py.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from html.parser import HTMLParser

import trafilatura

from chatbot.bot.text import fold
from chatbot.content import language
from chatbot.content.snapshot import Section

HEADING_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_SLUG = re.compile(r"[^a-z0-9]+")
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_MD_BULLET = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+")
_TITLE_LINE_WORDS = 10


@dataclass(frozen=True)
class Extracted:
    """A page's title, its language, and its main text as sections (none: the page has no text)."""

    title: str
    language: str
    sections: tuple[Section, ...]


def slug(text: str) -> str:
    """A heading as an anchor: folded, words joined by ``-`` ("También disponible" -> "tambien-disponible")."""
    return _SLUG.sub("-", fold(text)).strip("-") or "section"


def _words(text: str) -> str:
    return " ".join(text.split())


class _PageFacts(HTMLParser):
    """The page's ``<html lang>``, ``<title>``, and the id of each heading, read from the page itself."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lang = ""
        self.title = ""
        self.heading_ids: dict[str, str] = {}
        self._open: str | None = None  # "title" or a heading's id
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "html" and found.get("lang"):
            self.lang = (found["lang"] or "").split("-")[0].lower()
        elif tag == "title" and not self.title:
            self._open, self._text = "title", []
        elif tag in HEADING_TAGS and found.get("id"):
            self._open, self._text = f"#{found['id']}", []

    def handle_endtag(self, tag: str) -> None:
        if self._open == "title" and tag == "title":
            self.title = _words("".join(self._text))
        elif self._open and self._open.startswith("#") and tag in HEADING_TAGS:
            self.heading_ids.setdefault(_words("".join(self._text)), self._open[1:])
        else:
            return
        self._open = None

    def handle_data(self, data: str) -> None:
        if self._open:
            self._text.append(data)


def _blocks_from_xml(document: ElementTree.Element) -> list[tuple[bool, str]]:
    """``(is_heading, text)`` for each block of trafilatura's ``<main>``; list items become ``- item`` lines."""
    main = document.find("main")
    blocks: list[tuple[bool, str]] = []
    for element in main if main is not None else []:
        if element.tag == "list":
            items = [_words("".join(item.itertext())) for item in element.iter("item")]
            blocks.append((False, "\n".join(f"- {item}" for item in items if item)))
        else:
            blocks.append((element.tag == "head", _words("".join(element.itertext()))))
    return [(heading, text) for heading, text in blocks if text]


def _sections(blocks: list[tuple[bool, str]], title: str, page_language: str,
              anchors: dict[str, str]) -> tuple[Section, ...]:
    """Blocks grouped under their headings; each section's language detected, anchors unique on the page."""
    groups: list[tuple[str, list[str]]] = []
    for is_heading, text in blocks:
        if is_heading:
            groups.append((text, []))
        else:
            if not groups:
                groups.append((title, []))
            groups[-1][1].append(text)
    sections: list[Section] = []
    used: set[str] = set()
    for heading, texts in groups:
        body = "\n".join(texts)
        if not body and not heading:
            continue
        anchor = base = anchors.get(heading) or slug(heading)
        number = 1
        while anchor in used:
            number += 1
            anchor = f"{base}-{number}"
        used.add(anchor)
        sections.append(Section(anchor, heading, body, language.detect(f"{heading}\n{body}", page_language)))
    return tuple(s for s in sections if s.text)


def _page_language(declared: str, blocks: list[tuple[bool, str]]) -> str:
    """The language the page declares (``<html lang>``), or the one its whole text reads as (English if unsure)."""
    return declared or language.detect("\n".join(text for _, text in blocks), "en")


def from_html(html: str, fallback_title: str) -> Extracted:
    """The main text of an HTML page, by trafilatura; no sections when it finds none."""
    facts = _PageFacts()
    facts.feed(html)
    facts.close()
    found = trafilatura.extract(html, output_format="xml", include_formatting=True, with_metadata=True,
                                include_comments=False, include_images=False, deduplicate=False)
    if not found:
        return Extracted(facts.title or fallback_title, facts.lang or "en", ())
    document = ElementTree.fromstring(found)
    title = _words(document.get("title") or "") or facts.title or fallback_title
    blocks = _blocks_from_xml(document)
    page_language = _page_language(facts.lang, blocks)
    return Extracted(title, page_language, _sections(blocks, title, page_language, facts.heading_ids))


def from_markdown(text: str, fallback_title: str) -> Extracted:
    """A Markdown file split on its ``#`` headings; the first heading is the title."""
    blocks: list[tuple[bool, str]] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append((False, "\n".join(paragraph)))
            paragraph.clear()

    for line in text.splitlines():
        heading = _MD_HEADING.match(line)
        if heading:
            flush()
            blocks.append((True, _words(heading.group(2))))
        elif not line.strip():
            flush()
        else:
            bullet = _MD_BULLET.match(line)
            paragraph.append(f"- {_words(line[bullet.end():])}" if bullet else _words(line))
    flush()
    title = next((text for is_heading, text in blocks if is_heading), fallback_title)
    page_language = _page_language("", blocks)
    return Extracted(title, page_language, _sections(blocks, title, page_language, {}))


def _reads_as_title(line: str) -> bool:
    """A short line that does not end like a sentence: a heading in a plain-text page."""
    words = line.split()
    return 0 < len(words) <= _TITLE_LINE_WORDS and not line.rstrip().endswith((".", ",", ";", ":", "-"))


def from_text(text: str, fallback_title: str) -> Extracted:
    """A plain-text page: paragraphs, with short title-like lines standing alone as headings."""
    paragraphs = [_words(p) for p in re.split(r"\n\s*\n", text) if p.strip()]
    blocks = [(_reads_as_title(p) and not _MD_BULLET.match(p), p) for p in paragraphs]
    title = next((p for is_heading, p in blocks if is_heading), fallback_title)
    page_language = _page_language("", blocks)
    return Extracted(title, page_language, _sections(blocks, title, page_language, {}))
