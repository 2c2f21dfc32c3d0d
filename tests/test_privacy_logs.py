"""Logs: at INFO no token, contact detail or message text of anyone appears, whatever path the conversation takes.

Every log record of every logger is captured and formatted as a real handler
would (tracebacks included), then searched for each secret of one full
conversation: visitor, representative, contact form, rating, transcript
download, a refused sign-in and a refused payload.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pytest
import socketio

from tests.conftest import Representative, Server

FORMAT = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")


@dataclass(frozen=True)
class Secrets:
    tokens: list[str]
    contact: list[str]
    texts: list[str]


async def a_whole_conversation(server: Server, visitors, representatives) -> Secrets:
    """Everything a conversation can go through, with a distinct secret at each step."""
    maria = await representatives(server, "Maria")
    visitor = await visitors(server.url, name="Zelda Quinterro", page="https://clinic.example/upper-back")
    said = "my neck hurts since the crash zq-417"
    await visitor.ask(said)
    contact = {"name": "Zelda Quinterro", "email": "zelda.q@example.org", "phone": "+1 555 013 4477"}
    assert (await visitor.call("contact", contact))["ok"]
    assert not (await visitor.say("bad \ud800 text zq-418"))["ok"]
    await visitor.say("I want to talk to a person")
    await visitor.next("state", lambda s: s["state"] == "queued")
    cid = visitor.conversation["id"]
    assert (await maria.take(cid))["ok"]
    answer = "Hello Zelda, the clinic will call you, zq-419"
    assert (await maria.say(cid, answer))["ok"]
    assert (await maria.call("close", {"conversation_id": cid}))["ok"]
    comment = "very kind, zq-420"
    assert (await visitor.call("rate", {"score": 5, "comment": comment}))["ok"]
    token = visitor.conversation["token"]
    status, _ = await server.get("/transcript", headers={"Authorization": f"Bearer {token}"})
    assert status == 200
    guessed = Representative("Guess", "guessed-token-zq-421")
    with pytest.raises(socketio.exceptions.ConnectionError):
        await guessed.sign_in(server.url)
    return Secrets(
        tokens=[token, maria.token, guessed.token],
        contact=[contact["email"], contact["phone"], contact["name"]],
        texts=[said, "zq-418", answer, comment],
    )


def logged(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(FORMAT.format(record) for record in caplog.records)


async def test_info_logs_hold_no_token_contact_or_text(server: Server, visitors, representatives, caplog) -> None:
    caplog.set_level(logging.INFO)
    secrets = await a_whole_conversation(server, visitors, representatives)
    text = logged(caplog)
    assert "conversation" in text and "aiohttp.access" in text, "the logs were captured"
    for secret in [*secrets.tokens, *secrets.contact, *secrets.texts]:
        assert secret not in text, f"{secret!r} is in the INFO logs"


async def test_debug_logs_may_hold_text_but_never_a_token(server: Server, visitors, representatives, caplog) -> None:
    """Tokens are hashed before they reach the database, so not even its DEBUG logs can show one."""
    caplog.set_level(logging.DEBUG)
    secrets = await a_whole_conversation(server, visitors, representatives)
    text = logged(caplog)
    for secret in secrets.tokens:
        assert secret not in text, "a token is in the DEBUG logs"
