"""``chatbot content import`` against a real site: the shipped clinic site served by an aiohttp server on 127.0.0.1.

Covers the content package's fetch, sitemap, extract, language, snapshot and
importer modules, and the ``content import`` command (chatbot/admin/content.py).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web

from chatbot.cli.main import main
from chatbot.content import extract, sitemap, snapshot
from tests.conftest import ROOT

SITE = ROOT / "tests" / "data" / "site"
SEED = ROOT.parent / "shared" / "seed" / "clinic-site-upper-back-muscle-pain.txt"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Site:
    """A copy of the shipped site served over HTTP, with extra routes a test may add (redirects, bad pages)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.url = ""
        self.routes: dict[str, Handler] = {}
        self.requests: list[str] = []

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(request.path)
        if request.path in self.routes:
            return await self.routes[request.path](request)
        path = self.root / request.path.lstrip("/")
        if not path.is_file():
            raise web.HTTPNotFound()
        kinds = {".html": "text/html", ".xml": "application/xml", ".txt": "text/plain"}
        return web.Response(body=path.read_bytes(), content_type=kinds.get(path.suffix, "application/octet-stream"),
                            charset="utf-8")


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    served = Site(Path(shutil.copytree(SITE, tmp_path / "site")))
    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", served.handle)
    runner = web.AppRunner(app, shutdown_timeout=1)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    served.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield served
    await runner.cleanup()


async def run(*argv: str) -> int:
    """``chatbot <argv>`` in a thread: the command runs its own event loop while the test's server runs in this one."""
    return await asyncio.to_thread(main, list(argv))


def pages_in(out: Path) -> dict[str, dict]:
    return {data["url"]: data for data in (json.loads(p.read_text()) for p in sorted(out.glob("*.json")))}


def a_closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- a whole site ----------------------------------------------------------------------------------


async def test_the_clinic_site_is_imported_from_its_sitemap_with_the_article_only(site: Site, tmp_path: Path,
                                                                                  capsys) -> None:
    out = tmp_path / "content"
    assert await run("content", "import", f"{site.url}/sitemap.xml", "--out", str(out)) == 0
    printed = capsys.readouterr()
    assert f"+ {site.url}/upper-back-muscle-pain.html" in printed.out
    assert "3 page(s) imported, 0 error(s)" in printed.out
    assert "pages [" in printed.err and "3/3" in printed.err  # the progress bar
    assert site.requests[0] == "/robots.txt"
    pages = pages_in(out)
    assert set(pages) == {f"{site.url}/{name}.html" for name in ("upper-back-muscle-pain", "contact", "back-to-health")}
    page = pages[f"{site.url}/upper-back-muscle-pain.html"]
    assert page["title"] == "Upper Back Muscle Pain" and page["language"] == "en"
    assert len(page["sha256"]) == 64 and page["fetched_at"].endswith("+00:00")
    assert [s["anchor"] for s in page["sections"]] == [
        "upper-back-muscle-pain", "muscle-innervation", "conservative-treatment", "progressive-treatment"]
    text = "\n".join(s["text"] for s in page["sections"])
    assert "- Heat – the application of heat to an injury facilitates your blood flow" in text
    for boilerplate in ("Toll-Free", "seven days a week", "info packet", "medical seminar", "Meet our Physicians"):
        assert boilerplate not in text, boilerplate  # the banner, sidebar and footer stay out
    spanish = pages[f"{site.url}/back-to-health.html"]["sections"][-1]
    assert (spanish["anchor"], spanish["language"]) == ("tambien-disponible-en-espanol", "es")


async def test_a_local_folder_gives_pages_named_by_their_path_and_skips_robots_txt(tmp_path: Path, capsys) -> None:
    out = tmp_path / "content"
    assert await run("content", "import", str(SITE), "--out", str(out), "--quiet") == 0
    assert set(pages_in(out)) == {"upper-back-muscle-pain.html", "contact.html", "back-to-health.html"}
    assert "robots.txt" not in capsys.readouterr().out


async def test_the_shipped_snapshot_is_the_shipped_site(tmp_path: Path) -> None:
    """content/ is what ``chatbot content import tests/data/site`` writes (apart from the fetch time)."""
    out = tmp_path / "content"
    assert await run("content", "import", str(SITE), "--out", str(out), "--quiet") == 0
    fresh = {url: {**page, "fetched_at": "", "source": ""} for url, page in pages_in(out).items()}
    shipped = {url: {**page, "fetched_at": "", "source": ""} for url, page in pages_in(ROOT / "content").items()}
    assert fresh == shipped


async def test_reimport_tells_pages_and_sections_added_changed_and_removed(site: Site, tmp_path: Path,
                                                                           capsys) -> None:
    out = tmp_path / "content"
    assert await run("content", "import", f"{site.url}/sitemap.xml", "--out", str(out), "--quiet") == 0
    capsys.readouterr()
    page = site.root / "upper-back-muscle-pain.html"
    html = page.read_text().replace("limited rest is often", "a little rest is often")
    html = html.replace("<h2 id=\"progressive-treatment\">", "<h2 id=\"new-topic\">New topic</h2><p>Spine care for "
                        "everyone who needs it, in plain words, every day.</p><h2 id=\"progressive-treatment\">")
    page.write_text(html)
    xml = (site.root / "sitemap.xml").read_text().replace("<url><loc>/contact.html</loc></url>", "")
    (site.root / "sitemap.xml").write_text(xml)
    assert await run("content", "import", f"{site.url}/sitemap.xml", "--out", str(out), "--quiet") == 0
    printed = capsys.readouterr().out
    assert f"~ {site.url}/upper-back-muscle-pain.html: +new-topic, ~conservative-treatment" in printed
    assert f"- {site.url}/contact.html" in printed
    assert "pages: 0 added, 1 changed, 1 removed, 1 unchanged; sections: 1 added, 1 changed, 0 removed" in printed
    assert f"{site.url}/contact.html" not in pages_in(out)


async def test_a_page_that_fails_on_reimport_keeps_its_snapshot(site: Site, tmp_path: Path, capsys) -> None:
    out = tmp_path / "content"
    url = f"{site.url}/contact.html"
    assert await run("content", "import", url, "--out", str(out), "--quiet") == 0
    before = sorted(p.read_text() for p in out.iterdir())

    async def broken(request: web.Request) -> web.Response:
        return web.Response(status=500)

    site.routes["/contact.html"] = broken
    assert await run("content", "import", url, "--out", str(out), "--quiet") == 1
    assert f"error: {url}: HTTP 500" in capsys.readouterr().out
    assert sorted(p.read_text() for p in out.iterdir()) == before  # nothing half-written, nothing removed


# -- robots.txt and the limits ---------------------------------------------------------------------


async def test_robots_txt_is_obeyed(site: Site, tmp_path: Path, capsys) -> None:
    (site.root / "private").mkdir()
    shutil.copy(site.root / "contact.html", site.root / "private" / "contact.html")
    out = tmp_path / "content"
    assert await run("content", "import", f"{site.url}/private/contact.html", "--out", str(out), "--quiet") == 1
    (line, _) = capsys.readouterr().out.splitlines()
    assert line == f"error: {site.url}/private/contact.html: disallowed by robots.txt"
    assert "/private/contact.html" not in site.requests
    assert not out.exists() or not list(out.iterdir())


async def test_a_failing_robots_txt_allows_nothing(site: Site, tmp_path: Path, capsys) -> None:
    async def failing(request: web.Request) -> web.Response:
        return web.Response(status=503)

    site.routes["/robots.txt"] = failing
    assert await run("content", "import", f"{site.url}/contact.html", "--out", str(tmp_path / "c"), "--quiet") == 1
    assert "disallowed by robots.txt" in capsys.readouterr().out


async def test_the_page_limit_stops_the_import_and_removes_nothing(site: Site, tmp_path: Path, capsys) -> None:
    out = tmp_path / "content"
    assert await run("content", "import", f"{site.url}/sitemap.xml", "--out", str(out), "--quiet") == 0
    assert await run("content", "import", f"{site.url}/sitemap.xml", "--out", str(out), "--quiet",
                     "--max-pages", "1") == 0
    printed = capsys.readouterr().out
    assert "error: page limit of 1 reached: 2 listed page(s) left out" in printed
    assert len(pages_in(out)) == 3 and "removed" in printed and "0 removed" in printed


async def test_too_many_redirects_are_refused(site: Site, tmp_path: Path, capsys) -> None:
    async def loop(request: web.Request) -> web.Response:
        raise web.HTTPFound("/loop.html")

    site.routes["/loop.html"] = loop
    assert await run("content", "import", f"{site.url}/loop.html", "--out", str(tmp_path / "c"), "--quiet",
                     "--max-redirects", "3") == 1
    assert capsys.readouterr().out.splitlines()[0] == f"error: {site.url}/loop.html: more than 3 redirects"
    assert site.requests.count("/loop.html") == 4


async def test_a_redirect_within_the_site_is_followed(site: Site, tmp_path: Path) -> None:
    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently("/contact.html")

    site.routes["/old-contact"] = moved
    out = tmp_path / "c"
    assert await run("content", "import", f"{site.url}/old-contact", "--out", str(out), "--quiet") == 0
    (page,) = pages_in(out).values()
    assert page["title"] == "Contact Us"


# -- bad input: one line naming the source, exit 1, nothing written ----------------------------------


async def _refused(site: Site, tmp_path: Path, capsys, source: str, expected: str, *flags: str) -> None:
    out = tmp_path / "content"
    assert await run("content", "import", source, "--out", str(out), "--quiet", *flags) == 1
    lines = capsys.readouterr().out.splitlines()
    errors = [line for line in lines if line.startswith("error:")]
    assert errors == [f"error: {source}: {expected}"], lines
    assert "0 page(s) imported, 1 error(s)" in lines[-1]
    assert not out.exists() or not list(out.iterdir())  # no snapshot, no temporary file


async def test_an_unreachable_url(site: Site, tmp_path: Path, capsys) -> None:
    source = f"http://127.0.0.1:{a_closed_port()}/page.html"
    out = tmp_path / "content"
    assert await run("content", "import", source, "--out", str(out), "--quiet") == 1
    (line, _) = capsys.readouterr().out.splitlines()
    assert line.startswith(f"error: {source}: unreachable (")


@pytest.mark.parametrize(("body", "kind", "expected"), [
    (b"%PDF-1.4", "application/pdf", "not text/html or application/xhtml+xml (the server says application/pdf)"),
    (b"<html><body><nav><a href='/'>Home</a></nav></body></html>", "text/html", "no text found on the page"),
    (b"", "text/html", "no text found on the page"),
])
async def test_a_page_that_is_not_html_or_has_no_text(site: Site, tmp_path: Path, capsys, body: bytes, kind: str,
                                                      expected: str) -> None:
    async def page(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type=kind)

    site.routes["/bad"] = page
    await _refused(site, tmp_path, capsys, f"{site.url}/bad", expected)


async def test_a_redirect_off_the_site(site: Site, tmp_path: Path, capsys) -> None:
    async def away(request: web.Request) -> web.Response:
        raise web.HTTPFound("http://localhost:1/elsewhere.html")

    site.routes["/away"] = away
    await _refused(site, tmp_path, capsys, f"{site.url}/away",
                   f"redirected off the site to http://localhost:1/elsewhere.html (only {site.url})")


async def test_an_oversized_page_announced_or_streamed(site: Site, tmp_path: Path, capsys) -> None:
    big = b"<html><body><p>" + b"spine " * 20_000 + b"</p></body></html>"

    async def announced(request: web.Request) -> web.Response:
        return web.Response(body=big, content_type="text/html")

    async def streamed(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/html"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for start in range(0, len(big), 10_000):
            await response.write(big[start:start + 10_000])
        await response.write_eof()
        return response

    site.routes["/announced"] = announced
    site.routes["/streamed"] = streamed
    await _refused(site, tmp_path, capsys, f"{site.url}/announced", f"larger than 50,000 bytes ({len(big):,})",
                   "--max-bytes", "50000")
    await _refused(site, tmp_path, capsys, f"{site.url}/streamed", "larger than 50,000 bytes",
                   "--max-bytes", "50000")


@pytest.mark.parametrize(("body", "expected"), [
    (b"<urlset><url><loc>/a.html</loc></url>", "malformed sitemap: no element found: line 1, column 37"),
    (b"<html><body>not a sitemap</body></html>",
     "malformed sitemap: the root is <html>, not <urlset> or <sitemapindex>"),
    (b"<urlset><url><lastmod>2026-01-01</lastmod></url></urlset>", "malformed sitemap: a <url> without <loc>"),
    (b"<!DOCTYPE x [<!ENTITY a 'aaaa'>]><urlset>&a;</urlset>",
     "malformed sitemap: a document type declaration is not allowed"),
])
async def test_a_malformed_sitemap(site: Site, tmp_path: Path, capsys, body: bytes, expected: str) -> None:
    (site.root / "sitemap.xml").write_bytes(body)
    await _refused(site, tmp_path, capsys, f"{site.url}/sitemap.xml", expected)


async def test_a_sitemap_page_off_the_site_is_refused_and_the_others_imported(site: Site, tmp_path: Path,
                                                                               capsys) -> None:
    xml = (site.root / "sitemap.xml").read_text().replace(
        "</urlset>", "<url><loc>http://localhost:1/other.html</loc></url></urlset>")
    (site.root / "sitemap.xml").write_text(xml)
    out = tmp_path / "content"
    assert await run("content", "import", f"{site.url}/sitemap.xml", "--out", str(out), "--quiet") == 0
    assert f"error: http://localhost:1/other.html: off the site (only {site.url})" in capsys.readouterr().out
    assert len(pages_in(out)) == 3


@pytest.mark.parametrize(("name", "expected"), [
    ("missing.html", "no such file or folder, and not an http(s) URL"),
    ("notes.pdf", "not a page: expected a .html, .htm, .md, .txt file, an http(s) URL or a folder"),
    ("empty", "no .html, .htm, .md, .txt files in the folder"),
])
async def test_bad_local_sources(tmp_path: Path, capsys, name: str, expected: str) -> None:
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")
    (tmp_path / "empty").mkdir()
    await _refused(None, tmp_path, capsys, str(tmp_path / name), expected)  # type: ignore[arg-type]


# -- the parts on their own ----------------------------------------------------------------------------


def test_markdown_and_plain_text_pages_are_split_by_their_headings() -> None:
    found = extract.from_markdown("# Heat\n\nHeat packs can help.\n\n## Rest\n\n- limited rest\n- no more\n", "x")
    assert [(s.anchor, s.heading, s.text) for s in found.sections] == [
        ("heat", "Heat", "Heat packs can help."), ("rest", "Rest", "- limited rest\n- no more")]
    seed = extract.from_text(SEED.read_text(encoding="utf-8"), "seed")
    assert seed.title == "Upper Back Muscle Pain"
    assert "conservative-treatment" in [s.anchor for s in seed.sections]


def test_a_sitemap_index_lists_sitemaps_and_relative_locations_are_resolved() -> None:
    index = sitemap.parse("<sitemapindex xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'><sitemap>"
                          "<loc>/a.xml</loc></sitemap></sitemapindex>", "http://127.0.0.1:9/sitemap.xml")
    assert index == sitemap.Sitemap((), ("http://127.0.0.1:9/a.xml",))


def test_a_snapshot_reads_back_as_it_was_written(tmp_path: Path) -> None:
    page = snapshot.Page("a.html", "A", "en", "2026-12-03T00:00:00+00:00", "0" * 64,
                         (snapshot.Section("heat", "Heat", "Heat helps.", "en"),), "site")
    path = snapshot.write(tmp_path, page)
    assert snapshot.from_json(path.read_text()) == page
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(snapshot.SnapshotError, match="bad.json: not a page snapshot"):
        snapshot.load(tmp_path)


async def test_a_50_mb_page_is_refused_at_the_default_limit_without_reading_it_all(site: Site, tmp_path: Path,
                                                                                  capsys) -> None:
    sent = []

    async def huge(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/html"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        chunk = b"<p>" + b"spine " * 10_000 + b"</p>"
        try:
            while sum(sent) < 50_000_000:
                await response.write(chunk)
                sent.append(len(chunk))
        except (ConnectionError, RuntimeError):  # the importer hung up: what this test wants
            pass
        return response

    site.routes["/huge"] = huge
    await _refused(site, tmp_path, capsys, f"{site.url}/huge", "larger than 5,000,000 bytes")
    assert sum(sent) < 50_000_000


async def test_markdown_and_text_files_in_a_folder(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "pages"
    folder.mkdir()
    (folder / "heat.md").write_text("# Heat\n\nHeat packs, blankets and hot tub therapy can all be helpful.\n")
    shutil.copy(SEED, folder / "seed.txt")
    (folder / ".hidden.md").write_text("# Hidden\n\nNot a page of the site.\n")
    out = tmp_path / "content"
    assert await run("content", "import", str(folder), "--out", str(out), "--quiet") == 0
    pages = pages_in(out)
    assert set(pages) == {"heat.md", "seed.txt"}
    assert pages["heat.md"]["sections"] == [{
        "anchor": "heat", "heading": "Heat", "language": "en",
        "sha256": snapshot.section_hash("Heat", "Heat packs, blankets and hot tub therapy can all be helpful."),
        "text": "Heat packs, blankets and hot tub therapy can all be helpful."}]
    assert pages["seed.txt"]["title"] == "Upper Back Muscle Pain"
