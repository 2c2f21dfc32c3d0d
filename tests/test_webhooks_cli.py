"""``chatbot webhooks list|retry|replay`` (chatbot/cli/webhooks.py) on a real SQLite database with real outbox rows."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from chatbot.store import Store, schema
from chatbot.store.outbox import Destinations
from tests.test_users import run

HOOK = "https://hooks.clinic.example/chat?token=receiver-secret"


@pytest.fixture
async def db(tmp_path: Path) -> list[str]:
    """Three conversation.started events, one delivered, one dead-lettered, one pending."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'chat.db'}"
    store = Store(url, Destinations(webhooks=(HOOK,)))
    try:
        await schema.upgrade(store.engine)
        for _ in range(3):
            await store.create_conversation("en", None, None)
        first, second, _ = await store.claim_due(3, timedelta(seconds=30))
        assert await store.delivered(first)
        assert await store.failed(second, "HTTP 500", None)
    finally:
        await store.close()
    return ["--database-url", url]


async def statuses(db: list[str]) -> list[tuple[str, int]]:
    store = Store(db[1])
    try:
        return [(row.status, row.attempts) for row in reversed(await store.outbox_rows())]
    finally:
        await store.close()


def test_list_shows_each_delivery_and_never_the_url_s_query(db, capsys, monkeypatch) -> None:
    code, out, err = run(capsys, monkeypatch, "webhooks", "list", *db)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "1 pending, 1 delivered, 1 dead"
    assert [line.split("\t")[2:4] for line in lines[1:]] == [["conversation.started", "delivered"],
                                                             ["conversation.started", "dead"],
                                                             ["conversation.started", "pending"]]
    assert "https://hooks.clinic.example/chat\t" in lines[2] and lines[2].endswith("\tHTTP 500")
    assert "receiver-secret" not in out
    dead = run(capsys, monkeypatch, "webhooks", "list", "--status", "dead", *db)[1].splitlines()
    assert len(dead) == 2 and "\tdead\t" in dead[1]


def test_retry_sends_the_dead_again_and_replay_everything_since(db, capsys, monkeypatch) -> None:
    assert run(capsys, monkeypatch, "webhooks", "retry", *db)[1] == \
        "1 dead-lettered deliveries will be tried again now.\n"
    assert asyncio.run(statuses(db)) == [("delivered", 1), ("pending", 0), ("pending", 0)]
    assert run(capsys, monkeypatch, "webhooks", "retry", "2", *db)[1].startswith("0 dead-lettered")
    assert run(capsys, monkeypatch, "webhooks", "replay", "--since", "1h", *db)[1].startswith(
        "3 deliveries of events since ")
    assert asyncio.run(statuses(db)) == [("pending", 0)] * 3
    assert run(capsys, monkeypatch, "webhooks", "replay", "--since", "2099-01-01", *db)[1].startswith("0 deliveries")


@pytest.mark.parametrize(("argv", "expected"), [
    (["replay"], "the following arguments are required: --since"),
    (["replay", "--since", "yesterday"], "expected a duration (30m, 2h, 7d) or a time (2026-12-01T08:00)"),
    (["retry", "seven"], "'seven': expected a row id from `chatbot webhooks list`"),
    (["list", "--status", "lost"], "invalid choice: 'lost'"),
])
def test_bad_arguments_say_what_was_expected(db, capsys, monkeypatch, argv: list[str], expected: str) -> None:
    with pytest.raises(SystemExit) as stopped:
        run(capsys, monkeypatch, "webhooks", *argv, *db)
    assert stopped.value.code == 2
    assert expected in capsys.readouterr().err
