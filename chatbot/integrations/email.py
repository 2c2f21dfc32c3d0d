"""The clinic's notification emails: an outbox row as a plain-text email, sent through ``CHATBOT_SMTP_URL``.

An email leaves the clinic's systems and sits in mailboxes, so by default it says only what happened, who left
contact details and where to answer: a link to the console, and the conversation's id. The messages themselves
(health data) are in it only with ``CHATBOT_EMAIL_INCLUDE_TEXT=true``. aiosmtplib sends it, over TLS
(``smtps://``) or STARTTLS (``smtp://``, required when a password is sent: ``shared/smtp.py``), within
``CHATBOT_DELIVERY_TIMEOUT_SECONDS``.

Tested in tests/test_email.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import aiosmtplib

from chatbot.shared.smtp import SmtpServer
from chatbot.store import Store
from chatbot.store.models import Message, OutboxEvent

SUBJECTS = {
    "contact.left": "Call back requested on the chat",
    "conversation.handed_off": "URGENT: a chat visitor described warning signs and nobody is online",
    "lead.created": "New request on the chat",
}


def subject(row: OutboxEvent) -> str:
    return SUBJECTS.get(row.type, f"Chat: {row.type}")


def text(row: OutboxEvent, console_url: str, messages: Sequence[Message] | None) -> str:
    """The email's body: what happened, the contact details left, the link; the messages only when given."""
    data: dict[str, Any] = row.data
    lines = [subject(row) + ".", "", f"When: {row.created_at.strftime('%Y-%m-%d %H:%M UTC')}"]
    contact = data.get("contact") or {}
    for label, key in (("Name", "name"), ("Email", "email"), ("Phone", "phone")):
        if contact.get(key):
            lines.append(f"{label}: {contact[key]}")
    if data.get("form"):
        lines.append(f"Form: {data['form']}")
    if data.get("page"):
        lines.append(f"Page: {data['page']}")
    if data.get("conversation_id"):
        lines += ["", f"Open the console to read and answer: {console_url}",
                  f"Conversation: {data['conversation_id']}"]
    if messages is None:
        lines += ["", "The conversation's messages are not in this email (they may hold health information)."]
    else:
        lines += ["", "Messages:"] + [f"[{m.created_at.strftime('%H:%M')}] {m.sender}: {m.text}" for m in messages]
    return "\n".join(lines) + "\n"


class Mailer:
    """Sends notification emails to ``recipients``; reads the messages from the store only when asked to."""

    def __init__(self, server: SmtpServer, sender: str, recipients: Sequence[str], console_url: str,
                 store: Store, include_text: bool, timeout: float) -> None:
        self.server = server
        self.sender = sender
        self.recipients = list(recipients)
        self.console_url = console_url
        self.store = store
        self.include_text = include_text
        self.timeout = timeout

    async def compose(self, row: OutboxEvent) -> EmailMessage:
        conversation_id = row.data.get("conversation_id")
        messages = None
        if self.include_text and conversation_id:
            messages = await self.store.messages(conversation_id)
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = ", ".join(self.recipients)
        message["Subject"] = subject(row)
        message["Message-ID"] = make_msgid(idstring=row.event_id)
        message["X-Chatbot-Event"] = row.type
        message["X-Chatbot-Delivery"] = row.event_id
        message.set_content(text(row, self.console_url, messages))
        return message

    async def send(self, row: OutboxEvent) -> str | None:
        """Send the row's email; None when the server took it, else what went wrong."""
        server = self.server
        try:
            await aiosmtplib.send(
                await self.compose(row), sender=self.sender, recipients=self.recipients,
                hostname=server.host, port=server.port, username=server.username, password=server.password,
                use_tls=server.implicit_tls, start_tls=True if server.require_starttls else None,
                timeout=self.timeout,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            return f"{type(exc).__name__}: {exc}"[:300]
        return None
