"""The widget and the console for everyone: axe-core's WCAG 2.1 A/AA rules, the keyboard alone, screen readers.

axe-core (pinned in package.json, ``node_modules/axe-core/axe.min.js``) is
evaluated in each page over the DevTools protocol, which the pages'
Content-Security-Policy does not apply to, so the pages are tested with the
headers they really have. It reaches into the widget's open shadow root. Each
state a visitor or a representative can see is checked for serious and critical
violations; moderate ones (best practices such as regions) are not the bar.

The browser fixture and the small page helpers are
tests/test_browser.py's (Chromium itself is started by tests/conftest.py): one way to drive the pages.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from chatbot.web.app import DESK, STORE
from tests.conftest import ROOT, Server
from tests.test_browser import (
    HEAT_EN,
    HEAT_ES,
    PHONE,
    UNKNOWN,
    Session,
    bot_reply,
    browser,
    open_widget,
    say,
    shot,
    sign_in,
)

try:
    from playwright.async_api import Page, expect
except ImportError:  # test_browser's fixture skips (or fails in CI) without Playwright
    pass

FIXTURES = (browser,)  # tests/test_browser.py's fixture, used here by name
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
RUN_AXE = """async tags => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"],
                                          rules: {"label-content-name-mismatch": {enabled: true}}});
  return result.violations.filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => ({rule: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.flat().join(" "))}));
}"""
SETTLED = """() => Promise.all([document, ...[...document.querySelectorAll("*")].flatMap(e => e.shadowRoot || [])]
  .flatMap(root => root.getAnimations()).map(animation => animation.finished))"""
"""Waits out running animations, the widget's shadow root's too: half-way through the panel's 0.18 s fade-in, axe
measures its text at part opacity, and the bot's answer can now arrive within that time."""


async def serious_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical WCAG 2.1 A/AA violations in the page as it is now."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm ci` (axe-core is a dev dependency in package.json)")
    if not await page.evaluate("typeof axe !== 'undefined'"):
        await page.evaluate(AXE.read_text(encoding="utf-8"))
    await page.evaluate(SETTLED)
    found: list[dict[str, Any]] = await page.evaluate(RUN_AXE, WCAG21_AA)
    return found


def summary(found: list[dict[str, Any]]) -> str:
    return "; ".join(f"{v['rule']} ({v['impact']}) x{len(v['nodes'])}: {v['nodes'][:3]}" for v in found)


async def assert_accessible(page: Page, state: str) -> None:
    found = await serious_violations(page)
    assert found == [], f"{state}: {sum(len(v['nodes']) for v in found)} serious/critical: {summary(found)}"


# -- axe: every state ------------------------------------------------------------


async def test_widget_closed_and_open_have_no_serious_violations(server: Server, browser: Session) -> None:
    page = await browser.page()
    await page.goto(server.url + "/")
    await expect(page.get_by_role("button", name="Chat with us")).to_be_visible()
    await assert_accessible(page, "widget closed")
    await open_widget(page, server.url + "/")
    await say(page, HEAT_EN)
    await expect(page.locator(".chip")).to_have_count(len(bot_reply(server, HEAT_EN, "en").quick_replies))
    await assert_accessible(page, "widget open, with an answer and quick replies")


async def test_spanish_widget_open_has_no_serious_violations(server: Server, browser: Session) -> None:
    page = await browser.page()
    await open_widget(page, server.url + "/?lang=es", label="Chatee con nosotros")
    await say(page, HEAT_ES)
    await expect(page.locator(".msg-bot .text")).to_have_text([bot_reply(server, HEAT_ES, "es").text])
    await assert_accessible(page, "Spanish widget open, with an answer")


async def test_widget_queued_has_no_serious_violations(server: Server, browser: Session, representatives) -> None:
    await representatives(server, "Maria")
    page = await browser.page(**PHONE)
    await open_widget(page, server.url + "/")
    await say(page, UNKNOWN)
    await expect(page.locator(".notice")).to_have_text(re.compile("You are number 1 in line"))
    await assert_accessible(page, "widget queued")


async def test_widget_contact_form_has_no_serious_violations(server: Server, browser: Session) -> None:
    page = await browser.page()
    await open_widget(page, server.url + "/")
    await say(page, UNKNOWN)
    await page.get_by_role("button", name="Leave my contact details").click()
    await expect(page.get_by_label("Name")).to_be_focused()
    await assert_accessible(page, "widget contact form")


async def test_console_has_no_serious_violations(server: Server, browser: Session, representatives,
                                                 visitors) -> None:
    rep = await representatives(server, "Maria", connect=False)
    console = await browser.page()
    await console.goto(server.url + "/console")
    await assert_accessible(console, "console sign-in")
    await sign_in(console, server, rep.token)
    visitor = await visitors(server.url)
    await visitor.say(UNKNOWN)
    await expect(console.locator("#queue li")).to_have_count(1)
    await assert_accessible(console, "console with a queue")
    await console.locator("#queue li").get_by_role("button", name=re.compile("^Take")).click()
    await expect(console.get_by_label("Your reply")).to_be_visible()
    await assert_accessible(console, "console with a conversation")


# -- the keyboard alone, with visible focus ---------------------------------------

FOCUSED = "n => n.getRootNode().activeElement === n"
# A focus indicator a sighted keyboard user can see: an outline at least 2 px wide.
FOCUS_RING = "n => getComputedStyle(n).outlineStyle !== 'none' && parseFloat(getComputedStyle(n).outlineWidth) >= 2"


async def tab_to(page: Page, target: Any, backwards: bool = False, limit: int = 40) -> None:
    """Press Tab (or Shift+Tab) until ``target`` has the focus, and check that the focus can be seen."""
    for _ in range(limit):
        await page.keyboard.press("Shift+Tab" if backwards else "Tab")
        if await target.evaluate(FOCUSED):
            assert await target.evaluate(FOCUS_RING), f"no visible focus on {target}"
            return
    raise AssertionError(f"{limit} presses of Tab never reached {target}")


async def test_widget_open_ask_quick_reply_rate_and_close_by_keyboard(server: Server, browser: Session,
                                                                     representatives) -> None:
    rep = await representatives(server, "Maria")
    page = await browser.page()
    await page.goto(server.url + "/")
    launcher = page.get_by_role("button", name="Chat with us")
    await tab_to(page, launcher)
    await page.keyboard.press("Enter")
    await expect(page.locator("#chat-input")).to_be_focused()  # focus moved into the panel

    reply = bot_reply(server, HEAT_EN, "en")
    await page.keyboard.type(HEAT_EN)
    await page.keyboard.press("Enter")
    await expect(page.locator(".msg-bot .text")).to_have_text([reply.text])
    await tab_to(page, page.locator(".chip").last, backwards=True)
    await page.keyboard.press("Enter")
    await expect(page.locator(".msg-visitor .text").last).to_have_text(reply.quick_replies[-1])
    await expect(page.locator("#chat-input")).to_be_focused()

    await page.keyboard.type(UNKNOWN)
    await page.keyboard.press("Enter")
    queue = await rep.next("queue", lambda q: len(q) == 1)
    assert (await rep.take(queue[0]["id"]))["ok"]
    await expect(page.locator(".subtitle")).to_have_text("You are chatting with Maria")
    assert (await rep.call("close", {"conversation_id": queue[0]["id"]}))["ok"]

    await expect(page.get_by_role("radio", name="1, poor")).to_be_focused()  # the composer went: focus did not
    await assert_accessible(page, "widget rating")
    for _ in range(4):
        await page.keyboard.press("ArrowRight")
    await expect(page.get_by_role("radio", name="5, excellent")).to_be_checked()
    await tab_to(page, page.get_by_label("Anything to add? (optional)"))
    await page.keyboard.type("Very kind")
    await tab_to(page, page.get_by_role("button", name="Send my rating"))
    await page.keyboard.press("Enter")
    await expect(page.locator(".rated")).to_have_text("Thank you for your rating.")
    await expect(page.get_by_role("button", name="Start a new conversation")).to_be_focused()
    conversation = await server.app[STORE].conversation(queue[0]["id"])
    assert (conversation.rating, conversation.rating_comment) == (5, "Very kind")

    await page.keyboard.press("Escape")
    await expect(page.locator(".panel")).to_be_hidden()
    await expect(launcher).to_be_focused()  # and back to the launcher


async def test_widget_contact_details_by_keyboard(server: Server, browser: Session) -> None:
    page = await browser.page()
    await open_widget(page, server.url + "/")
    await page.keyboard.type(UNKNOWN)
    await page.keyboard.press("Enter")
    offer = page.get_by_role("button", name="Leave my contact details")
    await tab_to(page, offer, backwards=True)
    await page.keyboard.press("Enter")
    await expect(page.get_by_label("Name")).to_be_focused()
    await page.keyboard.type("Ana Ruiz")
    await tab_to(page, page.get_by_label("Email"))
    await page.keyboard.type("ana@example.org")
    await tab_to(page, page.get_by_role("button", name="Send my details"))
    await page.keyboard.press("Enter")
    await expect(page.locator(".notice")).to_have_text(re.compile("we have your details"))
    await expect(page.locator("#chat-input")).to_be_focused()
    assert (await server.app[DESK].queue())[0]["contact"]["email"] == "ana@example.org"


async def test_console_take_reply_and_close_by_keyboard(server: Server, browser: Session, representatives,
                                                        visitors) -> None:
    rep = await representatives(server, "Maria", connect=False)
    console = await browser.page()
    await console.goto(server.url + "/console")
    await tab_to(console, console.get_by_label("Representative token"))
    await console.keyboard.type(rep.token)
    await console.keyboard.press("Enter")
    await expect(console.locator("#who")).to_have_text("Signed in as Maria")
    visitor = await visitors(server.url)
    await visitor.say(UNKNOWN)
    take = console.locator("#queue li").get_by_role("button", name=re.compile("^Take"))
    await tab_to(console, take)
    await console.keyboard.press("Enter")
    await expect(console.get_by_label("Your reply")).to_be_focused()
    await console.keyboard.type("Hello, I am Maria")
    await console.keyboard.press("Enter")
    said = await visitor.next("message", lambda m: m["sender"] == "agent")
    assert said["text"] == "Hello, I am Maria"
    await tab_to(console, console.get_by_role("button", name="Close conversation"), backwards=True)
    await console.keyboard.press("Enter")
    await visitor.next("state", lambda s: s["state"] == "closed")
    await expect(console.get_by_role("button", name="Close tab")).to_be_focused()  # the pressed button went


# -- what screen readers are told: the accessibility tree -----------------------------


async def test_new_messages_and_state_changes_are_in_live_regions(server: Server, browser: Session,
                                                                  representatives) -> None:
    rep = await representatives(server, "Maria")
    page = await browser.page()
    await open_widget(page, server.url + "/")
    await say(page, HEAT_EN)
    reply = bot_reply(server, HEAT_EN, "en")
    panel = page.get_by_role("dialog", name="Chat with us")
    # role=log and role=status are live regions: what is added inside them is read out.
    await expect(panel).to_match_aria_snapshot(in_the_log("Assistant", reply.text))
    await say(page, UNKNOWN)
    await expect(panel).to_match_aria_snapshot("- status: /You are number 1 in line/")
    queue = await rep.next("queue", lambda q: len(q) == 1)
    await rep.take(queue[0]["id"])
    await expect(panel).to_match_aria_snapshot(in_the_log(None, "Maria has joined the conversation."))
    await rep.say(queue[0]["id"], "How can I help?")
    await expect(panel).to_match_aria_snapshot(in_the_log("Maria", "How can I help?"))


def in_the_log(who: str | None, text: str) -> str:
    """An aria snapshot template: a message by ``who`` (None: a notice) among the items of the log's list."""
    said = f"      - text: {who}\n" if who else ""
    return f'- log "Conversation":\n  - list:\n    - listitem:\n{said}      - paragraph: {json.dumps(text)}\n'


# -- motion, zoom and narrow screens ----------------------------------------------------


@pytest.mark.parametrize(("motion", "animation"), [("reduce", "none"), ("no-preference", "rise")])
async def test_the_panel_moves_only_when_motion_is_welcome(server: Server, browser: Session, motion: str,
                                                           animation: str) -> None:
    page = await browser.page(reduced_motion=motion)
    await open_widget(page, server.url + "/")
    assert await page.locator(".panel").evaluate("n => getComputedStyle(n).animationName") == animation


@pytest.mark.parametrize(("width", "height"), [(320, 568), (640, 400)], ids=["320px-wide", "1280x800-at-200%"])
async def test_widget_is_usable_narrow_and_zoomed(server: Server, browser: Session, width: int, height: int) -> None:
    page = await browser.page(width, height)
    await open_widget(page, server.url + "/")
    for part in (page.locator(".panel"), page.locator("#chat-input"), page.get_by_role("button", name="Send"),
                 page.get_by_role("button", name="End chat"), page.get_by_role("button", name="Close chat window")):
        await expect(part).to_be_in_viewport(ratio=1)
    assert await page.locator(".panel").evaluate("n => n.scrollWidth <= n.clientWidth"), "the panel scrolls sideways"
    await say(page, HEAT_EN)
    await expect(page.locator(".msg-bot .text")).to_have_text([bot_reply(server, HEAT_EN, "en").text])
    await expect(page.locator(".msg-bot")).to_be_in_viewport()
    await assert_accessible(page, f"widget at {width}x{height}")


# -- a form the bot offers, by keyboard alone ---------------------------------------------


async def test_widget_form_by_keyboard_with_errors_announced(server: Server, browser: Session) -> None:
    page = await browser.page()
    await open_widget(page, server.url + "/")
    await page.keyboard.type("How do I request an MRI review?")
    await page.keyboard.press("Enter")
    offer = page.get_by_role("button", name="Would you like us to review your MRI?")
    await tab_to(page, offer, backwards=True)
    await page.keyboard.press("Enter")
    name = page.get_by_role("textbox", name="Your name (required)")
    await expect(name).to_be_focused()
    await assert_accessible(page, "widget form")

    email = page.get_by_role("textbox", name="Email (required)")
    await tab_to(page, email)
    await page.keyboard.type("not an email")
    await tab_to(page, page.get_by_role("button", name="Send", exact=True).first)
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("alert").filter(has_text="fields need")).to_have_text(
        "3 fields need your attention.")
    await expect(name).to_be_focused()  # the first refused field
    await expect(name).to_have_attribute("aria-invalid", "true")
    await expect(name).to_have_accessible_description("Your name: this field is required.")
    await expect(email).to_have_accessible_description(re.compile("enter an email address"))
    await shot(page, "widget-form-errors-desktop.png")
    await assert_accessible(page, "widget form with errors")

    await page.keyboard.type("Ana Ruiz")
    await tab_to(page, email)
    await page.keyboard.press("ControlOrMeta+a")
    await page.keyboard.type("ana@example.org")
    consent = page.get_by_role("checkbox", name=re.compile("^I agree that the clinic keeps these details"))
    await tab_to(page, consent)
    await page.keyboard.press("Space")
    await tab_to(page, page.get_by_role("button", name="Send", exact=True).first)
    await page.keyboard.press("Enter")

    await expect(page.locator(".lead-form")).to_have_count(0)
    await expect(page.locator(".msg-system .text").last).to_have_text(
        re.compile("We have received your information for an MRI review"))
    await expect(page.locator("#chat-input")).to_be_focused()
    conversation = (await server.app[STORE].conversations())[0]
    [lead] = await server.app[STORE].leads_of(conversation.id)
    assert lead.values == {"name": "Ana Ruiz", "email": "ana@example.org"} and lead.form_id == "mri_review"


async def test_console_shows_the_forms_a_visitor_sends(server: Server, browser: Session, representatives,
                                                      visitors) -> None:
    rep = await representatives(server, "Maria", connect=False)
    console = await browser.page()
    await sign_in(console, server, rep.token)
    visitor = await visitors(server.url)
    await visitor.say(UNKNOWN)
    await console.locator("#queue li").get_by_role("button", name=re.compile("^Take")).click()
    await expect(console.get_by_label("Your reply")).to_be_visible()
    values = {"name": "Ana Ruiz", "phone": "555 010 2030", "best_time": "evening"}
    assert (await visitor.call("form_submit", {"form_id": "callback", "values": values, "consent": True}))["ok"]
    leads = console.locator(".leads > li")
    await expect(leads).to_have_count(1)
    await expect(leads.locator("ul li")).to_have_text(["name: Ana Ruiz", "phone: 555 010 2030", "best_time: evening"])
    await expect(leads.locator(".meta")).to_have_text(re.compile("^Agreed to: I agree that the clinic keeps my name"))
    await shot(console, "console-lead-desktop.png")
    await assert_accessible(console, "console with a lead")


async def test_widget_prechat_form_comes_first_then_the_composer(make_server, browser: Session) -> None:
    server = await make_server(prechat_form="callback")
    page = await browser.page()
    await page.goto(server.url + "/?lang=es")
    await page.get_by_role("button", name="Chatee con nosotros").click()
    name = page.get_by_role("textbox", name="Su nombre (obligatorio)")
    await expect(name).to_be_focused()
    await expect(page.locator("#chat-input")).to_be_hidden()
    await expect(page.locator(".lead-form").get_by_role("button", name="Cancelar")).to_have_count(0)
    await assert_accessible(page, "widget pre-chat form")
    await page.keyboard.type("Ana Ruiz")
    await tab_to(page, page.get_by_role("textbox", name="Teléfono (obligatorio)"))
    await page.keyboard.type("555 010 2030")
    await tab_to(page, page.get_by_role("checkbox", name=re.compile("^Acepto")))
    await page.keyboard.press("Space")
    await page.keyboard.press("Enter")  # Enter in a form field sends the form
    await expect(page.locator("#chat-input")).to_be_focused()
    await expect(page.locator(".msg-system .text").last).to_have_text(re.compile("^Gracias. Tenemos su solicitud"))
