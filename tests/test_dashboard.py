"""The admin dashboard: ``GET /admin/activity`` against a real server fed by real visitors and representatives, and
the ``/admin`` page in Chromium (sign-in, charts, CSV, date errors, transcript export, the try-it box, the keyboard,
axe-core).

Covers chatbot/admin/dashboard.py, chatbot/admin/tryout.py, the dashboard queries of chatbot/store/, and the page.
"""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from chatbot.admin import dashboard, tradeoff
from chatbot.chat.keys import STORE
from chatbot.store import Store
from chatbot.store.models import DailyRollup
from chatbot.web.app import SERVICE
from tests.conftest import Server
from tests.test_accessibility import assert_accessible, tab_to
from tests.test_admin import TOKEN, call
from tests.test_browser import HEAT_EN, UNKNOWN, Session, browser
from tests.test_intents_eval import baking

try:
    from playwright.async_api import Page, expect
except ImportError:  # test_browser's fixture skips (or fails in CI) without Playwright
    pass

FIXTURES = (browser, baking)  # fixtures of tests/test_browser.py and tests/test_intents_eval.py, by name


def today() -> str:
    return datetime.now(UTC).date().isoformat()


async def seed(server: Server, visitors, representatives) -> tuple[dict[str, str], Any]:
    """One conversation for each ending, through the protocol: the bot alone, taken after a low-confidence
    handoff (and rated 4), abandoned in the queue, and still open. Returns their ids by ending, and the visitor
    of the open one."""
    rep = await representatives(server, "Maria")
    ids = {}
    alone = await visitors(server.url)
    await alone.ask(HEAT_EN)
    assert (await alone.call("close", {}))["ok"]
    ids["bot"] = alone.conversation["id"]

    helped = await visitors(server.url)
    await helped.say(UNKNOWN)
    await rep.next("queue", lambda q: any(s["id"] == helped.conversation["id"] for s in q))
    assert (await rep.take(helped.conversation["id"]))["ok"]
    assert (await rep.say(helped.conversation["id"], "Let me help you with that"))["ok"]
    assert (await rep.call("close", {"conversation_id": helped.conversation["id"]}))["ok"]
    assert (await helped.call("rate", {"score": 4}))["ok"]
    ids["handoff:low_confidence"] = helped.conversation["id"]

    left = await visitors(server.url)
    await left.say(UNKNOWN)
    await rep.next("queue", lambda q: any(s["id"] == left.conversation["id"] for s in q))
    assert (await left.call("close", {}))["ok"]
    ids["abandoned"] = left.conversation["id"]

    still = await visitors(server.url)
    await still.ask(HEAT_EN)
    ids["open"] = still.conversation["id"]
    return ids, still


# -- the figures ------------------------------------------------------------------


async def test_endings_are_mutually_exclusive_and_add_up(server: Server, visitors, representatives) -> None:
    await every_figure_of_the_seeded_day(server, visitors, representatives)


async def test_the_figures_are_the_same_on_postgresql(make_server, pg_url: str, visitors, representatives) -> None:
    """The day, the hour and the seconds are each database's own SQL (chatbot/store/reads.py)."""
    await every_figure_of_the_seeded_day(await make_server(database_url=pg_url), visitors, representatives)


async def every_figure_of_the_seeded_day(server: Server, visitors, representatives) -> None:
    await seed(server, visitors, representatives)
    reply = await call(server, "GET", f"/admin/activity?from={today()}&to={today()}")
    assert reply.status == 200, reply.body
    figures = reply.body
    assert figures["conversations"] == 4
    assert figures["per_day"] == [{"day": today(), "conversations": 4}]
    counts = {e["ending"]: e["count"] for e in figures["endings"]}
    assert counts == {"bot": 1, "handoff:low_confidence": 1, "abandoned": 1, "open": 1}
    assert sum(counts.values()) == figures["conversations"]
    assert sum(e["share"] for e in figures["endings"]) == pytest.approx(1.0)
    assert sum(h["conversations"] for h in figures["busiest_hours"]) == 4
    assert figures["busiest_hours"][datetime.now(UTC).hour]["conversations"] >= 1  # unless the hour just turned
    assert figures["queue_wait"]["count"] == 1 and figures["queue_wait"]["p50"] >= 0
    assert figures["first_reply"]["count"] == 1
    assert figures["first_reply"]["p50"] >= figures["queue_wait"]["p50"]  # the reply came after the take
    assert figures["csat"]["count"] == 1 and figures["csat"]["average"] == 4
    assert figures["csat"]["by_representative"] == [{"representative": "Maria", "count": 1, "average": 4.0}]
    assert figures["unanswered"]["messages"] == 2
    group = figures["unanswered"]["groups"][0]
    assert group["count"] == 2 and group["draft"]["id"].startswith("draft_") and "examples:" in group["draft"]["yaml"]


async def test_days_before_the_range_are_not_counted(server: Server, visitors) -> None:
    await (await visitors(server.url)).ask(HEAT_EN)
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    reply = await call(server, "GET", f"/admin/activity?from={yesterday}&to={yesterday}")
    assert reply.status == 200 and reply.body["conversations"] == 0
    assert [e["count"] for e in reply.body["endings"]] == [0, 0, 0]  # bot, abandoned, open: shown, empty


async def test_a_settled_day_is_kept_read_back_alike_and_forgotten_when_a_conversation_goes(
        server: Server, visitors, representatives) -> None:
    """Rollups (chatbot/store/rollups.py): the dashboard is asked as if it were tomorrow, so today is over. A day
    with an open conversation is counted afresh each time and not kept; once its last conversation closes it is
    kept, with the figures counting afresh gives; a kept day is read, not counted again; deleting one of its
    conversations forgets it."""
    store = server.app[STORE]
    ids, still = await seed(server, visitors, representatives)
    day = datetime.now(UTC).date()
    when, tomorrow = dashboard.Period(day, day), day + timedelta(days=1)
    live = await dashboard.activity(store, when)
    assert await dashboard.activity(store, when, today=tomorrow) == live
    assert day.isoformat() not in await kept(store)  # the open conversation keeps the day open

    assert (await still.call("close", {}))["ok"]
    counted = await dashboard.activity(store, when)
    assert await dashboard.activity(store, when, today=tomorrow) == counted
    assert day.isoformat() in await kept(store)
    assert {e["ending"]: e["count"] for e in counted["endings"]}["bot"] == 2  # the open one ended with the bot

    async with store.transaction() as session:  # a kept day is read: change what is kept, and the figures follow
        row = await session.get(DailyRollup, day.isoformat())
        row.figures = {**row.figures, "hours": [n * 10 for n in row.figures["hours"]]}
    assert (await dashboard.activity(store, when, today=tomorrow))["conversations"] == 40
    assert (await dashboard.activity(store, when))["conversations"] == 4  # today itself is always counted

    assert (await call(server, "DELETE", f"/admin/conversations/{ids['bot']}")).status == 204
    assert day.isoformat() not in await kept(store)
    assert (await dashboard.activity(store, when, today=tomorrow))["conversations"] == 3


async def test_the_settled_days_are_kept_in_the_background(server: Server, visitors) -> None:
    """The server's own round (``keep_rollups``, a minute after start and then hourly), run here at once: every
    settled day of the last year is kept, today is not."""
    await (await visitors(server.url)).ask(HEAT_EN)
    round_ = asyncio.create_task(dashboard.keep_rollups(server.app[STORE], first_after=0))
    try:
        for _ in range(200):
            if len(found := await kept(server.app[STORE])) == dashboard.MAX_DAYS - 1:
                break
            await asyncio.sleep(0.05)
    finally:
        round_.cancel()
    today = datetime.now(UTC).date()
    assert found == [(today - timedelta(days=n)).isoformat() for n in range(dashboard.MAX_DAYS - 1, 0, -1)]


async def kept(store: Store) -> list[str]:
    async with store.transaction() as session:
        return list(await session.scalars(select(DailyRollup.day).order_by(DailyRollup.day)))


def test_endings_put_handoffs_between_the_bot_and_abandoned() -> None:
    shown = dashboard.endings({"open": 1, "handoff:urgent": 2, "bot": 5, "handoff:requested": 2})
    assert [e["ending"] for e in shown] == ["bot", "handoff:requested", "handoff:urgent", "abandoned", "open"]
    assert [e["share"] for e in shown] == [0.5, 0.2, 0.2, 0.0, 0.1]


@pytest.mark.parametrize(("query", "message"), [
    ("from=2026-05-10&to=2026-05-01", "from (2026-05-10) is after to (2026-05-01)"),
    ("from=2024-01-01&to=2026-01-01", "at most 366"),
    ("from=yesterday", "from: expected a date like 2026-05-31, got 'yesterday'"),
    ("to=2026-02-30", "to: expected a date like 2026-05-31"),
    ("from=20260501", "from: expected a date like 2026-05-31"),
])
async def test_a_bad_range_is_a_400_that_says_why(server: Server, query: str, message: str) -> None:
    reply = await call(server, "GET", "/admin/activity?" + query)
    assert reply.status == 400
    assert reply.body["error"]["code"] == "bad_request" and message in reply.body["error"]["message"]


async def test_the_figures_need_the_admin_token(server: Server) -> None:
    assert (await call(server, "GET", "/admin/activity", token=None)).status == 401
    assert (await call(server, "GET", "/admin/activity", token="wrong")).status == 401
    page = await call(server, "GET", "/admin", token=None)  # the page itself asks for the token
    assert page.status == 200 and "Admin token" in page.body


def test_the_default_range_is_the_last_30_days() -> None:
    chosen = dashboard.period({}, today=datetime(2026, 12, 3).date())
    assert (chosen.first.isoformat(), chosen.last.isoformat(), len(chosen.days())) == ("2026-11-04", "2026-12-03", 30)
    assert chosen.end - chosen.start == timedelta(days=30)


# -- the page in Chromium ----------------------------------------------------------


async def sign_in(page: Page, server: Server, token: str = TOKEN) -> None:
    await page.goto(server.url + "/admin")
    await page.get_by_label("Admin token").fill(token)
    await page.get_by_role("button", name="Sign in", exact=True).click()


async def test_dashboard_draws_every_chart_with_its_figures_and_csv(server: Server, browser: Session,
                                                                     visitors, representatives) -> None:
    ids, _ = await seed(server, visitors, representatives)
    page = await browser.page(1280, 900)
    await page.goto(server.url + "/admin")
    await assert_accessible(page, "dashboard sign-in")
    await sign_in(page, server)
    await expect(page.locator("#status")).to_have_text(re.compile("^Showing "))
    await expect(page.locator("canvas[role=img]")).to_have_count(6)
    await expect(page.locator("#summary")).to_contain_text("4 conversations")
    endings = page.locator("[data-chart=endings]")
    await expect(endings.get_by_role("img")).to_have_attribute(
        "aria-label", re.compile("Answered by the bot alone 25 %.*Handed off: low confidence 25 %"))
    await assert_accessible(page, "dashboard")

    async with page.expect_download() as started:
        await endings.get_by_role("button", name=re.compile("Download CSV")).click()
    saved = await (await started.value).path()
    text = saved.read_text(encoding="utf-8")
    assert text.splitlines()[0] == '"Ending","Conversations","Share"'
    assert '"Abandoned' not in text and '"Handed off, left before a representative took it","1","25 %"' in text

    await page.get_by_text("Draft an intent").first.click()
    await expect(page.locator(".groups pre").first).to_contain_text("examples:")

    await page.get_by_label("Words in a message").fill("Let me help")
    await page.get_by_role("button", name="Search").click()
    await expect(page.locator("#results tbody tr")).to_have_count(1)
    async with page.expect_download() as started:
        await page.get_by_role("button", name=re.compile("as text")).click()
    transcript = (await (await started.value).path()).read_text(encoding="utf-8")
    assert "Let me help you with that" in transcript and ids["handoff:low_confidence"] in transcript
    await assert_accessible(page, "dashboard with search results")


async def test_dashboard_says_what_is_wrong_with_the_dates(server: Server, browser: Session) -> None:
    page = await browser.page()
    await sign_in(page, server)
    await expect(page.locator("canvas[role=img]")).to_have_count(6)
    await page.get_by_label("From", exact=True).fill("2026-05-10")
    await page.get_by_label("To", exact=True).fill("2026-05-01")
    await page.get_by_role("button", name="Show").click()
    await expect(page.get_by_role("alert").filter(has_text="after")).to_have_text(
        "from (2026-05-10) is after to (2026-05-01): swap them")
    await page.get_by_label("From", exact=True).fill("2024-01-01")
    await page.get_by_role("button", name="Show").click()
    await expect(page.locator("#range-error")).to_contain_text("at most 366")


async def test_dashboard_refuses_a_wrong_token_and_remembers_a_good_one(server: Server, browser: Session) -> None:
    page = await browser.page()
    await sign_in(page, server, "not-the-token")
    await expect(page.locator("#sign-in-error")).to_have_text("That token is not valid")
    await sign_in(page, server)
    await expect(page.locator("canvas[role=img]")).to_have_count(6)
    await page.reload()
    await expect(page.locator("canvas[role=img]")).to_have_count(6)  # the token is kept for the tab
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_label("Admin token")).to_be_focused()


# -- the intents and the try-it box -------------------------------------------------


async def test_trying_a_message_says_what_the_running_bot_would_do(server: Server) -> None:
    listed = await call(server, "GET", "/admin/intents")
    assert listed.status == 200 and len(listed.body["intents"]) == len(server.app[SERVICE].bot.intents)
    expected = server.app[SERVICE].bot.reply(HEAT_EN, "en")
    answered = await call(server, "GET", "/admin/intents/try", params={"text": HEAT_EN})
    assert answered.status == 200
    assert (answered.body["intent"], answered.body["handoff_reason"]) == (expected.intent, None)
    assert answered.body["candidates"][0]["intent"] == expected.intent and answered.body["answer"] == expected.text
    handed = await call(server, "GET", "/admin/intents/try", params={"text": UNKNOWN})
    assert handed.body["handoff_reason"] == "low_confidence"
    for params, message in (({"text": " "}, "text: expected 1 to 500"), ({"text": "x" * 501}, "text: expected"),
                            ({"text": "hola", "lang": "fr"}, "lang: expected one of en, es")):
        refused = await call(server, "GET", "/admin/intents/try", params=params)
        assert refused.status == 400 and message in refused.body["error"]["message"]
    assert (await call(server, "GET", "/admin/intents/try", token=None, params={"text": "hi"})).status == 401


async def trade_off(server: Server) -> dict[str, Any]:
    """GET /admin/intents/trade-off until the child process has worked it out (202 until then)."""
    for _ in range(120):
        reply = await call(server, "GET", "/admin/intents/trade-off")
        if reply.status == 200:
            return reply.body
        assert reply.status == 202 and reply.body == {"state": "working"}, reply.body
        await asyncio.sleep(0.5)
    raise AssertionError("the trade-off was not worked out in a minute")


@pytest.mark.slow
async def test_the_threshold_trade_off_is_the_eval_commands_curve_worked_out_once(make_server, baking: Path) -> None:
    server = await make_server(intents_dir=baking)
    assert (await call(server, "GET", "/admin/intents/trade-off", token=None)).status == 401
    bot = server.app[SERVICE].bot
    figures = await trade_off(server)
    assert figures == json.loads(json.dumps(tradeoff.curve(list(bot.intents.values()), bot.threshold)))
    assert figures["current"] == bot.threshold and figures["out_of_scope"] == 20 and figures["examples"] == 41
    thresholds = [p["threshold"] for p in figures["curve"]]
    assert thresholds == [n / 100 for n in range(101)]
    answered = [p["answered"] for p in figures["curve"]]
    assert answered == sorted(answered, reverse=True) and answered[0] == 1.0  # a higher bar answers less
    handed = [p["handed_off"] for p in figures["curve"]]
    assert handed == sorted(handed) and handed[-1] == 1.0
    again = await call(server, "GET", "/admin/intents/trade-off")  # kept for this bot: no second child run
    assert again.status == 200 and again.body == figures


@pytest.mark.slow
async def test_dashboard_draws_the_trade_off_when_asked(make_server, baking: Path, browser: Session) -> None:
    server = await make_server(intents_dir=baking)
    page = await browser.page(1280, 900)
    await sign_in(page, server)
    await expect(page.locator("#intents tbody tr")).to_have_count(3)
    await tab_to(page, page.get_by_text("Threshold trade-off", exact=True))
    await page.keyboard.press("Enter")
    chart = page.locator("[data-chart=trade-off] canvas[role=img]")
    await expect(chart).to_have_attribute("aria-label", re.compile("At the current threshold 0\\.[0-9]{2}: "),
                                          timeout=60_000)
    await expect(page.locator("#trade-off-status")).to_contain_text("recommended")
    async with page.expect_download() as started:
        await page.get_by_role("button", name="Download CSV: Threshold trade-off").click()
    rows = (await (await started.value).path()).read_text(encoding="utf-8").splitlines()
    assert rows[0] == '"Threshold","Answered","Accuracy","Out of scope handed off"' and len(rows) == 1 + 21 + 2
    await assert_accessible(page, "dashboard with the trade-off")


async def test_dashboard_by_keyboard_try_a_message_and_download_a_chart(server: Server, browser: Session) -> None:
    page = await browser.page()
    await page.goto(server.url + "/admin")
    await tab_to(page, page.get_by_label("Admin token"))
    await page.keyboard.type(TOKEN)
    await page.keyboard.press("Enter")
    await expect(page.get_by_label("From", exact=True)).to_be_focused()  # focus moves into the dashboard
    await expect(page.locator("#intents tbody tr")).to_have_count(len(server.app[SERVICE].bot.intents))
    async with page.expect_download() as started:
        await tab_to(page, page.get_by_role("button", name="Download CSV: Conversations per day"))
        await page.keyboard.press("Enter")
    rows = (await (await started.value).path()).read_text(encoding="utf-8").splitlines()
    assert rows[0] == '"Day","Conversations"' and len(rows) == 31
    await tab_to(page, page.get_by_label("Try a message"))
    await page.keyboard.type(HEAT_EN)
    await page.keyboard.press("Enter")
    expected = server.app[SERVICE].bot.reply(HEAT_EN, "en")
    await expect(page.locator("#try-result")).to_contain_text(f"Answers with {expected.intent}")
    await assert_accessible(page, "dashboard with a tried message")
