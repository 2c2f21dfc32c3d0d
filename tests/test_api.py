"""The REST API (/api/v1/) against a real server and database: API keys (and their CLI), cursor pages, filters,
bad parameters, leads and contacts, and an audit row naming the key for every record read."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from chatbot.cli.main import main
from chatbot.store import Store, schema
from chatbot.store.models import utcnow
from chatbot.web.app import STORE
from tests.conftest import Server
from tests.test_admin import Reply, call
from tests.test_forms import GOOD, MRI_EN

RED_FLAG = "does heat help? also since this morning I can't control my bladder"


async def api(server: Server, path: str, key: str | None) -> Reply:
    return await call(server, "GET", "/api/v1" + path, token=key)


@pytest.fixture
async def key(server: Server) -> str:
    _, secret = await server.app[STORE].create_api_key("crm")
    return secret


async def test_a_missing_bad_or_revoked_key_is_a_json_401(server: Server, key: str) -> None:
    assert (await api(server, "/conversations", key)).status == 200
    await server.app[STORE].revoke_api_key("crm")
    for given in (None, "cbk_not-a-key", key, "test-admin-token"):
        reply = await api(server, "/leads", given)
        assert reply.status == 401 and reply.body["error"]["code"] == "unauthorized", (given, reply.body)
        assert reply.headers["WWW-Authenticate"].startswith("Bearer")


async def test_pages_follow_the_cursor_newest_first_and_each_read_is_audited(server: Server, key: str,
                                                                             visitors) -> None:
    store = server.app[STORE]
    for _ in range(4):
        await store.create_conversation("en", None, None)
    talking = await visitors(server.url)
    await talking.ask(MRI_EN)
    seen: list[dict[str, Any]] = []
    cursor = ""
    for _ in range(10):
        reply = await api(server, f"/conversations?limit=2{cursor}", key)
        assert reply.status == 200, reply.body
        seen += reply.body["data"]
        if reply.body["next_cursor"] is None:
            break
        cursor = f"&cursor={reply.body['next_cursor']}"
    assert len(seen) == 5 and len({c["id"] for c in seen}) == 5
    assert [c["created_at"] for c in seen] == sorted((c["created_at"] for c in seen), reverse=True)
    newest = seen[0]
    assert newest["id"] == talking.conversation["id"]
    assert [m["sender"] for m in newest["messages"]] == ["visitor", "bot"]
    rows = await store.audit_rows(actor="apikey:crm")
    assert sorted(r.target for r in rows if r.action == "api_conversation_read") == sorted(c["id"] for c in seen)
    assert (await store.verify_audit()).problems == []
    one = await api(server, f"/conversations/{newest['id']}", key)
    assert one.status == 200 and one.body["messages"] == newest["messages"]
    assert (await api(server, "/conversations/" + "0" * 32, key)).status == 404


async def test_filters_by_state_handoff_reason_and_time(server: Server, key: str, visitors) -> None:
    urgent, closed = await visitors(server.url), await visitors(server.url)
    assert (await urgent.say(RED_FLAG))["ok"]
    await urgent.next("state", lambda s: s["state"] == "queued")
    assert (await closed.call("close", {}))["ok"]
    await closed.next("state", lambda s: s["state"] == "closed")

    by_reason = await api(server, "/conversations?reason=urgent", key)
    assert [c["id"] for c in by_reason.body["data"]] == [urgent.conversation["id"]]
    by_state = await api(server, "/conversations?state=closed", key)
    assert [c["id"] for c in by_state.body["data"]] == [closed.conversation["id"]]
    later = (utcnow() + timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    assert (await api(server, f"/conversations?from={later}", key)).body["data"] == []
    assert len((await api(server, f"/conversations?to={later}", key)).body["data"]) == 2


BAD = [
    ("/conversations?state=open", "state"), ("/conversations?reason=because", "reason"),
    ("/conversations?from=yesterday", "from"), ("/conversations?cursor=garbage", "cursor"),
    ("/conversations?limit=0", "limit"), ("/conversations?sort=asc", "sort"), ("/leads?form=MRI!", "form"),
    ("/contacts?from=2026-02-01&to=2026-01-01", "from"),
]


async def test_a_bad_parameter_is_a_400_naming_it(server: Server, key: str) -> None:
    for query, named in BAD:
        reply = await api(server, query, key)
        assert reply.status == 400 and reply.body["error"]["code"] == "bad_request", (query, reply.body)
        assert reply.body["error"]["message"].startswith(named + ":"), (query, reply.body)


async def test_leads_and_contacts(server: Server, key: str, visitors) -> None:
    visitor = await visitors(server.url)
    assert (await visitor.call("form_submit", {"form_id": "mri_review", "values": GOOD, "consent": True}))["ok"]
    assert (await visitor.call("contact", {"name": "Ana Ruiz", "phone": "555 010 2030"}))["ok"]

    leads = await api(server, "/leads?form=mri_review", key)
    assert [(lead["form_id"], lead["values"]) for lead in leads.body["data"]] == [("mri_review", GOOD)]
    assert leads.body["data"][0]["consent_text"].startswith("I agree")
    assert (await api(server, "/leads?form=seminar", key)).body["data"] == []
    contacts = await api(server, "/contacts", key)
    assert [(c["name"], c["phone"]) for c in contacts.body["data"]] == [("Ana Ruiz", "555 010 2030")]
    actions = {r.action for r in await server.app[STORE].audit_rows(actor="apikey:crm")}
    assert actions == {"api_lead_read", "api_contact_read"}


def test_apikeys_cli_adds_lists_and_revokes_showing_the_key_once(tmp_path: Path, capsys) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'keys.db'}"
    assert main(["apikeys", "add", "crm", "--database-url", url]) == 0
    secret = capsys.readouterr().out.splitlines()[-1]
    assert secret.startswith("cbk_") and len(secret) > 40
    assert main(["apikeys", "add", "crm", "--database-url", url]) == 1
    assert main(["apikeys", "list", "--database-url", url]) == 0
    listed = capsys.readouterr().out
    assert "crm\tadded" in listed and "\tlive" in listed and secret not in listed

    async def found() -> Any:
        store = Store(url)
        try:
            await schema.ensure(store.engine)
            return await store.api_key(secret)
        finally:
            await store.close()

    assert asyncio.run(found()) is not None
    assert main(["apikeys", "revoke", "crm", "--database-url", url]) == 0
    assert main(["apikeys", "revoke", "crm", "--database-url", url]) == 1
    assert asyncio.run(found()) is None
    capsys.readouterr()
    assert main(["apikeys", "list", "--database-url", url]) == 0
    assert "\trevoked 20" in capsys.readouterr().out


async def test_on_postgresql_leads_pages_and_audit_rows(make_server, pg_url: str, visitors) -> None:
    server = await make_server(database_url=pg_url)
    store = server.app[STORE]
    _, secret = await store.create_api_key("crm")
    first, second = await visitors(server.url), await visitors(server.url)
    assert (await first.call("form_submit", {"form_id": "mri_review", "values": GOOD, "consent": True}))["ok"]
    page = await api(server, "/conversations?limit=1", secret)
    rest = await api(server, f"/conversations?limit=1&cursor={page.body['next_cursor']}", secret)
    assert [c["id"] for c in page.body["data"] + rest.body["data"]] == [second.conversation["id"],
                                                                       first.conversation["id"]]
    assert rest.body["next_cursor"] is None and rest.body["data"][0]["messages"][0]["sender"] == "system"
    leads = await api(server, "/leads", secret)
    assert [lead["values"] for lead in leads.body["data"]] == [GOOD]
    verified = await store.verify_audit()
    assert verified.rows == 3 and verified.problems == []
