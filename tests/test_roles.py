"""Roles enforced on the server (chatbot/chat/desk.py's watch, chatbot/admin/http.py's door), one test per
rule, through real Socket.IO and HTTP clients signed in by their session cookie; and the same rules on two
servers sharing PostgreSQL and Redis."""

from __future__ import annotations

import aiohttp

from chatbot.chat.staff import COOKIE
from chatbot.web.app import STORE
from tests.conftest import Server
from tests.processes import redis_prefix
from tests.test_staff_sessions import Console, add_user, signed_in


async def console_for(server: Server, email: str, role: str) -> Console:
    await add_user(server, email, role, name=email.split("@")[0].title())
    return await Console().open(server.url, await signed_in(server, email))


async def held_by_someone_else(server: Server, visitors, representatives) -> str:
    """A conversation Maria (a representative token) has taken."""
    visitor = await visitors(server.url)
    await visitor.ask("I want to talk to a person")
    maria = await representatives(server, "Maria")
    assert (await maria.take(visitor.conversation["id"]))["ok"]
    return str(visitor.conversation["id"])


async def admin_get(server: Server, path: str, cookie: str) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as http, http.get(
        server.url + path, headers={"Cookie": f"{COOKIE}={cookie}"}
    ) as response:
        return response.status, await response.json()


async def test_an_agent_cannot_watch_a_conversation_another_representative_holds(
        server: Server, visitors, representatives) -> None:
    cid = await held_by_someone_else(server, visitors, representatives)
    ana = await console_for(server, "ana@clinic.example", "agent")
    try:
        answer = await ana.call("watch", {"conversation_id": cid})
        assert answer["ok"] is False and answer["error"]["code"] == "forbidden", answer
        assert not ana.received("message"), "nothing of that conversation reached the agent"
    finally:
        await ana.disconnect()


async def test_an_agent_watches_the_queue_and_takes_and_speaks_in_their_own(server: Server, visitors) -> None:
    visitor = await visitors(server.url)
    await visitor.ask("I want to talk to a person")
    cid = visitor.conversation["id"]
    ana = await console_for(server, "ana@clinic.example", "agent")
    try:
        assert (await ana.call("watch", {"conversation_id": cid}))["ok"], "a queued conversation is nobody's yet"
        assert (await ana.call("take", {"conversation_id": cid}))["ok"]
        assert (await ana.call("watch", {"conversation_id": cid}))["ok"], "their own"
        assert (await ana.call("message", {"conversation_id": cid, "text": "Hello"}))["ok"]
    finally:
        await ana.disconnect()


async def test_an_agent_cannot_act_in_a_conversation_another_holds(server: Server, visitors, representatives) -> None:
    cid = await held_by_someone_else(server, visitors, representatives)
    ana = await console_for(server, "ana@clinic.example", "agent")
    try:
        for event, body in (("message", {"conversation_id": cid, "text": "hi"}), ("take", {"conversation_id": cid}),
                            ("release", {"conversation_id": cid}), ("close", {"conversation_id": cid})):
            answer = await ana.call(event, body)
            assert answer["ok"] is False and answer["error"]["code"] in ("not_assigned", "taken"), (event, answer)
    finally:
        await ana.disconnect()


async def test_a_supervisor_watches_any_conversation(server: Server, visitors, representatives) -> None:
    cid = await held_by_someone_else(server, visitors, representatives)
    sam = await console_for(server, "sam@clinic.example", "supervisor")
    try:
        answer = await sam.call("watch", {"conversation_id": cid})
        assert answer["ok"] and answer["conversation"]["id"] == cid
    finally:
        await sam.disconnect()


async def test_the_admin_api_takes_an_admins_cookie_and_refuses_other_roles(server: Server) -> None:
    for email, role in (("ana@clinic.example", "agent"), ("sam@clinic.example", "supervisor"),
                        ("ada@clinic.example", "admin")):
        await add_user(server, email, role)
    status, body = await admin_get(server, "/admin/stats", await signed_in(server, "ada@clinic.example"))
    assert status == 200 and "conversations" in str(body)
    status, body = await admin_get(server, "/admin/stats", await signed_in(server, "ana@clinic.example"))
    assert status == 403 and body["error"]["code"] == "forbidden" and "agent" in body["error"]["message"]
    status, body = await admin_get(server, "/admin/intents", await signed_in(server, "sam@clinic.example"))
    assert status == 403 and body["error"]["code"] == "forbidden" and "supervisor" in body["error"]["message"]
    status, body = await admin_get(server, "/admin/stats", "forged-" + "x" * 40)
    assert status == 401 and body["error"]["code"] == "unauthorized"
    status, _ = await server.get("/admin/stats", headers={"Authorization": "Bearer test-admin-token"})
    assert status == 200, "the admin token keeps working"


async def test_a_supervisor_reads_the_reports_and_nothing_else_of_the_admin_api(server: Server, visitors) -> None:
    await (await visitors(server.url)).ask("I want to talk to a person")
    await add_user(server, "sam@clinic.example", "supervisor")
    cookie = await signed_in(server, "sam@clinic.example")
    for path in ("/admin/activity", "/admin/stats?since=1d", "/admin/unanswered"):
        status, body = await admin_get(server, path, cookie)
        assert status == 200, (path, body)
    assert (await admin_get(server, "/admin/activity", cookie))[1]["conversations"] == 1
    for path in ("/admin/intents", "/admin/conversations", "/admin/audit", "/admin/intents/try?text=hi"):
        status, body = await admin_get(server, path, cookie)
        assert status == 403 and "supervisors may read the reports" in body["error"]["message"], path
    async with aiohttp.ClientSession() as http, http.post(
        server.url + "/admin/intents/reload", headers={"Cookie": f"{COOKIE}={cookie}", "Origin": server.url}
    ) as response:
        assert response.status == 403


async def test_a_role_change_ends_the_open_consoles_sign_in(server: Server) -> None:
    ana = await console_for(server, "ana@clinic.example", "supervisor")
    try:
        assert (await ana.call("conversations", {}))["ok"]
        await server.app[STORE].set_user_role("ana@clinic.example", "agent")
        assert (await ana.call("conversations", {}))["error"]["code"] == "unauthorized"
    finally:
        await ana.disconnect()


async def test_the_rules_hold_across_two_processes_on_postgresql_and_redis(make_server, pg_url: str, redis_url: str,
                                                                           visitors, representatives) -> None:
    shared = {"database_url": pg_url, "redis_url": redis_url, "redis_prefix": redis_prefix()}
    a, b = await make_server(**shared), await make_server(**shared)
    cid = await held_by_someone_else(a, visitors, representatives)
    await add_user(a, "ana@clinic.example", "agent")
    await add_user(a, "sam@clinic.example", "supervisor")
    ana = await Console().open(b.url, await signed_in(a, "ana@clinic.example"))  # signed in on a, used on b
    sam = await Console().open(b.url, await signed_in(a, "sam@clinic.example"))
    try:
        assert (await ana.call("watch", {"conversation_id": cid}))["error"]["code"] == "forbidden"
        assert (await sam.call("watch", {"conversation_id": cid}))["ok"]
        await a.app[STORE].set_user_role("ana@clinic.example", "supervisor")
        await a.app[STORE].set_user_disabled("sam@clinic.example", True)
        assert (await ana.call("watch", {"conversation_id": cid}))["error"]["code"] == "unauthorized"
        assert (await sam.call("conversations", {}))["error"]["code"] == "unauthorized"
    finally:
        await ana.disconnect()
        await sam.disconnect()
