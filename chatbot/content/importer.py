"""``chatbot content import``: sources listed, pages fetched and extracted, snapshots written, changes told.

A SOURCE is an http(s) page, a sitemap (a URL ending in ``.xml``, or a sitemap
index), or a local file or folder of ``.html``, ``.htm``, ``.md`` and ``.txt``
pages. A local page's URL is its path relative to the folder given (the file's
name for a single file), so a snapshot does not depend on where the folder
lies. Each bad input costs one line naming it and nothing else: the other pages
go on, and a page that failed keeps its previous snapshot. A page that its
source no longer lists (gone from the sitemap or the folder) is removed, but
only when the source was listed completely.

Tested in tests/test_content_import.py.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from chatbot.content import extract, sitemap, snapshot
from chatbot.content.fetch import HTML_TYPES, XML_TYPES, Fetcher, FetchError, Limits, origin
from chatbot.content.snapshot import Changes, Page

LOCAL_SUFFIXES = (".html", ".htm", ".md", ".txt")
NOT_PAGES = frozenset({"robots.txt"})
"""A copy of a site may hold its robots.txt: a rule file, not a page to learn from."""
MAX_SITEMAP_DEPTH = 2
"""A sitemap index may point at sitemaps, not at further indexes: deeper nesting is refused."""

Say = Callable[[str], None]
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class PageRef:
    """A page to import: its URL (a relative path for a local file), the SOURCE that listed it, its file if local."""

    url: str
    source: str
    path: Path | None = None


@dataclass
class Outcome:
    """What an import did: the changes against the snapshot before it, pages written, and the errors told."""

    changes: Changes = field(default_factory=Changes)
    imported: int = 0
    errors: int = 0


def is_url(source: str) -> bool:
    """An http(s) SOURCE (anything else is a local path)."""
    return urlsplit(source).scheme in ("http", "https")


def _local_pages(source: str) -> list[PageRef]:
    """The pages of a local file or folder; ``FetchError`` when there are none to read."""
    path = Path(source)
    key = str(path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in LOCAL_SUFFIXES
                       and p.name.lower() not in NOT_PAGES
                       and not any(part.startswith(".") for part in p.relative_to(path).parts))
        if not files:
            raise FetchError(f"no {', '.join(LOCAL_SUFFIXES)} files in the folder")
        return [PageRef(p.relative_to(path).as_posix(), key, p) for p in files]
    if path.is_file():
        if path.suffix.lower() not in LOCAL_SUFFIXES:
            raise FetchError(f"not a page: expected a {', '.join(LOCAL_SUFFIXES)} file, an http(s) URL or a folder")
        return [PageRef(path.name, key, path)]
    raise FetchError("no such file or folder, and not an http(s) URL")


async def _sitemap_pages(fetcher: Fetcher, url: str, source: str, depth: int = 1) -> list[PageRef]:
    """The pages a sitemap (or a sitemap index, one level down) lists."""
    response = await fetcher.get(url, XML_TYPES + ("text/plain",))
    try:
        found = sitemap.parse(response.text, response.url)
    except sitemap.SitemapError as exc:
        raise FetchError(str(exc)) from None
    pages = [PageRef(page, source) for page in found.pages]
    if found.sitemaps and depth >= MAX_SITEMAP_DEPTH:
        raise FetchError("a sitemap index inside a sitemap index: not followed")
    for nested in found.sitemaps:
        pages += await _sitemap_pages(fetcher, nested, source, depth + 1)
    return pages


async def _list(fetcher: Fetcher, source: str) -> list[PageRef]:
    """The pages one SOURCE stands for."""
    if not is_url(source):
        return _local_pages(source)
    if urlsplit(source).path.lower().endswith(".xml"):
        return await _sitemap_pages(fetcher, source, source)
    return [PageRef(source, source)]


async def _read(fetcher: Fetcher, page: PageRef, limits: Limits) -> tuple[str, str]:
    """A page's text and how to read it (``html``, ``md`` or ``txt``)."""
    if page.path is None:
        response = await fetcher.get(page.url, HTML_TYPES)
        return response.text, "html"
    try:
        if page.path.stat().st_size > limits.bytes:
            raise FetchError(f"larger than {limits.bytes:,} bytes ({page.path.stat().st_size:,})")
        raw = page.path.read_bytes()
    except OSError as exc:
        raise FetchError(f"cannot read the file: {exc.strerror or exc}") from None
    kind = page.path.suffix.lower().lstrip(".")
    return raw.decode("utf-8", "replace"), "html" if kind in ("html", "htm") else kind


def _page(page: PageRef, text: str, kind: str) -> Page:
    """The snapshot of one page; ``FetchError`` when its main text is empty."""
    fallback = Path(urlsplit(page.url).path).stem or page.url
    reader = {"html": extract.from_html, "md": extract.from_markdown}.get(kind, extract.from_text)
    found = reader(text, fallback)
    if not found.sections:
        raise FetchError("no text found on the page")
    fetched_at = datetime.now(UTC).replace(microsecond=0).isoformat()
    digest = hashlib.sha256(text.encode()).hexdigest()
    return Page(page.url, found.title, found.language, fetched_at, digest, found.sections, page.source)


async def _list_all(fetcher: Fetcher, sources: Sequence[str], say: Say, outcome: Outcome
                    ) -> tuple[list[PageRef], set[str]]:
    """Every page listed (each once), and the sources listed completely (whose missing pages may be removed)."""
    pages: dict[str, PageRef] = {}
    complete: set[str] = set()
    for source in sources:
        try:
            listed = await _list(fetcher, source)
        except FetchError as exc:
            say(f"error: {source}: {exc}")
            outcome.errors += 1
            continue
        complete.add(listed[0].source)
        for page in listed:
            pages.setdefault(page.url, page)
    return list(pages.values()), complete


async def run(sources: Sequence[str], out: Path, limits: Limits, say: Say, progress: Progress | None = None
              ) -> Outcome:
    """Import every SOURCE into the snapshot folder ``out``; every problem is one line given to ``say``."""
    outcome = Outcome()
    before = snapshot.load(out)
    deadline = time.monotonic() + limits.total_seconds
    origins = {origin(s) for s in sources if is_url(s)}
    async with Fetcher(origins, limits) as fetcher:
        pages, complete = await _list_all(fetcher, sources, say, outcome)
        if len(pages) > limits.pages:
            say(f"error: page limit of {limits.pages} reached: {len(pages) - limits.pages} listed page(s) left out")
            outcome.errors += 1
            complete.clear()
            pages = pages[: limits.pages]
        seen: set[str] = set()
        for done, page in enumerate(pages, start=1):
            if time.monotonic() > deadline:
                say(f"error: time limit of {limits.total_seconds:g} s reached: {len(pages) - done + 1} page(s) left")
                outcome.errors += 1
                complete.clear()
                break
            seen.add(page.url)
            try:
                new = _page(page, *await _read(fetcher, page, limits))
            except FetchError as exc:
                say(f"error: {page.url}: {exc}")
                outcome.errors += 1
            else:
                snapshot.write(out, new)
                snapshot.compare(before.get(new.url), new, outcome.changes)
                outcome.imported += 1
            if progress is not None:
                progress("pages", done, len(pages))
    for url, old in before.items():
        if old.source in complete and url not in seen:
            snapshot.remove(out, url)
            outcome.changes.removed.append(url)
    return outcome
