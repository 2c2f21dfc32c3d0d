"""Staff working together (chatbot/chat/teamwork.py) on a real server with real Socket.IO clients signed in by
their session cookies: private notes that no visitor event, transcript or export carries; transfers with a note,
the visitor told who joined, supervisors transferring any conversation and agents only their own; and the
supervisors' live view of who holds what, refused to agents. Each is in the audit trail."""

from __future__ import annotations

import json
from typing import Any

from chatbot.web.app import STORE
from tests.conftest import Server
from tests.test_roles import console_for
from tests.test_staff_sessions import Console

NOTE = "Private: she mentioned a penicillin allergy, NOTE-7f3a"
HANDOVER = "Handover NOTE-91c2: asks about the MRI report, please call back"


async def queued(server: Server, visitors) -> Any:
    visitor = await visitors(server.url)
    await visitor.ask("I want to talk to a person")
    return visitor


def user_id(console: Console) -> str:
    return str(console.rep_id)


async def staff(server: Server) -> tuple[Console, Console, Console]:
    sam = await console_for(server, "sam@clinic.example", "supervisor")
    ana = await console_for(server, "ana@clinic.example", "agent")
    bo = await console_for(server, "bo@clinic.example", "agent")
    for console, email in ((sam, "sam"), (ana, "ana"), (bo, "bo")):
        console.rep_id = (await server.app[STORE].user_by_email(f"{email}@clinic.example")).id
    return sam, ana, bo


async def test_notes_reach_staff_and_never_the_visitor(server: Server, visitors) -> None:
    sam, ana, bo = await staff(server)
    visitor = await queued(server, visitors)
    cid = visitor.conversation["id"]
    assert (await ana.call("take", {"conversation_id": cid}))["ok"]
    assert (await sam.call("watch", {"conversation_id": cid}))["ok"]
    ack = await ana.call("note", {"conversation_id": cid, "text": NOTE})
    assert ack["ok"] and ack["note"]["author"]["name"] == "Ana" and ack["note"]["text"] == NOTE
    assert (await sam.next("note"))["text"] == NOTE
    assert (await bo.call("note", {"conversation_id": cid, "text": "x"}))["error"]["code"] == "forbidden"
    assert (await ana.call("note", {"conversation_id": cid, "text": " "}))["error"]["code"] == "empty"
    assert [n["text"] for n in (await sam.call("watch", {"conversation_id": cid}))["conversation"]["notes"]] == [NOTE]
    assert (await ana.call("message", {"conversation_id": cid, "text": "Hello, I am Ana."}))["ok"]
    await visitor.next("message", lambda m: m["text"] == "Hello, I am Ana.")

    token = visitor.conversation["token"]
    status, transcript = await server.get("/transcript", headers={"Authorization": f"Bearer {token}"})
    assert status == 200
    status, export = await server.get(f"/admin/conversations/{cid}",
                                      headers={"Authorization": f"Bearer {server.settings.admin_token}"})
    assert status == 200
    assert (await ana.call("close", {"conversation_id": cid}))["ok"]
    await visitor.next("state", lambda s: s["state"] == "closed")
    written = "".join(path.read_text(encoding="utf-8") for path in server.settings.transcripts_dir.rglob("*")
                      if path.is_file())
    assert written, "the closed conversation's transcript was written"
    for seen in (json.dumps(visitor.events), transcript, json.dumps(export), written):
        assert "NOTE-7f3a" not in seen
    actions = [(row.actor, row.action, row.target) for row in await server.app[STORE].audit_rows()]
    assert ("ana@clinic.example", "note_added", cid) in actions
    assert ("ana@clinic.example", "conversation_taken", cid) in actions
    for console in (sam, ana, bo):
        await console.disconnect()


async def test_a_transfer_with_a_note_tells_the_visitor_who_joined_and_gives_it_to_the_new_holder(
        server: Server, visitors) -> None:
    sam, ana, bo = await staff(server)
    visitor = await queued(server, visitors)
    cid = visitor.conversation["id"]
    assert (await ana.call("take", {"conversation_id": cid}))["ok"]
    ack = await ana.call("transfer", {"conversation_id": cid, "to": user_id(bo), "note": HANDOVER})
    assert ack["ok"] and ack["conversation"]["agent"] == {"id": user_id(bo), "name": "Bo"}
    handed = await bo.next("transferred")
    assert handed["by"]["name"] == "Ana" and handed["note"] == HANDOVER
    assert handed["conversation"]["id"] == cid and handed["conversation"]["notes"][0]["text"] == HANDOVER
    await visitor.next("message", lambda m: m["sender"] == "system" and m["text"] == "Bo has joined the conversation.")
    state = await visitor.next("state", lambda s: s["reason"] == "transferred")
    assert state["agent"]["name"] == "Bo" and state["state"] == "agent"
    assert (await bo.call("watch", {"conversation_id": cid}))["ok"]
    assert (await bo.call("message", {"conversation_id": cid, "text": "Bo here."}))["ok"]
    assert (await ana.call("message", {"conversation_id": cid, "text": "x"}))["error"]["code"] == "not_assigned"
    assert (await ana.call("transfer", {"conversation_id": cid, "to": user_id(ana)}))["error"]["code"] == "forbidden"
    assert "HANDOVER" not in json.dumps(visitor.events) and "NOTE-91c2" not in json.dumps(visitor.events)

    refusals = [({"to": "nobody"}, "not_found"), ({"to": user_id(bo)}, "bad_request"), ({}, "bad_request"),
                ({"to": user_id(ana), "note": 5}, "bad_request")]
    for body, code in refusals:
        assert (await sam.call("transfer", {"conversation_id": cid, **body}))["error"]["code"] == code
    await ana.disconnect()
    assert (await sam.call("transfer", {"conversation_id": cid, "to": user_id(ana)}))["error"]["code"] == "offline"
    ack = await sam.call("transfer", {"conversation_id": cid, "to": user_id(sam)})  # a supervisor moves any
    assert ack["ok"] and ack["conversation"]["agent"]["name"] == "Sam"
    await visitor.next("message", lambda m: m["text"] == "Sam has joined the conversation.")
    rows = [(row.actor, row.action, row.target) for row in reversed(await server.app[STORE].audit_rows())]
    assert [row for row in rows if row[1] == "conversation_transferred"] == [
        ("ana@clinic.example", "conversation_transferred", f"{cid} from Ana to Bo"),
        ("sam@clinic.example", "conversation_transferred", f"{cid} from Bo to Sam"),
    ]
    for console in (sam, bo):
        await console.disconnect()


async def test_supervisors_see_who_holds_what_and_agents_are_refused(server: Server, visitors) -> None:
    sam, ana, bo = await staff(server)
    visitor = await queued(server, visitors)
    assert (await ana.call("take", {"conversation_id": visitor.conversation["id"]}))["ok"]
    board = (await sam.call("holders"))["representatives"]
    assert [(r["name"], r["online"], [c["id"] for c in r["conversations"]]) for r in board] == [
        ("Ana", True, [visitor.conversation["id"]]), ("Bo", True, []), ("Sam", True, [])]
    assert (await ana.call("holders"))["error"]["code"] == "forbidden"
    assert [r["name"] for r in (await bo.call("representatives"))["representatives"]] == ["Ana", "Bo", "Sam"]
    for console in (sam, ana, bo):
        await console.disconnect()
