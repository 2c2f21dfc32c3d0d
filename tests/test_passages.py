"""Agent assist's passages: the snapshot's sections found by a visitor's words, sent when no intent is confident."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.async_api import expect

from chatbot.content.passages import MIN_SCORE, Passages
from tests.conftest import ROOT
from tests.test_admin import call, unanswered_by
from tests.test_admin_cli import cli_in_thread
from tests.test_browser import Session, browser, open_widget, say, sign_in  # noqa: F401 (a fixture)

CONTENT = ROOT / "content"


def test_the_best_matching_sections_come_first_with_their_links() -> None:
    passages = Passages.load(CONTENT)
    assert len(passages) == 14
    (first, *_) = passages.search("can I get the newsletter by email?")
    assert first.link == "back-to-health.html#info-packet" and first.heading == "Download your info packet"
    assert passages.search("pinched nerve from a herniated disc")[0].link == \
        "upper-back-muscle-pain.html#muscle-innervation"
    found = passages.search("does a hot tub help my back", k=2)
    assert found[0].link == "upper-back-muscle-pain.html#conservative-treatment"
    assert found[0].text.endswith(" …") and len(found[0].text.split()) == 61  # the start; the link has the rest
    assert all(p.score >= MIN_SCORE for p in found)


def test_a_message_about_nothing_on_the_site_finds_nothing() -> None:
    assert Passages.load(CONTENT).search("where do I park my car") == []


def test_no_snapshot_means_no_passages(tmp_path: Path) -> None:
    assert Passages.load(tmp_path / "missing").search("heat") == []
    (tmp_path / "broken.json").write_text("not json")
    assert len(Passages.load(tmp_path)) == 0


async def test_a_representative_gets_passages_only_when_the_bot_is_unsure(make_server, visitors,
                                                                           representatives) -> None:
    server = await make_server(content_dir=CONTENT, threshold=1.0)  # no intent is ever confident enough
    maria = await representatives(server, "Maria")
    visitor = await visitors(server.url)
    cid = visitor.conversation["id"]
    assert (await maria.call("watch", {"conversation_id": cid}))["ok"]
    assert (await visitor.say("does a hot tub help my back?"))["ok"]
    event = await maria.next("suggestions")
    assert event["passages"][0]["link"] == "upper-back-muscle-pain.html#conservative-treatment"
    assert set(event["passages"][0]) == {"link", "heading", "text", "score"}

    confident = await make_server(content_dir=CONTENT)
    maria = await representatives(confident, "Ana")
    visitor = await visitors(confident.url)
    assert (await maria.call("watch", {"conversation_id": visitor.conversation["id"]}))["ok"]
    await visitor.ask("what is a bone spur?")
    event = await maria.next("suggestions")
    assert event["suggestions"][0]["intent"] == "bone_spurs" and event["passages"] == []


async def test_the_unanswered_report_points_to_the_section_that_would_answer_a_group(make_server, visitors,
                                                                                     capsys) -> None:
    server = await make_server(content_dir=CONTENT, threshold=1.0)
    await unanswered_by(visitors, server, ["does a hot tub help my back?", "is a hot tub good for back pain"])
    assert await cli_in_thread("unanswered", "--since", "1h", "--database-url", server.settings.database_url,
                               "--content-dir", str(CONTENT)) == 0
    out = capsys.readouterr().out
    assert 'the site may answer it: upper-back-muscle-pain.html#conservative-treatment ("Conservative treatment")' \
        in out
    await unanswered_by(visitors, server, ["where do I park my car"])  # nothing on the site says
    report = await call(server, "GET", "/admin/unanswered?since=1h")
    assert [g["section"] for g in report.body["groups"]] == [
        {"link": "upper-back-muscle-pain.html#conservative-treatment", "heading": "Conservative treatment"}, None]


async def test_the_console_shows_the_passages_with_their_links(make_server, browser: Session,  # noqa: F811
                                                                representatives) -> None:
    server = await make_server(content_dir=CONTENT, threshold=1.0)  # the bot is never sure: every message hands off
    rep = await representatives(server, "Maria", connect=False)
    console = await browser.page(1280, 800)
    await sign_in(console, server, rep.token)
    visitor = await browser.page(375, 740)
    await open_widget(visitor, server.url + "/")
    await say(visitor, "do you have parking?")
    await console.locator("#queue li").get_by_role("button", name=re.compile("^Take")).click()
    await expect(visitor.locator(".subtitle")).to_have_text("You are chatting with Maria")
    await say(visitor, "does a hot tub help my back?")
    passage = console.locator(".suggestions .passage").first
    await expect(passage).to_contain_text("Conservative treatment")
    await expect(passage.locator(".source")).to_have_text("upper-back-muscle-pain.html#conservative-treatment")
    await passage.get_by_role("button").click()
    await expect(console.get_by_label("Your reply")).to_have_value(re.compile("^If you are experiencing upper back"))
