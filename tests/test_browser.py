"""The widget and the console in a real browser: Debian's Chromium, driven by Playwright, against a real server.

One Chromium runs for the whole test worker (the ``chromium`` fixture of
tests/conftest.py); each test connects to it over the DevTools protocol from
its own event loop (where its server runs) and opens fresh browser contexts,
so tests share nothing but the browser process.
Screenshots go to test-artifacts/screenshots/ for a person to look at.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from chatbot.web import pages
from chatbot.web.app import DESK, SERVICE, STORE
from tests.conftest import ROOT, Server, need_service

try:
    from playwright.async_api import Browser, Page, async_playwright, expect

    # Playwright's 5 s default for each expectation was once too short beside another test worker on 2 cores (the
    # console's passages, worked out on the server); a waiting expectation ends as soon as it holds.
    expect.set_options(timeout=15_000)
except ImportError:  # the dev extra installs it; need_service() below says so
    async_playwright = None

SHOTS = ROOT / "test-artifacts" / "screenshots"
PHONE = {"width": 375, "height": 740}
HEAT_EN = "does heat help with upper back pain?"
HEAT_ES = "¿El calor ayuda con el dolor de espalda?"
UNKNOWN = "do you sell running shoes in size 12?"
HTML = "<img src=x onerror=alert(1)>"


@dataclasses.dataclass
class Session:
    """This test's connection to the browser: new pages in new contexts, and what went wrong in any of them."""

    browser: Browser
    contexts: list[Any] = dataclasses.field(default_factory=list)
    dialogs: list[str] = dataclasses.field(default_factory=list)
    errors: list[str] = dataclasses.field(default_factory=list)

    async def page(self, width: int = 1280, height: int = 800, **options: Any) -> Page:
        """A page in a fresh context (its own storage, like another browser)."""
        context = await self.browser.new_context(viewport={"width": width, "height": height}, **options)
        self.contexts.append(context)
        return await self.tab(context)

    async def tab(self, context: Any) -> Page:
        """Another page in the same context (shares localStorage, like a second tab)."""
        page = await context.new_page()
        page.on("dialog", self._dialog)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("console", self._console)
        return page

    def _console(self, message: Any) -> None:
        """The server's Content-Security-Policy must never have to block anything of ours."""
        if message.type == "error" and "Content Security Policy" in message.text:
            self.errors.append(message.text)

    async def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        await dialog.dismiss()


@pytest.fixture
async def browser(chromium: str) -> AsyncIterator[Session]:
    if async_playwright is None:
        need_service("Playwright for Python is not installed: pip install playwright (the dev extra)")
    async with async_playwright() as playwright:
        session = Session(await playwright.chromium.connect_over_cdp(chromium))
        yield session
        for context in session.contexts:
            await context.close()
        await session.browser.close()  # over CDP this only disconnects
    assert session.errors == [], f"JavaScript errors in the pages: {session.errors}"
    assert session.dialogs == [], f"dialogs opened: {session.dialogs}"


async def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / name))


# Names the page's scripts add to window: the bundles (esbuild IIFEs of ES modules) must add none.
RECORD_GLOBALS = "window.__before = Object.getOwnPropertyNames(window)"
NEW_GLOBALS = "Object.getOwnPropertyNames(window).filter(n => n !== '__before' && !window.__before.includes(n))"


async def open_widget(page: Page, url: str, label: str = "Chat with us") -> None:
    await page.goto(url)
    await page.get_by_role("button", name=label).click()
    await expect(page.locator("#chat-input")).to_be_focused()


async def say(page: Page, text: str) -> None:
    await page.locator("#chat-input").fill(text)
    await page.locator("#chat-input").press("Enter")


def bot_reply(server: Server, text: str, lang: str) -> Any:
    reply = server.app[SERVICE].bot.reply(text, lang)
    assert reply.handoff_reason is None, f"the intents no longer answer {text!r}"
    return reply


async def test_visitor_asks_and_sees_the_bots_answer_with_quick_replies(server: Server, browser: Session) -> None:
    page = await browser.page()
    await open_widget(page, server.url + "/")
    await shot(page, "widget-open-desktop.png")
    reply = bot_reply(server, HEAT_EN, "en")
    await say(page, HEAT_EN)
    await expect(page.locator(".msg-visitor .text")).to_have_text([HEAT_EN])
    await expect(page.locator(".msg-bot .text")).to_have_text([reply.text])
    await expect(page.locator(".chip")).to_have_text(list(reply.quick_replies))
    await shot(page, "widget-conversation-desktop.png")
    await page.locator(".chip").first.click()
    await expect(page.locator(".msg-visitor .text").last).to_have_text(reply.quick_replies[0])
    await expect(page.locator(".msg-bot")).to_have_count(2)
    await page.keyboard.press("Escape")
    await expect(page.locator(".panel")).to_be_hidden()
    await expect(page.get_by_role("button", name="Chat with us")).to_be_focused()


async def test_unknown_question_with_nobody_online_offers_the_contact_form(server: Server, browser: Session) -> None:
    page = await browser.page(**PHONE)
    await open_widget(page, server.url + "/")
    await say(page, UNKNOWN)
    await expect(page.locator(".notice")).to_have_text(re.compile("No one is online right now"))
    await page.get_by_role("button", name="Leave my contact details").click()
    await page.get_by_label("Name").fill("Ana Ruiz")
    await page.get_by_label("Email").fill("ana@example.org")
    await shot(page, "widget-contact-form-phone.png")
    await page.get_by_role("button", name="Send my details").click()
    await expect(page.locator(".notice")).to_have_text(re.compile("we have your details"))
    await expect(page.locator(".msg-system .text").last).to_contain_text("Ana Ruiz")
    queue = await server.app[DESK].queue()
    assert queue[0]["contact"] == {"name": "Ana Ruiz", "email": "ana@example.org", "phone": None}


async def sign_in(page: Page, server: Server, token: str) -> None:
    await page.goto(server.url + "/console")
    await page.get_by_label("Representative token").fill(token)
    await page.get_by_role("button", name="Sign in", exact=True).click()


async def test_representative_takes_and_both_sides_chat(server: Server, browser: Session, representatives) -> None:
    rep = await representatives(server, "Maria", connect=False)
    console = await browser.page(1280, 800)
    await sign_in(console, server, rep.token)
    await expect(console.locator("#who")).to_have_text("Signed in as Maria")

    visitor = await browser.page(**PHONE)
    await open_widget(visitor, server.url + "/")
    await say(visitor, UNKNOWN)
    await expect(visitor.locator(".notice")).to_have_text(re.compile("You are number 1 in line"))
    card = console.locator("#queue li")
    await expect(card).to_have_count(1)
    await expect(card).to_contain_text("waiting")
    await expect(console).to_have_title("(1) Chat console")  # and a beep, or a notification in the background
    await card.get_by_role("button", name=re.compile("^Take")).click()
    await expect(visitor.locator(".msg-system .text").last).to_have_text("Maria has joined the conversation.")
    await expect(visitor.locator(".subtitle")).to_have_text("You are chatting with Maria")

    reply = console.get_by_label("Your reply")
    await reply.press_sequentially("Hello, I am Maria")
    await expect(visitor.locator(".typing")).to_have_text("Maria is typing…")
    await reply.press("Enter")
    await expect(visitor.locator(".msg-agent .text")).to_have_text(["Hello, I am Maria"])
    await expect(visitor.locator(".typing")).to_be_hidden()

    await visitor.locator("#chat-input").press_sequentially("Does heat help")
    await expect(console.locator(".conversation .typing")).to_contain_text("is typing…")
    await visitor.locator("#chat-input").fill(HEAT_EN)
    await visitor.locator("#chat-input").press("Enter")
    await expect(console.locator(".conversation .msg-visitor .text").last).to_have_text(HEAT_EN)
    answer = bot_reply(server, HEAT_EN, "en")
    suggestion = console.locator(".suggestions button").first
    await expect(suggestion).to_contain_text(answer.text)  # agent assist: the bot's best answer, one click away
    await suggestion.click()
    await expect(visitor.locator(".msg-agent .text").last).to_have_text(answer.text)

    await console.get_by_text("Canned answers").click()
    await console.get_by_label("Search canned answers").fill(answer.intent)
    await console.locator(".canned-list button").first.click()
    await expect(reply).to_have_value(answer.text)
    await reply.fill("Anything else?")
    await reply.press("Enter")
    await expect(visitor.locator(".msg-agent .text").last).to_have_text("Anything else?")
    await shot(visitor, "widget-conversation-phone.png")
    await shot(console, "console-conversation.png")

    await console.get_by_role("button", name="Close conversation").click()
    await expect(visitor.locator(".closed")).to_be_visible()
    await visitor.get_by_role("button", name="Start a new conversation").click()
    await expect(visitor.locator(".msg")).to_have_count(0)
    await say(visitor, HEAT_EN)
    await expect(visitor.locator(".msg-bot")).to_have_count(1)


async def test_a_second_representative_is_told_when_someone_else_won(server: Server, browser: Session,
                                                                     representatives, visitors) -> None:
    consoles = []
    for name in ("Maria", "Jorge"):
        rep = await representatives(server, name, connect=False)
        console = await browser.page()
        await sign_in(console, server, rep.token)
        consoles.append(console)
    visitor = await visitors(server.url)
    await visitor.say(UNKNOWN)
    for console in consoles:
        await expect(console.locator("#queue li button", has_text="Take")).to_have_count(1)
    # Both click in the same instant, so both takes are on the wire before either hears of the other.
    at = await consoles[0].evaluate("Date.now() + 300")
    click = ("at => new Promise(done => setTimeout(() => {"
             " document.querySelector('#queue li .primary').click(); done(); }, at - Date.now()))")
    await asyncio.gather(*(console.evaluate(click, at) for console in consoles))
    for console in consoles:
        await expect(console.locator("#alert:visible, .conversation:visible")).to_have_count(1)
    outcomes = [await console.locator("#alert").is_visible() for console in consoles]
    assert sorted(outcomes) == [False, True]
    loser = consoles[outcomes.index(True)]
    await expect(loser.locator("#alert")).to_have_text("Someone else has already taken this conversation.")


def urgent_phrase(server: Server) -> str:
    """A message the red-flag rules catch (the list belongs to chatbot/bot/redflags.py, not to this test)."""
    candidates = ("I suddenly can't control my bladder", "I have chest pain", "tengo dolor en el pecho")
    for text in candidates:
        if server.app[SERVICE].bot.reply(text, "en").handoff_reason == "urgent":
            return text
    raise AssertionError(f"none of {candidates} is caught as urgent any more; update this list")


async def test_emergency_advice_stands_out_live_and_after_a_reload(server: Server, browser: Session) -> None:
    page = await browser.page(**PHONE)
    await open_widget(page, server.url + "/")
    await say(page, urgent_phrase(server))
    urgent = page.locator(".msg-bot.urgent")
    await expect(urgent).to_have_count(1)
    await expect(urgent.locator(".flag")).to_have_text("⚠ Urgent")
    await shot(page, "widget-emergency-phone.png")
    await page.reload()
    await expect(page.locator(".msg-bot.urgent")).to_have_count(1)


async def test_reload_and_a_new_tab_continue_the_conversation(server: Server, browser: Session) -> None:
    page = await browser.page()
    await open_widget(page, server.url + "/")
    await say(page, HEAT_EN)
    await expect(page.locator(".msg-bot")).to_have_count(1)
    await say(page, HEAT_EN)
    await expect(page.locator(".msg-bot")).to_have_count(2)
    await expect(page.locator(".msg-visitor:not(.pending)")).to_have_count(2)
    before = await page.locator(".msg").evaluate_all("nodes => nodes.map(n => n.dataset.id)")
    await page.reload()
    await expect(page.locator(".panel")).to_be_visible()  # it was open: it stays open
    await expect(page.locator(".msg")).to_have_count(len(before))
    assert await page.locator(".msg").evaluate_all("nodes => nodes.map(n => n.dataset.id)") == before
    second = await browser.tab(page.context)
    await open_widget(second, server.url + "/")
    await expect(second.locator(".msg")).to_have_count(len(before))
    await say(second, "one more thing")
    await expect(page.locator(".msg-visitor .text").last).to_have_text("one more thing")


async def test_widget_reconnects_and_sends_what_was_typed_during_a_network_drop(server: Server,
                                                                              browser: Session) -> None:
    page = await browser.page()
    await open_widget(page, server.url + "/")
    await say(page, HEAT_EN)
    await expect(page.locator(".msg-bot")).to_have_count(1)
    await page.context.set_offline(True)
    await expect(page.locator(".notice")).to_have_text("Connection lost. Reconnecting…")
    await say(page, "typed while offline")
    await expect(page.locator(".msg-visitor.pending .status")).to_have_text("Sending…")
    await page.context.set_offline(False)
    await expect(page.locator(".msg-visitor.pending")).to_have_count(0, timeout=15_000)
    await expect(page.locator(".msg-visitor .text")).to_have_text([HEAT_EN, "typed while offline"])
    await expect(page.locator(".notice")).not_to_contain_text("Reconnecting")
    token = await page.evaluate("Object.keys(localStorage).map(k => localStorage.getItem(k))[0]")
    conversation = await server.app[STORE].conversation_by_token(token)
    texts = [m.text for m in await server.app[STORE].messages(conversation.id) if m.sender == "visitor"]
    assert texts == [HEAT_EN, "typed while offline"]


async def test_html_in_messages_is_shown_as_text_and_never_runs(server: Server, browser: Session,
                                                                representatives) -> None:
    rep = await representatives(server, "Maria", connect=False)
    console = await browser.page()
    await sign_in(console, server, rep.token)
    page = await browser.page()
    await open_widget(page, server.url + "/")
    await say(page, HTML)
    await expect(page.locator(".msg-visitor .text")).to_have_text([HTML])
    await console.locator("#queue li").get_by_role("button", name=re.compile("^Watch")).click()
    await expect(console.locator(".conversation .msg-visitor .text")).to_have_text([HTML])
    await expect(console.get_by_label("Your reply")).to_be_hidden()  # watching: no reply box
    await console.locator(".conversation").get_by_role("button", name="Take").click()
    await console.get_by_label("Your reply").fill("<b>bold</b> " + HTML)
    await console.get_by_label("Your reply").press("Enter")
    await expect(page.locator(".msg-agent .text")).to_have_text(["<b>bold</b> " + HTML])
    await page.wait_for_timeout(300)  # time for an onerror handler to fire, were there an <img>
    assert await page.locator(".log img, .log b").count() == 0
    assert await console.locator(".log img, .log b, #queue img").count() == 0


async def _other_site(lang: str, server: Server) -> tuple[web.AppRunner, str]:
    """Someone else's site (another origin) with hostile global CSS and the one-line snippet."""
    snippet = f'<script src="{server.url}/widget.js" data-lang="{lang}" async></script>'
    html = ("<!doctype html><html><head><style>* { color: rgb(255, 0, 0); font-family: monospace; } "
            "div { transform: scale(0.5); }</style></head><body><p>Our own page</p>" + snippet + "</body></html>")

    async def index(request: web.Request) -> web.Response:
        return web.Response(text=html, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", index)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "localhost", 0)
    await site.start()
    return runner, f"http://localhost:{runner.addresses[0][1]}/"


async def test_spanish_widget_on_another_site_answers_in_spanish(server: Server, browser: Session) -> None:
    runner, url = await _other_site("es", server)
    try:
        page = await browser.page(**PHONE)
        await page.add_init_script(RECORD_GLOBALS)
        await open_widget(page, url, label="Chatee con nosotros")
        reply = bot_reply(server, HEAT_ES, "es")
        await say(page, HEAT_ES)
        await expect(page.locator(".msg-bot .text")).to_have_text([reply.text])
        await expect(page.locator(".msg-visitor .who")).to_have_text(["Usted"])
        await shot(page, "widget-spanish-phone.png")
        assert await page.evaluate(NEW_GLOBALS) == []
        color = "n => getComputedStyle(n).color"
        assert await page.locator("p", has_text="Our own page").evaluate(color) == "rgb(255, 0, 0)"  # theirs
        assert await page.locator(".msg-bot .text").evaluate(color) != "rgb(255, 0, 0)"  # ours
        box = await page.locator(".panel").bounding_box()
        assert box is not None and box["width"] == PHONE["width"]
    finally:
        await runner.cleanup()


async def test_a_site_missing_from_allowed_origins_cannot_connect(make_server, browser: Session) -> None:
    server = await make_server(allowed_origins=("https://www.example-clinic.com",))
    runner, url = await _other_site("en", server)
    try:
        page = await browser.page()
        await open_widget(page, url)
        await expect(page.locator(".notice")).to_have_text("The chat is not available right now. Trying again…")
    finally:
        await runner.cleanup()


async def test_console_refuses_a_wrong_token(server: Server, browser: Session) -> None:
    console = await browser.page()
    await console.add_init_script(RECORD_GLOBALS)
    await sign_in(console, server, "not-a-real-token")
    await expect(console.locator("#sign-in-error")).to_have_text("That token is not valid")
    assert await console.evaluate(NEW_GLOBALS) == []
    assert await console.evaluate("sessionStorage.length") == 0
    await shot(console, "console-sign-in-refused.png")


# -- the HTTP side of pages.py ------------------------------------------------

async def test_widget_script_is_small_gzipped_and_cacheable(server: Server) -> None:
    async with aiohttp.ClientSession(auto_decompress=False) as http:
        async with http.get(server.url + "/widget.js", headers={"Accept-Encoding": "gzip"}) as response:
            body = await response.read()
            assert response.status == 200
            assert response.headers["Content-Type"] == "application/javascript; charset=utf-8"
            assert response.headers["Content-Encoding"] == "gzip"
            etag = response.headers["ETag"]
        async with http.get(server.url + "/widget.js", headers={"If-None-Match": etag}) as again:
            assert again.status == 304
    assert len(body) < 50_000, f"/widget.js is {len(body)} bytes gzipped"
    status, text = await server.get("/widget.js", headers={"Accept-Encoding": "identity"})
    assert status == 200 and "Socket.IO client (MIT License)" in text
    assert text.rstrip().endswith("//# sourceMappingURL=widget.js.map")


async def test_source_maps_lead_back_to_the_es_modules(server: Server) -> None:
    for path, entry in (("/widget.js.map", "widget.js"), ("/console/console.js.map", "console.js")):
        status, source_map = await server.get(path)
        assert status == 200, path
        ours = {Path(name).name for name in source_map["sources"] if "node_modules" not in name}
        assert {entry, "common.js"} <= ours, ours
        assert any("socket.io-client" in name for name in source_map["sources"])


async def test_scripts_answer_503_until_they_are_built(make_server, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(pages, "BUNDLES", tmp_path / "not-built")
    server = await make_server()
    for path in ("/widget.js", "/console/console.js", "/widget.js.map"):
        status, text = await server.get(path)
        assert status == 503 and "npm run build" in text, path
    assert (await server.get("/healthz"))[0] == 200
    assert (await server.get("/"))[0] == 200


async def test_a_build_older_than_its_sources_is_served_with_a_warning(make_server, monkeypatch, tmp_path: Path,
                                                                       caplog: pytest.LogCaptureFixture) -> None:
    old = tmp_path / "old-build"
    shutil.copytree(pages.BUNDLES, old)
    for built in old.iterdir():
        os.utime(built, (0, 0))
    monkeypatch.setattr(pages, "BUNDLES", old)
    with caplog.at_level(logging.WARNING, logger=pages.__name__):
        server = await make_server()
    assert (await server.get("/widget.js"))[0] == 200
    assert "widget.js" in caplog.text and "changed after the last build: run `npm run build`" in caplog.text


async def test_canned_answers_need_a_representative_token(server: Server, representatives) -> None:
    rep = await representatives(server, "Maria", connect=False)
    assert (await server.get("/console/canned.json"))[0] == 401
    assert (await server.get("/console/canned.json", headers={"Authorization": "Bearer wrong"}))[0] == 401
    status, canned = await server.get("/console/canned.json", headers={"Authorization": f"Bearer {rep.token}"})
    assert status == 200
    intents = server.app[SERVICE].bot.intents
    expected = {(i.id, lang) for i in intents.values() if i.action is None for lang in ("en", "es")}
    assert {(c["intent"], c["lang"]) for c in canned} == expected
    assert all(c["text"] == intents[c["intent"]].texts[c["lang"]].answer.strip() for c in canned)
    status, me = await server.get("/console/me.json", headers={"Authorization": f"Bearer {rep.token}"})
    assert status == 200 and me["name"] == "Maria"


async def test_the_demo_page_comes_in_both_languages_and_the_console_page_is_served(server: Server) -> None:
    status, text = await server.get("/")
    assert status == 200 and 'data-lang="en"' in text and "También disponible en español" in text
    status, text = await server.get("/?lang=es")
    assert status == 200 and 'data-lang="es"' in text and "Upper Back Muscle Pain" in text
    status, text = await server.get("/console")
    assert status == 200 and "/console/console.js" in text

