"""The admin commands, run in-process against real intent folders, a real server and its database."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import update

from chatbot.admin import commands as admin_cli
from chatbot.store.models import Conversation, utcnow
from chatbot.web.app import STORE
from tests.conftest import INTENTS, Server
from tests.test_admin import (
    ACCESS_EN,
    ACCESS_ES,
    SHOES,
    TOKEN,
    call,
    three_conversations,
    unanswered_by,
    write_intent,
)


def cli(*argv: str) -> int:
    """``chatbot <argv>`` through the commands' own ``register`` (as ``chatbot.cli.main`` wires them)."""
    parser = argparse.ArgumentParser(prog="chatbot")
    admin_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


async def cli_in_thread(*argv: str) -> int:
    """For commands that run their own event loop while the test's server runs in this one."""
    return await asyncio.to_thread(cli, *argv)


@pytest.fixture
def intents_dir(tmp_path: Path) -> Path:
    return Path(shutil.copytree(INTENTS, tmp_path / "intents"))


CAKES_EN = [
    "how do I bake a carrot cake",
    "carrot cake recipe",
    "best frosting for carrot cake",
    "can I freeze carrot cake",
    "carrot cake with walnuts",
    "moist carrot cake tips",
    "carrot cake baking time",
    "vegan carrot cake",
    "carrot cake without eggs",
    "easy carrot cake",
]
BREAD_EN = [
    "how do I bake banana bread",
    "banana bread recipe",
    "banana bread with ripe bananas",
    "can I freeze banana bread",
    "banana bread with walnuts",
    "moist banana bread tips",
    "banana bread loaf",
    "vegan banana bread",
    "banana bread without eggs",
    "easy banana bread",
]


# -- intents check ---------------------------------------------------------------------


@pytest.mark.slow
def test_check_passes_on_the_shipped_intents(capsys) -> None:
    assert cli("intents", "check", str(INTENTS)) == 0
    assert "0 error(s)" in capsys.readouterr().err


def test_check_prints_every_problem_as_file_line_message_and_fails(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "intents"
    folder.mkdir()
    write_intent(folder, "bread", BREAD_EN, [f"otra consulta {n} de pan" for n in range(10)], "Test answer")
    (folder / "broken.yaml").write_text("id: broken\nen:\n  examples: [unclosed\n", encoding="utf-8")
    (folder / "empty.yaml").write_text("", encoding="utf-8")

    assert cli("intents", "check", str(folder)) == 1

    lines = capsys.readouterr().out.splitlines()
    for name in ("broken.yaml", "empty.yaml"):
        assert any(re.match(rf"^\S*{name}:\d+: \S", line) for line in lines), (name, lines)


def test_check_of_a_missing_folder_fails_cleanly(tmp_path: Path, capsys) -> None:
    assert cli("intents", "check", str(tmp_path / "nowhere")) == 1
    assert "nowhere" in capsys.readouterr().out


def test_check_warns_about_an_example_another_intent_would_answer(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "baking"
    folder.mkdir()
    misplaced = "how long should banana bread bake"
    es = [f"pregunta de prueba numero {n} sobre {topic}" for n, topic in enumerate(["pastel"] * 10)]
    cakes = write_intent(folder, "cakes", [*CAKES_EN, misplaced], es, "Test answer about cakes")
    write_intent(folder, "bread", BREAD_EN, [f"otra consulta {n} de pan" for n in range(10)], "Test answer")
    line = cakes.read_text(encoding="utf-8").splitlines().index(f"    - {misplaced}") + 1

    assert cli("intents", "check", str(folder)) == 0

    out = capsys.readouterr().out
    assert f"{cakes}:{line}: example {misplaced!r} (en) would be answered by intent bread" in out
    assert cli("intents", "check", "--strict", str(folder)) == 1


# -- intents try ---------------------------------------------------------------------------


def test_try_shows_the_ranking_and_what_the_bot_would_do(capsys) -> None:
    assert cli("intents", "try", "hello", "--intents", str(INTENTS)) == 0
    out = capsys.readouterr().out
    assert "language: en" in out and re.search(r"1\. greeting +\d\.\d{3}", out)
    assert "the bot picks greeting" in out

    assert cli("intents", "try", "do you sell shoes", "--intents", str(INTENTS)) == 0
    assert "hands off (low_confidence)" in capsys.readouterr().out

    assert cli("intents", "try", "I lost control of my bladder", "--intents", str(INTENTS)) == 0
    assert "RED FLAG" in capsys.readouterr().out

    assert cli("intents", "try", "hola", "--lang", "es", "--intents", str(INTENTS)) == 0
    out = capsys.readouterr().out
    assert "language: es" in out and "the bot picks greeting" in out


def test_try_on_a_broken_folder_lists_the_problems(intents_dir: Path, capsys) -> None:
    (intents_dir / "broken.yaml").write_text("id: [broken\n", encoding="utf-8")
    assert cli("intents", "try", "hello", "--intents", str(intents_dir)) == 1
    assert re.search(r"broken\.yaml:\d+: ", capsys.readouterr().out)


# -- intents reload --------------------------------------------------------------------------


async def test_reload_command_swaps_or_lists_the_problems(make_server, intents_dir: Path, monkeypatch, capsys) -> None:
    server = await make_server(intents_dir=intents_dir)
    monkeypatch.setenv("CHATBOT_ADMIN_TOKEN", TOKEN)
    write_intent(intents_dir, "accessibility", ACCESS_EN, ACCESS_ES, "Test answer about access")
    assert await cli_in_thread("intents", "reload", "--url", server.url) == 0
    assert "(+accessibility)" in capsys.readouterr().out

    (intents_dir / "broken.yaml").write_text("id: [broken\n", encoding="utf-8")
    assert await cli_in_thread("intents", "reload", "--url", server.url) == 1
    captured = capsys.readouterr()
    assert re.search(r"broken\.yaml:\d+: ", captured.out) and "unchanged" in captured.err

    monkeypatch.setenv("CHATBOT_ADMIN_TOKEN", "wrong")
    assert await cli_in_thread("intents", "reload", "--url", server.url) == 2
    assert "401" in capsys.readouterr().err
    monkeypatch.delenv("CHATBOT_ADMIN_TOKEN")
    assert await cli_in_thread("intents", "reload", "--url", server.url) == 2
    assert "CHATBOT_ADMIN_TOKEN" in capsys.readouterr().err


async def test_reload_command_says_when_the_server_is_not_there(monkeypatch, capsys) -> None:
    monkeypatch.setenv("CHATBOT_ADMIN_TOKEN", TOKEN)
    assert await cli_in_thread("intents", "reload", "--url", "http://127.0.0.1:9") == 2
    assert "cannot reach the server" in capsys.readouterr().err


# -- unanswered --------------------------------------------------------------------------------


async def test_unanswered_prints_the_groups_and_writes_draft_intents(
    server: Server, visitors, tmp_path: Path, capsys
) -> None:
    await unanswered_by(visitors, server, [*SHOES, "what pizza toppings do you like"])
    drafts = tmp_path / "drafts"

    code = await cli_in_thread(
        "unanswered", "--since", "1h", "--yaml", str(drafts), "--database-url", server.settings.database_url
    )

    assert code == 0
    out = capsys.readouterr().out
    assert "4 unanswered message(s)" in out and "[1] 3 message(s) in en" in out
    assert out.index("[1]") < out.index(json.dumps(SHOES[0])) < out.index("[2]")
    (draft,) = drafts.glob("*.yaml")
    body = yaml.safe_load(draft.read_text(encoding="utf-8"))
    assert body["id"] == draft.stem and body["id"].startswith("draft_") and "shoes" in body["id"]
    assert sorted(body["en"]["examples"]) == sorted(SHOES) and body["es"]["examples"] == []
    assert body["en"]["answer"] == "" and "clinic's" in draft.read_text(encoding="utf-8")

    assert (
        await cli_in_thread(
            "unanswered",
            "--since",
            "1h",
            "--yaml",
            str(drafts),
            "--min-count",
            "1",
            "--database-url",
            server.settings.database_url,
        )
        == 0
    )
    assert len(list(drafts.glob("*.yaml"))) == 3, "a second run adds drafts, never overwrites"


def test_bad_durations_are_refused_by_the_parser(capsys) -> None:
    for argv in (
        ("unanswered", "--since", "abc"),
        ("transcripts", "purge", "--older-than", "0d"),
        ("transcripts", "purge"),
    ):
        with pytest.raises(SystemExit) as exit_info:
            cli(*argv)
        assert exit_info.value.code == 2
    assert "is not a duration" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [
    ("unanswered", "--limit", "-3"),  # used to print all but the last three groups
    ("unanswered", "--min-count", "0"),
    ("intents", "try", "--top", "0", "hello"),
])
def test_counts_below_one_are_refused_with_what_is_expected(capsys, argv: tuple[str, ...]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli(*argv)
    assert exit_info.value.code == 2
    assert "expected a whole number from 1" in capsys.readouterr().err


def test_a_setting_given_to_an_admin_command_is_checked_as_for_serve(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli("intents", "try", "--threshold", "7", "hello")
    assert exit_info.value.code == 2
    assert "argument --threshold: '7': expected a number from 0 to 1" in capsys.readouterr().err


# -- transcripts and conversations ---------------------------------------------------------------


async def test_export_in_each_format(server: Server, visitors, representatives, tmp_path: Path) -> None:
    ids = await three_conversations(server, visitors, representatives)
    url = server.settings.database_url

    assert (
        await cli_in_thread(
            "transcripts", "export", "--format", "json", "--out", str(tmp_path / "j"), "--database-url", url
        )
        == 0
    )
    exported = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in (tmp_path / "j").glob("*.json")}
    assert set(exported) == set(ids.values())
    assert exported[ids["lost"]]["messages"][0]["text"] == "do you sell shoes"

    assert (
        await cli_in_thread(
            "transcripts", "export", "--format", "jsonl", "--out", str(tmp_path / "l"), "--database-url", url
        )
        == 0
    )
    (lines_file,) = (tmp_path / "l").glob("conversations-*.jsonl")
    rows = [json.loads(line) for line in lines_file.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == [ids["happy"], ids["lost"], ids["person"]], "oldest first"

    assert (
        await cli_in_thread(
            "transcripts", "export", "--since", "1h", "--out", str(tmp_path / "t"), "--database-url", url
        )
        == 0
    )
    texts = {p.stem: p.read_text(encoding="utf-8") for p in (tmp_path / "t").glob("*.txt")}
    assert set(texts) == set(ids.values()) and "Visitor: do you sell shoes" in texts[ids["lost"]]


async def test_purge_deletes_only_closed_conversations_older_than_the_period(
    server: Server, visitors, representatives, capsys
) -> None:
    ids = await three_conversations(server, visitors, representatives)
    async with server.app[STORE].transaction() as session:
        await session.execute(
            update(Conversation).where(Conversation.id == ids["happy"]).values(closed_at=utcnow() - timedelta(days=100))
        )
    transcripts_dir = server.settings.transcripts_dir
    assert (transcripts_dir / f"{ids['happy']}.txt").is_file()
    flags = ["--database-url", server.settings.database_url, "--transcripts-dir", str(transcripts_dir)]

    assert await cli_in_thread("transcripts", "purge", "--older-than", "90d", "--dry-run", *flags) == 0
    assert "would purge 1 " in capsys.readouterr().out
    assert (await call(server, "GET", "/admin/conversations")).body["total"] == 3
    assert await cli_in_thread("transcripts", "purge", "--older-than", "90d", *flags) == 0

    assert "purged 1 closed conversation(s) and 1 transcript file(s)" in capsys.readouterr().out
    assert not (transcripts_dir / f"{ids['happy']}.txt").exists()
    assert (transcripts_dir / f"{ids['lost']}.txt").is_file()
    remaining = await call(server, "GET", "/admin/conversations")
    assert {c["id"] for c in remaining.body["conversations"]} == {ids["lost"], ids["person"]}


async def test_delete_one_visitors_conversation(server: Server, visitors, representatives, capsys) -> None:
    ids = await three_conversations(server, visitors, representatives)
    flags = ["--database-url", server.settings.database_url, "--transcripts-dir", str(server.settings.transcripts_dir)]

    assert await cli_in_thread("conversations", "delete", ids["lost"], *flags) == 0

    assert "and 1 transcript file(s)" in capsys.readouterr().out
    assert not (server.settings.transcripts_dir / f"{ids['lost']}.txt").exists()
    assert (await call(server, "GET", f"/admin/conversations/{ids['lost']}")).status == 404
    assert await cli_in_thread("conversations", "delete", ids["lost"], *flags) == 1
    assert "no conversation" in capsys.readouterr().err
