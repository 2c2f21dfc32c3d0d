"""Reading a sitemap.xml: the pages it lists, or the further sitemaps of a sitemap index.

A sitemap comes from the network, so it is parsed as untrusted XML: a document
type declaration (the door to entity expansion) is refused outright, and
anything that is not a ``<urlset>`` or ``<sitemapindex>`` is "malformed" with
the reason. ``<loc>`` values are resolved against the sitemap's own URL, so a
relative one (as in the shipped local site, whose port changes) still works.

Tested in tests/test_content_import.py.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from urllib.parse import urljoin


class SitemapError(Exception):
    """The sitemap cannot be read; the message says why."""


@dataclass(frozen=True)
class Sitemap:
    """What a sitemap lists: pages (``<urlset>``) or other sitemaps (``<sitemapindex>``)."""

    pages: tuple[str, ...]
    sitemaps: tuple[str, ...]


def _local(tag: str) -> str:
    """A tag without its namespace: ``{http://www.sitemaps.org/schemas/sitemap/0.9}url`` -> ``url``."""
    return tag.rsplit("}", 1)[-1]


def parse(text: str, base_url: str) -> Sitemap:
    """The URLs a sitemap lists, absolute; ``SitemapError`` when it is not a readable sitemap."""
    if "<!DOCTYPE" in text.upper():
        raise SitemapError("malformed sitemap: a document type declaration is not allowed")
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as exc:
        raise SitemapError(f"malformed sitemap: {exc}") from None
    kind = _local(root.tag)
    if kind not in ("urlset", "sitemapindex"):
        raise SitemapError(f"malformed sitemap: the root is <{kind}>, not <urlset> or <sitemapindex>")
    locations = []
    for entry in root:
        loc = next((child for child in entry if _local(child.tag) == "loc"), None)
        if loc is None or not (loc.text or "").strip():
            raise SitemapError(f"malformed sitemap: a <{_local(entry.tag)}> without <loc>")
        locations.append(urljoin(base_url, (loc.text or "").strip()))
    if not locations:
        raise SitemapError("the sitemap lists no pages")
    found = tuple(dict.fromkeys(locations))
    return Sitemap(found, ()) if kind == "urlset" else Sitemap((), found)
