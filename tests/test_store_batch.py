"""Group commit (chatbot/store/batch.py): many conversations' turns in one transaction, each answered after it.

On a real database (a SQLite file, and the shared PostgreSQL): turns sent at
once are committed together, every conversation keeps its order, a retry in the
same batch as its first send stores nothing twice, and a closed conversation's
turn is refused without failing the others of its batch. And on PostgreSQL, a
pooled connection the server ended is replaced before the next turn.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from chatbot.store import BotAnswer, NewMessage, Store, schema
from chatbot.store.models import State


async def _store(url: str) -> Store:
    store = Store(url, commit_window=0.01, commit_batch=64)
    await schema.ensure(store.engine)
    return store


async def _check_batches(store: Store) -> None:
    conversations = [(await store.create_conversation("en", None, None))[0].id for _ in range(5)]
    closed = (await store.create_conversation("en", None, None))[0].id
    await store.append(closed, [], _close())
    answer = BotAnswer(NewMessage(sender="bot", text="an answer"), "es")

    async def visitor(cid: str) -> list[str]:
        sent = []
        for n in range(4):
            turn = await store.add_client_message(cid, NewMessage(sender="visitor", text=f"{n}", client_id=f"c{n}"),
                                                  answer)
            assert turn.created and turn.state == State.BOT and turn.message is not None
            assert [m.text for m in turn.replies] == ["an answer"]
            sent.append(turn.message.id)
        return sent

    retry = NewMessage(sender="visitor", text="again", client_id="same")
    results = await asyncio.gather(
        *(visitor(cid) for cid in conversations),
        store.add_client_message(closed, NewMessage(sender="visitor", text="too late")),
        store.add_client_message(conversations[0], retry),
        store.add_client_message(conversations[0], retry),
    )
    stored = [m for cid in conversations for m in await store.messages(cid) if m.sender == "visitor"]
    # A batch's messages carry its one time, so the distinct times count the batches.
    assert len({m.created_at for m in stored}) < len(stored) == 5 * 4 + 1, "turns sent at once share transactions"
    refused, first, second = results[-3:]
    assert refused.message is None and refused.state == State.CLOSED and not refused.created
    assert {first.created, second.created} == {True, False}, "the retry returns the first message, stores nothing"
    assert first.message is not None and second.message is not None and first.message.id == second.message.id
    for cid, sent in zip(conversations, results[:5], strict=True):
        history = [m for m in await store.messages(cid) if m.text != "again"]
        assert [m.text for m in history] == [t for n in range(4) for t in (f"{n}", "an answer")], "order kept"
        assert [m.id for m in history if m.sender == "visitor"] == sent
        conversation = await store.conversation(cid)
        assert conversation is not None and conversation.lang == "es", "the reply's language is kept"


def _close():  # type: ignore[no-untyped-def]
    from chatbot.chat.lifecycle import OPEN, Reason, change

    return change(Reason.CLOSED_BY_VISITOR, OPEN)


async def test_turns_of_many_conversations_commit_together_in_order_on_sqlite(tmp_path: Path) -> None:
    store = await _store(f"sqlite+aiosqlite:///{tmp_path / 'batch.db'}")
    try:
        await _check_batches(store)
    finally:
        await store.close()


async def test_turns_of_many_conversations_commit_together_in_order_on_postgresql(pg_url: str) -> None:
    store = await _store(pg_url)
    try:
        await _check_batches(store)
    finally:
        await store.close()


async def test_a_connection_postgresql_closed_is_replaced_before_the_next_turn(pg_url: str) -> None:
    """No ping before each transaction (chatbot/store/base.py): the pool drops a connection the server ended."""
    import asyncpg

    store = await _store(pg_url)
    try:
        cid = (await store.create_conversation("en", None, None))[0].id
        assert (await store.add_client_message(cid, NewMessage(sender="visitor", text="before"))).created
        admin = await asyncpg.connect(pg_url.replace("postgresql+asyncpg", "postgresql"))
        try:
            ended = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()")
        finally:
            await admin.close()
        assert ended >= 1, "the store's pooled connection was there to end"
        await asyncio.sleep(0.2)  # asyncpg reads the end of its socket on the event loop
        turn = await store.add_client_message(cid, NewMessage(sender="visitor", text="after"))
        assert turn.created and [m.text for m in await store.messages(cid)] == ["before", "after"]
    finally:
        await store.close()
