"""The console (chatbot/web/static/console.js) signed in with an account in Debian's Chromium: a wrong password
refused, the session cookie out of the script's reach, the queue taken, a reload signed in again by the cookie,
and signing out ending the session on the server."""

from __future__ import annotations

import re
from typing import Any

from chatbot.shared import totp
from chatbot.web.app import STORE
from tests.conftest import Server
from tests.test_browser import (  # noqa: F401  (browser is a fixture)
    PHONE,
    UNKNOWN,
    Session,
    browser,
    open_widget,
    say,
)
from tests.test_staff_sessions import PASSWORD, password_hash

try:
    from playwright.async_api import expect
except ImportError:  # the fixtures skip (or fail in CI) with the reason
    expect = None



async def test_an_agent_signs_in_with_email_and_password_and_takes_a_conversation(server: Server,
                                                                                  browser: Session) -> None:  # noqa: F811
    await server.app[STORE].create_user("ana@clinic.example", "Ana", "agent", password_hash())
    console = await browser.page(1280, 800)
    await console.goto(server.url + "/console")
    await console.get_by_label("Email").fill("ana@clinic.example")
    await console.get_by_label("Password").fill("not the password at all")
    await console.get_by_role("button", name="Sign in with email").click()
    await expect(console.locator("#account-error")).to_have_text("Wrong email or password.")

    await console.get_by_label("Password").fill(PASSWORD)
    await console.get_by_role("button", name="Sign in with email").click()
    await expect(console.locator("#who")).to_have_text("Signed in as Ana")
    await expect(console.locator("#connection")).to_have_text("Connected")
    assert "chatbot_session" not in await console.evaluate("document.cookie"), "HttpOnly: scripts never see it"
    assert await console.evaluate("sessionStorage.length") == 0, "no token kept: the cookie is the sign-in"

    visitor = await browser.page(**PHONE)
    await open_widget(visitor, server.url + "/")
    await say(visitor, UNKNOWN)
    card = console.locator("#queue li")
    await expect(card).to_have_count(1)
    await card.get_by_role("button", name=re.compile("^Take")).click()
    await expect(visitor.locator(".subtitle")).to_have_text("You are chatting with Ana")

    await console.reload()
    await expect(console.locator("#who")).to_have_text("Signed in as Ana")
    await expect(console.locator("#connection")).to_have_text("Connected")

    await console.get_by_role("button", name="Sign out").click()
    await expect(console.locator("#sign-in-view")).to_be_visible()
    await console.reload()
    await expect(console.locator("#sign-in-view")).to_be_visible()
    await expect(console.locator("#who")).to_have_text("")


async def test_a_supervisor_must_turn_on_two_step_sign_in_with_the_qr_code_then_signs_in_with_a_code(
        make_server, browser: Session) -> None:  # noqa: F811
    server = await make_server(totp_key=totp.new_key(), require_2fa=("supervisor",))
    await server.app[STORE].create_user("sam@clinic.example", "Sam", "supervisor", password_hash())
    console = await browser.page(1280, 800)
    await console.goto(server.url + "/console")
    await console.get_by_label("Email").fill("sam@clinic.example")
    await console.get_by_label("Password").fill(PASSWORD)
    await console.get_by_role("button", name="Sign in with email").click()
    await expect(console.locator("#enrol-required")).to_be_visible()
    qr = console.get_by_role("img", name="QR code for your authenticator app")
    await expect(qr).to_be_visible()
    assert await qr.evaluate("img => img.naturalWidth") > 100, "the server's SVG QR code was drawn"
    secret = (await console.locator("#totp-secret").text_content() or "").replace(" ", "")
    await console.get_by_label("The 6-digit code your app shows").fill(totp.code_at(secret, totp.current_step()))
    await console.get_by_role("button", name="Turn on").click()
    await expect(console.locator("#recovery-codes li")).to_have_count(10)
    await console.get_by_role("button", name="I have kept them").click()
    await expect(console.locator("#connection")).to_have_text("Connected")

    await console.get_by_role("button", name="Sign out").click()
    await console.get_by_label("Email").fill("sam@clinic.example")
    await console.get_by_label("Password").fill(PASSWORD)
    await console.get_by_role("button", name="Sign in with email").click()
    await expect(console.locator("#account-error")).to_have_text(re.compile("^Enter the 6-digit code"))
    await console.get_by_label("Code from your authenticator app").fill(totp.code_at(secret, totp.current_step() + 1))
    await console.get_by_role("button", name="Sign in with email").click()
    await expect(console.locator("#who")).to_have_text("Signed in as Sam")
    await expect(console.locator("#connection")).to_have_text("Connected")


async def test_the_dashboard_takes_an_admins_account_shows_a_supervisor_the_figures_and_refuses_an_agent(
        server: Server, browser: Session) -> None:  # noqa: F811
    for email, name, role in (("ada@clinic.example", "Ada", "admin"), ("ana@clinic.example", "Ana", "agent"),
                              ("sam@clinic.example", "Sam", "supervisor")):
        await server.app[STORE].create_user(email, name, role, password_hash())
    page = await browser.page(1280, 800)
    await page.goto(server.url + "/admin")
    await page.get_by_label("Email").fill("ana@clinic.example")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in with email").click()
    await expect(page.locator("#sign-in-error")).to_have_text(re.compile(r"^The admin API is for admins .*"
                                                                         r"your role is agent\.$"))
    await expect(page.locator("#board")).to_be_hidden()

    await page.get_by_label("Email").fill("sam@clinic.example")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in with email").click()
    await expect(page.locator("canvas[role=img]")).to_have_count(6)
    await expect(page.locator("#intents-card")).to_be_hidden()  # the intents and transcripts are the admins'
    await expect(page.locator("#transcripts-card")).to_be_hidden()
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.locator("#board")).to_be_hidden()

    await page.get_by_label("Email").fill("ada@clinic.example")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in with email").click()
    await expect(page.locator("canvas[role=img]")).to_have_count(6)
    await page.reload()  # the session cookie signs the page in again; no token was kept
    await expect(page.locator("canvas[role=img]")).to_have_count(6)
    assert await page.evaluate("sessionStorage.length") == 0
    await page.get_by_role("button", name="Sign out").click()
    await page.reload()
    await expect(page.locator("#board")).to_be_hidden()


async def console_signed_in(browser: Session, server: Server, email: str) -> Any:  # noqa: F811
    page = await browser.page(1280, 800)
    await page.goto(server.url + "/console")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in with email").click()
    await expect(page.locator("#connection")).to_have_text("Connected")
    return page


async def test_a_private_note_and_a_transfer_from_the_console(server: Server, browser: Session) -> None:  # noqa: F811
    for email, name, role in (("ana@clinic.example", "Ana", "agent"), ("sam@clinic.example", "Sam", "supervisor")):
        await server.app[STORE].create_user(email, name, role, password_hash())
    ana = await console_signed_in(browser, server, "ana@clinic.example")
    sam = await console_signed_in(browser, server, "sam@clinic.example")
    visitor = await browser.page(**PHONE)
    await open_widget(visitor, server.url + "/")
    await say(visitor, UNKNOWN)
    await ana.locator("#queue li").get_by_role("button", name=re.compile("^Take")).click()
    await expect(visitor.locator(".subtitle")).to_have_text("You are chatting with Ana")
    await expect(sam.locator("#holders li", has_text="Ana")).to_contain_text("holds Visitor")  # the live view
    await expect(ana.locator("#holders-section")).to_be_hidden()  # agents do not get it

    await ana.get_by_text("Private notes").click()
    await ana.get_by_label("Private note").fill("Allergic to penicillin NOTE-1")
    await ana.get_by_role("button", name="Add note").click()
    await expect(ana.locator(".notes-list li")).to_contain_text("Allergic to penicillin NOTE-1")
    await ana.get_by_role("button", name="Transfer…").click()
    await ana.get_by_label("Transfer to").select_option(label="Sam")
    await ana.get_by_label("Handover note").fill("Call back after 5 pm NOTE-2")
    await ana.get_by_role("button", name="Transfer", exact=True).click()
    await expect(visitor.locator(".subtitle")).to_have_text("You are chatting with Sam")
    await expect(sam.locator(".notes-list li")).to_have_count(2)  # the console opened the conversation given to Sam
    await expect(sam.get_by_role("textbox", name="Your reply")).to_be_visible()
    assert "NOTE-" not in await visitor.content()
