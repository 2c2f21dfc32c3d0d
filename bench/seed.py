"""Fill a database with a history of plausible conversations, spread over days, for the dashboard's benchmark and
screenshots (never for tests: they speak the protocol).

Rows are written straight into the tables, in bulk, because going through the
protocol would take hours at 100,000 conversations. Each conversation is
consistent with what the server itself would have stored: its state changes
in order (created, handoff, take, close), the visitor's question and the bot's
or representative's answers, waits and ratings. The mix (fixed seed):

- 65 % answered by the bot alone, 15 % taken by a representative after a handoff (low confidence, a request for a
  person, urgent, pricing, booking), 8 % abandoned in the queue, 2 % asked for a person out of hours, and the
  rest, on the last day only, still open;
- more conversations on weekdays and in office hours (UTC), queue waits of about a minute and a half.

    python bench/seed.py --database-url sqlite+aiosqlite:///seeded.db --conversations 100000 --days 90
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from chatbot.store import make_engine, new_id, schema, token_digest
from chatbot.store.models import Agent, Conversation, Message, StateChange

REPRESENTATIVES = ("Maria", "Jorge", "Aisha")
ANSWERED = (("heat_therapy", "does heat help with upper back pain?"), ("exercises", "what exercises help my back?"),
            ("opening_hours", "when are you open?"), ("rest", "should I rest or keep moving?"))
UNANSWERED = ("do you take my insurance plan?", "is there parking near the clinic?", "is there parking for cars?",
              "can I bring my dog to the appointment?", "do you sell back braces?", "do you sell braces for the back?")
HANDOFFS = (("low_confidence", 0.5), ("requested", 0.3), ("urgent", 0.05), ("pricing", 0.1), ("booking", 0.05))
HOUR_WEIGHTS = [1, 1, 1, 1, 1, 2, 3, 5, 8, 10, 10, 9, 8, 9, 10, 9, 8, 6, 5, 4, 3, 2, 2, 1]
BATCH = 5000
# Columns only some conversations have; every row names them all, as one bulk insert needs.
OPTIONAL = ("queued_at", "closed_at", "agent_id", "agent_name", "rating", "rated_at", "after_hours_notice_at",
            "last_message_at")


def _moment(rng: random.Random, day: datetime, now: datetime) -> datetime:
    """A time in ``day``, office hours more likely; today's never later than an hour ago."""
    hour = rng.choices(range(24), HOUR_WEIGHTS)[0]
    latest = now - timedelta(seconds=rng.randrange(3600, 7200))
    return min(day + timedelta(hours=hour, seconds=rng.randrange(3600)), latest)


def _conversation(rng: random.Random, at: datetime, last_day: bool, agents: list[tuple[str, str]]) -> dict[str, Any]:
    """One conversation's rows: {"conversation": {...}, "changes": [...], "messages": [...]}."""
    cid = new_id()
    row: dict[str, Any] = {**dict.fromkeys(OPTIONAL), "id": cid, "token_hash": token_digest(cid), "lang": "en",
                           "created_at": at, "updated_at": at, "state": "closed", "reason": "closed_by_visitor"}
    changes = [_change(cid, None, "bot", "created", at)]
    roll = rng.random()
    kind = ("open" if last_day and roll > 0.9 else "bot" if roll < 0.65 else "taken" if roll < 0.8
            else "abandoned" if roll < 0.88 else "after_hours" if roll < 0.9 else "bot")
    if kind in ("bot", "open"):
        intent, text = rng.choice(ANSWERED)
        messages = [_message(cid, "visitor", text, at), _message(cid, "bot", "An answer from the clinic's page.",
                                                                  at + timedelta(seconds=1), intent=intent)]
    else:
        text = rng.choice(UNANSWERED)
        messages = [_message(cid, "visitor", text, at)]
    clock = at + timedelta(seconds=2)
    if kind == "open":
        row.update(state="bot", reason="created")
    elif kind == "after_hours":
        row["after_hours_notice_at"] = clock
    elif kind in ("taken", "abandoned"):
        reason = rng.choices([r for r, _ in HANDOFFS], [w for _, w in HANDOFFS])[0]
        changes.append(_change(cid, "bot", "queued", reason, clock))
        row["queued_at"] = clock
        clock += timedelta(seconds=rng.expovariate(1 / 90))
        if kind == "taken":
            agent_id, name = rng.choice(agents)
            changes.append(_change(cid, "queued", "agent", "takeover", clock, agent_id))
            clock += timedelta(seconds=rng.uniform(10, 60))
            messages.append(_message(cid, "agent", "Let me help you with that.", clock, agent=(agent_id, name)))
            row.update(agent_id=agent_id, agent_name=name, reason="closed_by_agent")
            if rng.random() < 0.6:
                row.update(rating=rng.choices([1, 2, 3, 4, 5], [1, 1, 3, 8, 12])[0],
                           rated_at=clock + timedelta(minutes=5))
    if row["state"] == "closed":
        clock += timedelta(minutes=rng.uniform(1, 15))
        before = "agent" if kind == "taken" else "queued" if kind == "abandoned" else "bot"
        changes.append(_change(cid, before, "closed", row["reason"], clock))
        row.update(closed_at=clock, updated_at=clock)
    row["last_message_at"] = messages[-1]["created_at"]
    return {"conversation": row, "changes": changes, "messages": messages}


def _change(cid: str, before: str | None, after: str, reason: str, at: datetime,
            agent_id: str | None = None) -> dict[str, Any]:
    return {"conversation_id": cid, "from_state": before, "to_state": after, "reason": reason, "created_at": at,
            "agent_id": agent_id}


def _message(cid: str, sender: str, text: str, at: datetime, intent: str | None = None,
             agent: tuple[str, str] | None = None) -> dict[str, Any]:
    return {"id": new_id(), "conversation_id": cid, "sender": sender, "text": text, "created_at": at,
            "intent": intent, "confidence": 0.9 if intent else None, "agent_id": agent[0] if agent else None,
            "agent_name": agent[1] if agent else None}


async def seed(url: str, conversations: int, days: int, now: datetime | None = None, seed_value: int = 23) -> None:
    """Bring the database to the current schema and add ``conversations`` over the ``days`` days up to ``now``."""
    rng = random.Random(seed_value)
    engine = make_engine(url)
    try:
        await schema.upgrade(engine)
        now = now or datetime.now(UTC)
        today = now.replace(hour=0, minute=0, second=0, microsecond=0)
        first = today - timedelta(days=days - 1)
        weights = [0.6 if (first + timedelta(days=d)).weekday() >= 5 else 1.0 for d in range(days)]
        agents = [(new_id(), name) for name in REPRESENTATIVES]
        async with engine.begin() as connection:
            await connection.execute(insert(Agent), [
                {"id": agent_id, "name": name, "token_hash": token_digest(agent_id), "created_at": first}
                for agent_id, name in agents])
        done = 0
        while done < conversations:
            rows = []
            for _ in range(min(BATCH, conversations - done)):
                day = rng.choices(range(days), weights)[0]
                at = _moment(rng, first + timedelta(days=day), now)
                rows.append(_conversation(rng, at, day == days - 1, agents))
            async with engine.begin() as connection:
                await connection.execute(insert(Conversation), [r["conversation"] for r in rows])
                await connection.execute(insert(StateChange), [c for r in rows for c in r["changes"]])
                await connection.execute(insert(Message), [m for r in rows for m in r["messages"]])
            done += len(rows)
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="e.g. sqlite+aiosqlite:///seeded.db (a new file)")
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
    started = time.perf_counter()
    asyncio.run(seed(args.database_url, args.conversations, args.days))
    print(f"{args.conversations} conversations over {args.days} days in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
