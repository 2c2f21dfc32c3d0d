"""The audit trail (chatbot/store/audit.py, chatbot/cli/audit.py, ``GET /admin/audit``): rows written on
sign-ins, account changes and every admin read, the chain verified, and broken on purpose."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from chatbot.chat.staff import COOKIE
from chatbot.cli.main import main
from chatbot.store import Store
from tests.conftest import Server
from tests.test_staff_sessions import PASSWORD, Console, add_user, login, signed_in
from tests.test_users import run

TOKEN = {"Authorization": "Bearer test-admin-token"}


async def actions(server: Server, **query: str) -> list[tuple[str, str, str | None]]:
    status, body = await server.get("/admin/audit", headers=TOKEN, params=query)
    assert status == 200, body
    return [(row["actor"], row["action"], row["target"]) for row in reversed(body["rows"])]


async def test_sign_ins_and_every_admin_read_are_recorded(server: Server, visitors) -> None:
    await add_user(server, "ada@clinic.example", "admin")
    await login(server, {"email": "ada@clinic.example", "password": "not the password"})
    cookie = await signed_in(server, "ada@clinic.example")
    visitor = await visitors(server.url)
    await visitor.ask("I want to talk to a person")
    cid = visitor.conversation["id"]
    async with aiohttp.ClientSession() as http:
        for path in (f"/admin/conversations/{cid}", f"/admin/conversations/{cid}?format=txt",
                     "/admin/conversations?q=person"):
            async with http.get(server.url + path, headers={"Cookie": f"{COOKIE}={cookie}"}) as response:
                assert response.status == 200
    assert (await server.get(f"/admin/conversations/{cid}", headers=TOKEN))[0] == 200
    rows = await actions(server)
    assert rows == [
        ("anonymous", "sign_in_failed", None),
        ("ada@clinic.example", "sign_in", None),
        ("ada@clinic.example", "conversation_read", cid),
        ("ada@clinic.example", "transcript_read", cid),
        ("ada@clinic.example", "conversations_searched", "q=person"),
        ("admin-token", "conversation_read", cid),
    ]
    status, body = await server.get("/admin/audit", headers=TOKEN, params={"user": "ada@clinic.example"})
    assert {row["actor"] for row in body["rows"]} == {"ada@clinic.example"}
    assert body["rows"][0]["address"] == "127.0.0.1"
    assert PASSWORD not in str(body) and cookie not in str(body)
    read = [row for row in await actions(server, since="1h") if row[1] == "audit_read"]
    assert [(actor, str(target)[:8]) for actor, _, target in read] == [("admin-token", "None"),
                                                                       ("admin-token", "user=ada")]


async def test_bad_audit_queries_are_answered_400(server: Server) -> None:
    for query in ({"since": "yesterday"}, {"limit": "0"}, {"user": "x" * 300}):
        status, body = await server.get("/admin/audit", headers=TOKEN, params=query)
        assert status == 400 and body["error"]["code"] == "bad_request", (query, body)


def execute(url: str, *statements: str) -> None:
    async def go() -> None:
        store = Store(url)
        try:
            async with store.engine.begin() as connection:
                for statement in statements:
                    await connection.execute(text(statement))
        finally:
            await store.close()

    asyncio.run(go())


def test_account_changes_are_recorded_and_a_broken_chain_is_detected(tmp_path: Path, capsys, monkeypatch) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'chat.db'}"
    db = ["--database-url", url]
    run(capsys, monkeypatch, "users", "add", "ana@clinic.example", "--name", "Ana", "--role", "agent",
        "--password-stdin", *db, stdin=PASSWORD + "\n")
    run(capsys, monkeypatch, "users", "set-role", "ana@clinic.example", "supervisor", *db)
    run(capsys, monkeypatch, "users", "disable", "ana@clinic.example", *db)
    code, out, _ = run(capsys, monkeypatch, "audit", "--since", "1h", *db)
    lines = [line.split("\t") for line in out.splitlines()]
    assert code == 0 and [(line[2].split(":")[0], line[3], line[4]) for line in lines] == [
        ("cli", "user_added", "ana@clinic.example as agent"),
        ("cli", "role_changed", "ana@clinic.example: agent -> supervisor"),
        ("cli", "user_disabled", "ana@clinic.example"),
    ]
    code, out, _ = run(capsys, monkeypatch, "audit", "verify", *db)
    assert code == 0 and out.startswith("The audit trail is intact: 3 rows, last hash ")

    with pytest.raises(DBAPIError, match="append-only"):
        execute(url, "UPDATE audit SET target = 'someone else' WHERE id = 2")
    execute(url, "DROP TRIGGER audit_no_update", "DROP TRIGGER audit_no_delete",
            "UPDATE audit SET target = 'ana@clinic.example: agent -> admin' WHERE id = 2")
    code, out, err = run(capsys, monkeypatch, "audit", "verify", *db)
    assert code == 1 and "BROKEN" in out and "row 2: its fields no longer match its hash" in err
    execute(url, "UPDATE audit SET target = 'ana@clinic.example: agent -> supervisor' WHERE id = 2")
    assert run(capsys, monkeypatch, "audit", "verify", *db)[0] == 0, "put back as it was, it verifies again"

    execute(url, "DELETE FROM audit WHERE id = 2")
    code, _, err = run(capsys, monkeypatch, "audit", "verify", *db)
    assert code == 1 and "row 3: does not follow the row before it" in err


async def test_concurrent_appends_stay_one_chain_on_postgresql(pg_url: str) -> None:
    store = Store(pg_url)
    try:
        await asyncio.gather(*(store.append_audit("admin-token", "conversation_read", f"c{n}") for n in range(12)))
        verified = await store.verify_audit()
        assert (verified.rows, verified.problems) == (12, [])
        with pytest.raises(DBAPIError, match="append-only"):
            async with store.engine.begin() as connection:
                await connection.execute(text("DELETE FROM audit"))
    finally:
        await store.close()


async def test_a_representatives_watch_is_recorded_with_who_and_from_where(server: Server, visitors,
                                                                          representatives) -> None:
    visitor = await visitors(server.url)
    await visitor.ask("I want to talk to a person")
    cid = visitor.conversation["id"]
    maria = await representatives(server, "Maria")
    assert (await maria.call("watch", {"conversation_id": cid}))["ok"]
    await add_user(server, "sam@clinic.example", "supervisor")
    sam = await Console().open(server.url, await signed_in(server, "sam@clinic.example"))
    try:
        assert (await sam.call("watch", {"conversation_id": cid}))["ok"]
    finally:
        await sam.disconnect()
    status, body = await server.get("/admin/audit", headers=TOKEN)
    watched = [(row["actor"], row["target"], row["address"]) for row in reversed(body["rows"])
               if row["action"] == "conversation_watched"]
    assert watched == [("representative:Maria", cid, "127.0.0.1"), ("sam@clinic.example", cid, "127.0.0.1")]


async def test_reloads_exports_purges_and_deletions_are_recorded(server: Server, visitors, tmp_path: Path) -> None:
    async with aiohttp.ClientSession() as http, http.post(server.url + "/admin/intents/reload",
                                                          headers=TOKEN) as response:
        assert response.status == 200
    visitor = await visitors(server.url)
    cid = visitor.conversation["id"]
    db = ["--database-url", server.settings.database_url, "--transcripts-dir", str(tmp_path / "t")]
    for argv in (["transcripts", "export", "--since", "1d", "--format", "jsonl", *db],
                 ["transcripts", "purge", "--older-than", "30d", *db],
                 ["conversations", "delete", cid, *db]):
        assert await asyncio.to_thread(main, argv) == 0, argv
    rows = await actions(server)
    assert [(actor.split(":")[0], action) for actor, action, _ in rows] == [
        ("admin-token", "intents_reloaded"),
        ("cli", "conversations_exported"),
        ("cli", "conversations_purged"),
        ("cli", "conversation_deleted"),
    ]
    assert rows[1][2].startswith("1 started since ") and rows[2][2].startswith("0 closed before ")
    assert rows[3][2] == cid
