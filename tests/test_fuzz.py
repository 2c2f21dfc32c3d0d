"""Protocol fuzzing: every client event of ``/chat`` and ``/agent`` with random payloads, against one real server.

For each payload an oracle written from docs/protocol.md (not from the
server's code) says which acks are acceptable: ``ok`` (or a state-dependent
refusal such as ``closed``) only for a payload of the documented shape, else
exactly the documented error codes it breaks. Any error ack must leave the
database as it was, and the fuzzing clients must stay connected. Payloads mix
wrong types, nested junk, strings up to the 64 KiB packet cap, NUL, lone
surrogates, RTL and zero-width characters, emoji, missing and extra fields.

``FUZZ_EXAMPLES`` (default 50, about 30 s on two cores) sets the examples per event: ``make fuzz`` runs 1,000.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import socketio
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from chatbot.chat.keys import STORE
from chatbot.shared.config import Settings
from chatbot.web.app import MAX_PACKET_BYTES
from tests.conftest import INTENTS, Client, Representative, Server, Visitor, start_server

pytestmark = pytest.mark.asyncio(loop_scope="module")

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "50"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TABLES = ("conversations", "messages", "state_changes", "agents", "leads")
STATES = ("bot", "queued", "agent", "closed")
TARGETS = 4  # conversations the representative may act on, besides the fuzzing visitor's own
CHAT_EVENTS = ("message", "typing", "close", "contact", "rate", "form_open", "form_submit")
AGENT_EVENTS = ("conversations", "watch", "unwatch", "take", "message", "release", "close", "typing", "handback",
                "accept", "decline", "note", "transfer", "holders", "representatives")
WHOLE_DESK = ("conversations", "holders", "representatives")  # /agent events about no one conversation

# -- payloads ---------------------------------------------------------------------

EDGES = ["\x00", "\ud800", "\udfff", "a\ud83db", "\u202eevil", "\u200b", "\ufeff", "\u200d", "😀", "👩‍⚕️", " ", "\u3000",
         "\t\n", "<script>alert(1)</script>", "'; DROP TABLE messages; --", "\U0010ffff", "ي", "\x1b[31m", ""]
characters = st.characters(exclude_categories=())  # surrogates included: they travel as JSON escapes
short_text = st.one_of(st.text(characters, max_size=30), st.sampled_from(EDGES),
                       st.lists(st.sampled_from(EDGES), max_size=4).map("".join))
# Long strings stay ASCII-heavy so that the JSON packet stays under the 64 KiB cap.
long_text = st.builds(lambda edge, n, tail: edge + "x" * n + tail, st.sampled_from(EDGES), st.integers(1990, 60_000),
                      st.sampled_from(EDGES))
strings = st.one_of(short_text, short_text, long_text)
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(-(2**70), 2**70),
                    st.floats(allow_nan=True, allow_infinity=True), short_text, st.binary(max_size=16))
junk = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                     st.dictionaries(short_text, inner, max_size=4)), max_leaves=12)


@dataclass(frozen=True)
class Target:
    """Stands for a real conversation id in a payload (ids exist only once the server runs); -1: the visitor's."""

    index: int


ids = st.one_of(st.builds(Target, st.integers(-1, TARGETS - 1)), st.builds(Target, st.integers(-1, TARGETS - 1)),
                strings, junk)


def fields(required: tuple[str, ...] = (), **known: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Payloads for one event: well-formed objects (``required`` present, values of the right type, though
    possibly empty, huge or odd), with extra keys, with junk values, or no object at all."""
    good = st.fixed_dictionaries({k: known[k] for k in required},
                                 optional={k: v for k, v in known.items() if k not in required})
    loose = st.fixed_dictionaries({}, optional={k: st.one_of(v, junk) for k, v in known.items()})
    with_extra = st.builds(lambda a, b: {**b, **a}, good, st.dictionaries(short_text, junk, max_size=2))
    return st.one_of(good, good, with_extra, loose, loose, st.none(), junk, st.tuples(junk, junk))


plain = st.text(min_size=1, max_size=80)
texts = st.one_of(plain, strings)
flag = st.booleans()
cid = {"conversation_id": ids}
contact_fields = {
    "name": st.one_of(plain, strings),
    "email": st.one_of(st.emails().filter(lambda e: len(e) <= 254), strings),
    "phone": st.one_of(st.from_regex(r"\+?[0-9]{5,15}", fullmatch=True), strings),
}
form_ids = st.one_of(st.sampled_from(["mri_review", "callback", "seminar", "info_packet", "nope"]), strings)
form_values = st.one_of(
    st.fixed_dictionaries({"name": texts, "phone": contact_fields["phone"]},
                          optional={"best_time": st.one_of(st.sampled_from(["morning", "noon"]), junk),
                                    "note": texts}),
    st.dictionaries(short_text, junk, max_size=4))
PAYLOADS = {
    "/chat": {
        "form_open": fields(("form_id",), form_id=form_ids),
        "form_submit": fields(("form_id", "values", "consent"), form_id=form_ids, values=form_values,
                              consent=st.one_of(st.just(True), junk)),
        "message": fields(("text",), text=texts, client_id=texts),
        "typing": fields(("typing",), typing=flag),
        "close": fields(),
        "contact": fields(("name",), **contact_fields),
        "rate": fields(("score",), score=st.integers(-1, 7), comment=texts),
    },
    "/agent": {
        "conversations": fields(state=st.sampled_from(STATES), limit=st.integers(-5, 300)),
        **{event: fields(("conversation_id",), **cid)
           for event in ("watch", "unwatch", "take", "release", "close", "handback", "accept", "decline")},
        "message": fields(("conversation_id", "text"), **cid, text=texts, client_id=texts),
        "typing": fields(("conversation_id", "typing"), **cid, typing=flag),
        "note": fields(("conversation_id", "text"), **cid, text=texts),
        "transfer": fields(("conversation_id", "to"), **cid, to=texts, note=texts),
        "holders": fields(),
        "representatives": fields(),
    },
}

# -- the oracle: docs/protocol.md, independently ----------------------------------


@dataclass
class Expected:
    """The acks a payload may get: errors it must get (``errors``), or success and the refusals of ``may``."""

    errors: set[str] = field(default_factory=set)
    may: set[str] = field(default_factory=set)
    unsure: bool = False  # a well-typed email or phone whose format only the server judges

    def allows(self, code: str) -> bool:
        if self.errors:
            return code in self.errors or (self.unsure and code == "bad_request")
        return code in self.may | {"ok"} or (self.unsure and code == "bad_request")


def storable(value: str) -> bool:
    return not re.search("[\x00\ud800-\udfff]", value)


def is_text(value: Any, max_len: int) -> bool:
    return isinstance(value, str) and 0 < len(value) <= max_len and storable(value)


def optional_text(body: dict[str, Any], key: str, max_len: int) -> bool:
    return body.get(key) is None or is_text(body[key], max_len)


def text_errors(body: dict[str, Any]) -> set[str]:
    value = body.get("text")
    if not isinstance(value, str) or not storable(value):
        return {"bad_request"}
    return {"empty"} if not value.strip() else {"too_long"} if len(value.strip()) > 2000 else set()


def contact_errors(body: dict[str, Any]) -> Expected:
    name, email, phone = body.get("name"), body.get("email"), body.get("phone")
    broken = not (is_text(name, 100) and name.strip() and optional_text(body, "email", 254)
                  and optional_text(body, "phone", 40) and (email is not None or phone is not None))
    return Expected({"bad_request"} if broken else set(), {"closed", "rate_limited"}, unsure=not broken)


MAY = {"/chat": {"message": {"rate_limited", "closed"}, "typing": set(), "close": {"closed"},
                 "rate": {"not_closed", "no_agent", "already_rated"}, "form_open": {"not_found"},
                 # whether the values fit the form's fields is the server's to say, field by field (test_forms.py)
                 "form_submit": {"bad_request", "not_found", "rate_limited", "closed"}},
       "/agent": {"conversations": set(), "watch": {"not_found"}, "unwatch": set(),
                  "take": {"not_found", "taken", "closed", "at_capacity"}, "accept": {"routing_off"},
                  "decline": {"routing_off"}, "holders": {"forbidden"}, "representatives": set(),
                  "note": {"not_found", "forbidden"},
                  "transfer": {"not_found", "closed", "not_assigned", "forbidden", "bad_request", "taken", "offline",
                               "at_capacity"}}}
HELD = {"not_found", "not_assigned", "closed", "taken"}  # acting on a conversation one may not hold


def expected(namespace: str, event: str, data: Any) -> Expected:
    if namespace == "/chat" and event == "contact" and isinstance(data, dict | None):
        return contact_errors(data or {})
    errors = shape_errors(namespace, event, data)
    if errors and event in ("accept", "decline"):
        errors.add("routing_off")  # with manual routing the event is refused whatever its payload
    return Expected(errors, MAY[namespace].get(event, HELD))


def shape_errors(namespace: str, event: str, data: Any) -> set[str]:
    """The codes of every documented rule ``data`` breaks (the server may report any one of them)."""
    if isinstance(data, tuple):
        return {"bad_request"}  # more than one argument
    if event in ("holders", "representatives"):
        return set()  # they read no payload
    if not isinstance(data, dict | None):
        return {"bad_request"}
    body = data or {}
    errors: set[str] = set()
    if namespace == "/agent" and event not in WHOLE_DESK and not is_text(body.get("conversation_id"), 64):
        errors.add("bad_request")
    if event == "message":
        errors |= text_errors(body) | (set() if optional_text(body, "client_id", 64) else {"bad_request"})
    if event == "note":
        errors |= text_errors(body)
    if event == "transfer":
        errors |= set() if is_text(body.get("to"), 64) else {"bad_request"}
        errors |= text_errors({"text": body["note"]}) if body.get("note") not in (None, "") else set()
    if event.startswith("form_") and not (isinstance(body.get("form_id"), str)
                                          and re.fullmatch(r"[a-z0-9_]{1,64}", body["form_id"])):
        errors.add("bad_request")
    if event == "form_submit" and set(body) - {"form_id", "values", "consent"}:
        errors.add("bad_request")
    if event == "typing" and not isinstance(body.get("typing"), bool):
        errors.add("bad_request")
    if event == "rate":
        score = body.get("score")
        if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
            errors.add("bad_request")
        if not optional_text(body, "comment", 1000):
            errors.add("bad_request")
    if event == "conversations":
        limit = body.get("limit", 50)
        if body.get("state") is not None and body.get("state") not in STATES:
            errors.add("bad_request")
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 200:
            errors.add("bad_request")
    return errors


# -- one server and its clients for the whole module --------------------------------


class Arena:
    """The server, the representative and the visitors every fuzz test shares."""

    def __init__(self, server: Server, rep: Representative, visitors: list[Visitor]) -> None:
        self.server = server
        self.rep = rep
        self.targets = [v.conversation["id"] for v in visitors]
        self.retired: list[Client] = list(visitors)
        self.visitor: Visitor | None = None

    def __repr__(self) -> str:  # hypothesis prints the arguments of a failing example
        return f"<arena at {self.server.url}>"

    async def current_visitor(self) -> Visitor:
        """The fuzzing visitor, a new one once its conversation has closed."""
        if self.visitor is None:
            self.visitor = await Visitor().open(self.server.url)
        return self.visitor

    def retire_visitor(self) -> None:
        assert self.visitor is not None
        self.retired.append(self.visitor)
        self.visitor = None

    async def rows(self) -> dict[str, list[tuple[Any, ...]]]:
        async with self.server.app[STORE].engine.connect() as db:
            return {t: sorted(map(tuple, (await db.execute(text(f"SELECT * FROM {t}"))).all()), key=repr)
                    for t in TABLES}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def arena(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Arena]:
    tmp: Path = tmp_path_factory.mktemp("fuzz")
    server, runner = await start_server(Settings(
        port=0, database_url=f"sqlite+aiosqlite:///{tmp / 'chat.db'}", intents_dir=INTENTS,
        transcripts_dir=tmp / "transcripts", rate_burst=1_000_000, max_connections_per_ip=1000,
        new_conversations_per_minute=100_000))
    _, token = await server.app[STORE].create_agent("Fuzz")
    rep = await Representative("Fuzz", token).sign_in(server.url)
    visitors = [await Visitor().open(server.url) for _ in range(TARGETS)]
    for visitor in visitors[:2]:
        await visitor.say("I want to talk to a person")
    arena = Arena(server, rep, visitors)
    yield arena
    for client in [rep, *arena.retired, *([arena.visitor] if arena.visitor else [])]:
        await client.disconnect()
    await runner.cleanup()


def resolve(data: Any, arena: Arena, visitor: Visitor) -> Any:
    """The payload with a real conversation id for each ``Target``."""
    if isinstance(data, Target):
        return visitor.conversation["id"] if data.index < 0 else arena.targets[data.index]
    if isinstance(data, dict):
        return {k: resolve(v, arena, visitor) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return type(data)(resolve(v, arena, visitor) for v in data)
    return data


def as_received(data: Any) -> Any:
    """The payload as the server decodes it: JSON turns a high and a low surrogate written one after the
    other (``"\\ud800\\udc00"``) into the one character they encode, so only unpaired ones stay."""
    if isinstance(data, str):
        return data.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
    if isinstance(data, dict):
        return {as_received(k): as_received(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return type(data)(as_received(v) for v in data)
    return data


def fits(data: Any) -> bool:
    """Under the packet cap, as the client encodes it: bigger packets drop the socket (tests/test_abuse.py)."""
    return len(json.dumps(data, separators=(",", ":"), default=repr)) < MAX_PACKET_BYTES - 1024


async def attack(arena: Arena, namespace: str, event: str, data: Any) -> None:
    visitor = await arena.current_visitor()
    client: Client = visitor if namespace == "/chat" else arena.rep
    data = as_received(resolve(data, arena, visitor))
    assume(fits(data))
    want = expected(namespace, event, data)
    before = await arena.rows()
    ack = await client.call(event, data)
    assert isinstance(ack, dict) and isinstance(ack.get("ok"), bool), ack
    code = "ok" if ack["ok"] else ack["error"]["code"]
    assert want.allows(code), f"{namespace} {event} {repr(data)[:300]} -> {ack}, expected {want}"
    if not ack["ok"]:
        assert await arena.rows() == before, f"{namespace} {event}: an error ack ({code}) changed stored data"
    assert visitor.sio.connected and arena.rep.sio.connected, "the server dropped a fuzzing client"
    if namespace == "/chat" and (code == "closed" or (event == "close" and ack["ok"])):
        arena.retire_visitor()


# -- the tests ------------------------------------------------------------------------


@pytest.mark.parametrize("event", CHAT_EVENTS)
@FUZZ
@given(data=st.data())
async def test_visitor_events(arena: Arena, event: str, data: st.DataObject) -> None:
    await attack(arena, "/chat", event, data.draw(PAYLOADS["/chat"][event], label="payload"))


@pytest.mark.parametrize("event", AGENT_EVENTS)
@FUZZ
@given(data=st.data())
async def test_representative_events(arena: Arena, event: str, data: st.DataObject) -> None:
    await attack(arena, "/agent", event, data.draw(PAYLOADS["/agent"][event], label="payload"))


KNOWN = set(CHAT_EVENTS) | set(AGENT_EVENTS) | {"connect", "disconnect"}


@FUZZ
@given(namespace=st.sampled_from(["/chat", "/agent"]), event=short_text.filter(lambda e: e not in KNOWN),
       payload=st.one_of(junk, fields()))
async def test_unknown_events_are_ignored(arena: Arena, namespace: str, event: str, payload: Any) -> None:
    """An unknown event gets an empty acknowledgement (no payload) and changes nothing."""
    visitor = await arena.current_visitor()
    client: Client = visitor if namespace == "/chat" else arena.rep
    assume(fits(payload))
    before = await arena.rows()
    assert await client.call(event, payload) is None
    assert await arena.rows() == before and visitor.sio.connected and arena.rep.sio.connected


@pytest.mark.parametrize("namespace", ["/chat", "/agent"])
@pytest.mark.parametrize("event", ["connect", "disconnect"])
async def test_reserved_event_names_are_dropped(arena: Arena, namespace: str, event: str) -> None:
    """No library sends them, but a raw client can: they must not reach the connect and disconnect handlers."""
    visitor = await arena.current_visitor()
    client: Client = visitor if namespace == "/chat" else arena.rep
    before = await arena.rows()
    for payload in [None, {"REMOTE_ADDR": "forged"}, {"token": "x"}, "transport close"]:
        with pytest.raises(socketio.exceptions.TimeoutError):
            await client.sio.call(event, payload, namespace=namespace, timeout=0.3)
    await asyncio.sleep(0.1)
    assert await arena.rows() == before and visitor.sio.connected and arena.rep.sio.connected


async def test_the_server_still_serves_a_normal_visitor(arena: Arena) -> None:
    """Last in the module: after every payload above, a new visitor gets in and gets the bot's answer."""
    visitor = await Visitor().open(arena.server.url)
    arena.retired.append(visitor)
    reply = await visitor.ask("what causes upper back pain?")
    assert reply["intent"] is not None and reply["text"]
    assert (await arena.server.get("/healthz"))[0] == 200
