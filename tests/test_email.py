"""Notification emails through a real SMTP server the test starts (aiosmtpd, with STARTTLS and AUTH): contact
details left while nobody is online and urgent handoffs with nobody online reach the clinic, through the outbox,
with a link to the console and, unless asked for, none of the messages."""

from __future__ import annotations

import asyncio
import email
import json
import re
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from chatbot.shared import smtp
from chatbot.shared.config import Settings
from chatbot.web.app import STORE
from tests.pgcluster import free_port
from tests.receiver import Receiver
from tests.test_browser import Session, browser, open_widget, say
from tests.test_forms import GOOD, MRI_EN

try:
    from playwright.async_api import expect
except ImportError:  # test_browser's fixture skips (or fails in CI) without Playwright
    pass

FIXTURES = (browser,)  # tests/test_browser.py's fixture, used here by name
USER, PASSWORD = "clinic", "s3cret-pass"
TO = "desk@clinic.example"
SAID = "my lower back hurts a lot at night"


@dataclass
class Mailbox:
    """What the SMTP server took: each message, and whether it came over TLS after a good login."""

    messages: list[Message] = field(default_factory=list)
    secure: list[bool] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        self.secure.append(session.ssl is not None and session.authenticated)
        return "250 OK"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (USER.encode(), PASSWORD.encode())
        self.logins.append("ok" if ok else "refused")
        return AuthResult(success=ok, handled=False)

    async def wait(self, count: int, timeout: float = 15.0) -> list[Message]:
        for _ in range(int(timeout / 0.1)):
            if len(self.messages) >= count:
                return self.messages
            await asyncio.sleep(0.1)
        raise AssertionError(f"{len(self.messages)} of {count} emails arrived")


@pytest.fixture
def certificate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, trusted by this process (SSL_CERT_FILE) as a clinic's CA would be."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    return cert, key


@pytest.fixture
def mailbox(certificate: tuple[Path, Path]) -> Iterator[tuple[Mailbox, int]]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
                            auth_required=True, authenticator=box.authenticate)
    controller.start()
    yield box, port
    controller.stop()


def email_settings(port: int, password: str = PASSWORD, **more: Any) -> dict[str, Any]:
    return {"smtp_url": f"smtp://{USER}:{password}@127.0.0.1:{port}", "notify_email": (TO,),
            "public_url": "https://chat.clinic.example", "webhook_retry_first_seconds": 0.2, **more}


def body_of(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


async def test_contact_details_left_with_nobody_online_are_emailed_without_the_messages(make_server, visitors,
                                                                                        mailbox) -> None:
    box, port = mailbox
    server = await make_server(**email_settings(port))
    visitor = await visitors(server.url)
    await visitor.ask(SAID)
    assert (await visitor.call("contact", {"name": "Ana Ruiz", "phone": "+1 555 0100"}))["ok"]
    [message] = await box.wait(1)
    text = body_of(message)
    assert message["Subject"] == "Call back requested on the chat" and message["To"] == TO
    assert "Name: Ana Ruiz" in text and "Phone: +1 555 0100" in text
    assert "https://chat.clinic.example/console" in text and visitor.conversation["id"] in text
    assert SAID not in text and "not in this email" in text
    assert box.secure == [True] and box.logins == ["ok"], "STARTTLS, then the login"


async def test_the_messages_are_in_the_email_only_when_asked_for(make_server, visitors, mailbox) -> None:
    box, port = mailbox
    server = await make_server(**email_settings(port, email_include_text=True))
    visitor = await visitors(server.url)
    await visitor.ask(SAID)
    assert (await visitor.call("contact", {"name": "Ana", "email": "ana@example.com"}))["ok"]
    [message] = await box.wait(1)
    assert f"visitor: {SAID}" in body_of(message)


async def test_an_urgent_handoff_with_nobody_online_is_emailed(make_server, visitors, representatives,
                                                               mailbox) -> None:
    box, port = mailbox
    server = await make_server(**email_settings(port))
    visitor = await visitors(server.url)
    urgent = "I suddenly can't control my bladder and my legs are numb"
    await visitor.say(urgent)
    await visitor.next("state", lambda s: s["state"] == "queued")
    [message] = await box.wait(1)
    assert message["Subject"].startswith("URGENT")
    assert urgent not in body_of(message)
    await representatives(server, "Maria")  # someone is online now: the next urgent handoff is not emailed
    other = await visitors(server.url)
    await other.say(urgent)
    await other.next("state", lambda s: s["state"] == "queued")
    rows = await server.app[STORE].outbox_rows()
    emailed = [r.data["conversation_id"] for r in rows if r.target == "email"]
    assert emailed == [visitor.conversation["id"]]


async def test_a_refused_login_is_retried_and_the_chat_goes_on(make_server, visitors, mailbox) -> None:
    box, port = mailbox
    server = await make_server(**email_settings(port, password="wrong"))
    visitor = await visitors(server.url)
    assert (await visitor.call("contact", {"name": "Ana", "email": "ana@example.com"}))["ok"]
    for _ in range(100):
        rows = [r for r in await server.app[STORE].outbox_rows() if r.target == "email"]
        if rows and rows[0].attempts >= 2:
            break
        await asyncio.sleep(0.1)
    assert rows[0].status == "pending" and "SMTPAuthenticationError" in (rows[0].last_error or "")
    assert (await visitor.ask("What are your hours?"))["sender"] == "bot"
    assert box.messages == [] and "refused" in box.logins


@pytest.mark.parametrize(("url", "server"), [
    ("smtp://mail.clinic.example", smtp.SmtpServer("mail.clinic.example", 587, False)),
    ("smtps://u%40x:p%3Aw@mail.clinic.example", smtp.SmtpServer("mail.clinic.example", 465, True, "u@x", "p:w")),
    ("smtp://u:p@10.0.0.5:2525", smtp.SmtpServer("10.0.0.5", 2525, False, "u", "p")),
])
def test_smtp_urls(url: str, server: smtp.SmtpServer) -> None:
    assert smtp.parse(url) == server
    assert smtp.parse(url).require_starttls == (server.username is not None and not server.implicit_tls)


@pytest.mark.parametrize("url", ["http://mail.example", "smtp://", "smtp://u@mail.example",
                                 "smtp://mail.example/path", "smtp://mail.example:99999", "smtp://m.example?tls=no"])
def test_a_bad_smtp_url_stops_the_start_without_showing_it(url: str) -> None:
    with pytest.raises(SystemExit) as stopped:
        Settings.from_env({"CHATBOT_SMTP_URL": url.replace("u@", "u:hunter2@") if "u@" not in url else url})
    message = str(stopped.value)
    assert message.startswith("CHATBOT_SMTP_URL=(not shown): expected smtp://")
    assert "hunter2" not in message and "mail.example" not in message


async def test_one_event_goes_out_as_a_signed_webhook_and_an_email(make_server, visitors, mailbox) -> None:
    """The same outbox event, to both destinations: the email carries the webhook's event id."""
    box, port = mailbox
    receiver = await Receiver("hook-secret").start()
    try:
        server = await make_server(**email_settings(port, webhook_url=(receiver.url("/ok"),),
                                                    webhook_secret="hook-secret", webhook_allow_private=True))
        visitor = await visitors(server.url)
        assert (await visitor.call("contact", {"name": "Ana Ruiz", "email": "ana@example.com"}))["ok"]
        [message] = await box.wait(1)
        hooks = await receiver.wait_for(2)
        left = [r for r in hooks if r.event["type"] == "contact.left"]
        assert len(left) == 1 and left[0].signed
        assert message["X-Chatbot-Delivery"] == left[0].headers["X-Chatbot-Delivery"] == left[0].event["id"]
        assert left[0].event["data"]["contact"]["email"] == "ana@example.com" and "Email: ana@example.com" in \
            body_of(message)
    finally:
        await receiver.stop()


async def test_an_mri_review_request_from_the_widget_arrives_as_a_signed_webhook_and_an_email(
        make_server, browser: Session, mailbox) -> None:
    """In Chromium, the visitor asks, is offered the form, fills it in and sends it: one ``lead.created`` event, to
    the receiver signed and to the desk's mailbox with the contact fields and the link, but not the free-text note.
    (``pytest -s`` prints both, as they arrived.)"""
    box, port = mailbox
    receiver = await Receiver("hook-secret").start()
    try:
        server = await make_server(**email_settings(port, webhook_url=(receiver.url("/ok"),),
                                                    webhook_secret="hook-secret", webhook_allow_private=True))
        page = await browser.page()
        await open_widget(page, server.url + "/")
        await say(page, MRI_EN)
        await page.get_by_role("button", name="Would you like us to review your MRI?").click()
        await page.get_by_role("textbox", name="Your name (required)").fill("Ana Ruiz")
        await page.get_by_role("textbox", name="Email (required)").fill(GOOD["email"])
        note = "my MRI shows a herniated disc at C6"
        await page.get_by_role("textbox", name=re.compile("^Anything you would like us to know")).fill(note)
        await page.get_by_role("checkbox", name=re.compile("^I agree that the clinic keeps these details")).check()
        await page.get_by_role("button", name="Send", exact=True).first.click()
        await expect(page.locator(".msg-system .text").last).to_have_text(re.compile("We have received"))

        hooks = await receiver.wait_for(2)  # conversation.started, then lead.created
        [lead] = [r for r in hooks if r.event["type"] == "lead.created"]
        print(lead.headers, json.dumps(lead.event, indent=1), sep="\n")
        assert lead.signed and lead.event["data"]["form"] == "mri_review"
        assert lead.event["data"]["values"] == {"name": "Ana Ruiz", "email": GOOD["email"], "note": note}
        assert lead.event["data"]["consent_text"].startswith("I agree that the clinic keeps these details")
        [message] = await box.wait(1)
        text = body_of(message)
        print(message.as_string())
        assert message["Subject"] == "New request on the chat"
        assert message["X-Chatbot-Delivery"] == lead.event["id"]
        assert "Form: mri_review" in text and "Name: Ana Ruiz" in text and f"Email: {GOOD['email']}" in text
        assert "herniated" not in text and lead.event["data"]["conversation_id"] in text
    finally:
        await receiver.stop()
