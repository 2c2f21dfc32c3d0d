"""The admins' commands: ``intents check|try|eval|reload`` (check and reload cover the forms too), ``unanswered``,
``transcripts export|purge``, ``conversations delete``.

``check``, ``try`` and ``eval`` read the intent folder directly; ``reload`` asks the
running server (``POST /admin/intents/reload``); the rest read or erase the
database, like ``chatbot agents``. Exit codes: 0 fine, 1 the thing checked
or asked for is wrong (problems in the files, no such conversation), 2 the
command could not do its job (server unreachable, token refused). Exports, purges and
deletions are appended to the audit trail as ``cli:USER``.

Tested in tests/test_admin_cli.py, tests/test_audit.py.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp

from chatbot.admin import content, reports, unanswered
from chatbot.bot.answers import Bot
from chatbot.bot.forms import check_directory as forms_check
from chatbot.bot.forms import references
from chatbot.bot.intents import IntentError, check_directory, load_intents
from chatbot.bot.matcher import DEFAULT_THRESHOLD
from chatbot.bot.matcher.encoder import encoder_for
from chatbot.chat import transcripts
from chatbot.chat.protocol import iso
from chatbot.content.passages import Passages
from chatbot.quality import intent_eval
from chatbot.quality.evaluation import ProgressBar
from chatbot.quality.overlap import closer_elsewhere
from chatbot.shared import config
from chatbot.shared.values import flag, whole_number
from chatbot.store import Store, schema
from chatbot.store.audit import cli_actor
from chatbot.store.models import utcnow


def _duration(text: str) -> timedelta:
    try:
        return reports.parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


# -- intents ------------------------------------------------------------------


def _check(args: argparse.Namespace) -> int:
    """Every problem as ``file:line: message``; the overlap check's findings are warnings."""
    settings = config.load(args)
    directory = args.directory or settings.intents_dir
    intents, problems = check_directory(directory)
    forms, form_problems = forms_check(settings.forms_dir)
    problems = sorted(problems + form_problems + references(intents, forms), key=lambda p: (p.path, p.line))
    for problem in problems:
        print(problem)
    warnings = closer_elsewhere(intents)
    for warning in warnings:
        print(f"{warning} (warning)")
    errors, stale = content.check_grounding(intents, args.content) if args.content else (0, 0)
    print(f"{directory}: {len(intents)} intents, {len(problems) + errors} error(s), "
          f"{len(warnings) + stale} warning(s); {settings.forms_dir}: {len(forms)} forms", file=sys.stderr)
    return 1 if problems or errors or (args.strict and (warnings or stale)) else 0


def _try(args: argparse.Namespace) -> int:
    settings = config.load(args)
    try:
        bot = Bot(load_intents(settings.intents_dir), settings.threshold, encoder_for(settings.sentence_encoder))
    except IntentError as exc:
        for problem in exc.problems:
            print(problem)
        print(f"{settings.intents_dir}: fix these first (chatbot intents check)", file=sys.stderr)
        return 1
    lang = bot.language_of(args.text, args.lang)
    print(f"language: {lang}")
    for rank, candidate in enumerate(bot.rank(args.text, lang, k=args.top), start=1):
        print(f"  {rank}. {candidate.intent:<32} {candidate.confidence:.3f}")
    reply = bot.reply(args.text, args.lang)
    if reply.handoff_reason == "urgent":
        print("RED FLAG: the bot sends the emergency message and hands off at once (urgent):")
    elif reply.handoff_reason == "low_confidence":
        print(f"the bot hands off (low_confidence): best {reply.confidence or 0:.3f} < threshold {bot.threshold:.3f}")
    elif reply.handoff_reason is not None:
        print(f"the bot picks {reply.intent} ({reply.confidence:.3f}) and hands off ({reply.handoff_reason}):")
    else:
        print(f"the bot picks {reply.intent} ({reply.confidence:.3f} >= threshold {bot.threshold:.3f}):")
    print("  " + reply.text.replace("\n", "\n  "))
    return 0


def _eval(args: argparse.Namespace) -> int:
    """Cross-validation over the folder's own examples: the tables (or ``--json``), and ``--plot`` the curve."""
    settings = config.load(args)
    directory = args.directory or settings.intents_dir
    try:
        if args.plot:
            intent_eval.require_matplotlib()  # before the run, not after it
        intents = load_intents(directory)
    except intent_eval.PlotUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except IntentError as exc:
        for problem in exc.problems:
            print(problem)
        print(f"{directory}: fix these first (chatbot intents check)", file=sys.stderr)
        return 1
    current = DEFAULT_THRESHOLD if settings.threshold is None else settings.threshold
    report = intent_eval.evaluate(intents, current, progress=None if args.json else ProgressBar())
    print(json.dumps(dataclasses.asdict(report), separators=(",", ":")) if args.json
          else intent_eval.format_report(report))
    if args.plot:
        try:
            intent_eval.plot(report, args.plot)
        except OSError as exc:
            print(f"error: cannot write {args.plot}: {exc.strerror or exc}", file=sys.stderr)
            return 2
        print(f"plot: {args.plot}", file=sys.stderr)
    return 0


async def _post_reload(url: str, token: str) -> tuple[int, dict[str, Any]]:
    timeout = aiohttp.ClientTimeout(total=60)
    async with (
        aiohttp.ClientSession(timeout=timeout) as http,
        http.post(url.rstrip("/") + "/admin/intents/reload", headers={"Authorization": f"Bearer {token}"}) as response,
    ):
        body = await response.json(content_type=None)
        return response.status, body if isinstance(body, dict) else {}


def _reload(args: argparse.Namespace) -> int:
    settings = config.load(args)
    if not settings.admin_token:
        print("error: set CHATBOT_ADMIN_TOKEN to the server's admin token", file=sys.stderr)
        return 2
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    url = args.url or f"http://{f'[{host}]' if ':' in host else host}:{settings.port}"
    try:
        status, body = asyncio.run(_post_reload(url, settings.admin_token))
    except (TimeoutError, aiohttp.ClientError, OSError, ValueError) as exc:
        print(f"error: cannot reach the server at {url}: {exc or type(exc).__name__}", file=sys.stderr)
        return 2
    if status == 200:
        changes = [f"+{i}" for i in body.get("added", [])] + [f"-{i}" for i in body.get("removed", [])]
        print(f"reloaded: {body.get('intents')} intents" + (f" ({', '.join(changes)})" if changes else ""))
        return 0
    if status == 422:
        for problem in body.get("problems", []):
            print(problem.get("text"))
        print("refused: the running intents are unchanged", file=sys.stderr)
        return 1
    print(f"error: {status}: {body.get('error', {}).get('message', body)}", file=sys.stderr)
    return 2


# -- the database commands ------------------------------------------------------

Command = Callable[[Store, argparse.Namespace, config.Settings], Awaitable[int]]


def _with_store(command: Command) -> Callable[[argparse.Namespace], int]:
    async def run(args: argparse.Namespace) -> int:
        settings = config.load(args)
        store = Store(settings.database_url)
        try:
            await schema.ensure(store.engine)
            return await command(store, args, settings)
        finally:
            await store.close()

    return lambda args: asyncio.run(run(args))


async def _unanswered(store: Store, args: argparse.Namespace, settings: config.Settings) -> int:
    since = utcnow() - args.since
    found = await store.unanswered(since)
    groups = await asyncio.to_thread(unanswered.group, found)
    passages = Passages.load(settings.content_dir)
    print(f"{len(found)} unanswered message(s) since {since:%Y-%m-%d %H:%M} UTC, in {len(groups)} group(s)")
    for number, group in enumerate(groups[: args.limit], start=1):
        print(f"\n[{number}] {group.count} message(s) in {group.lang}, last {group.last_seen:%Y-%m-%d %H:%M}")
        for example in group.examples[:5]:
            print(f"    {json.dumps(example, ensure_ascii=False)}")
        for answer in group.answers[:1]:
            print(f"    a representative answered: {json.dumps(answer[:200], ensure_ascii=False)}")
        if passage := passages.answering(group.examples):
            print(f"    the site may answer it: {passage.link} ({json.dumps(passage.heading, ensure_ascii=False)})")
    if args.yaml is not None:
        chosen = [g for g in groups if g.count >= args.min_count]
        for path in unanswered.write_drafts(chosen, args.yaml):
            print(f"draft: {path}")
        if len(chosen) < len(groups):
            print(f"({len(groups) - len(chosen)} smaller group(s) left out: --min-count 1 drafts them all)")
    return 0


async def _export(store: Store, args: argparse.Namespace, settings: config.Settings) -> int:
    """``txt`` and ``json``: one file per conversation; ``jsonl``: one file, a conversation per line."""
    out: Path = args.out or settings.transcripts_dir
    out.mkdir(parents=True, exist_ok=True)
    lines_path = out / f"conversations-{utcnow():%Y%m%dT%H%M%SZ}.jsonl"
    count = 0
    with lines_path.open("w", encoding="utf-8") if args.format == "jsonl" else contextlib.nullcontext() as lines:
        async for found in store.started_since(utcnow() - args.since):
            count += 1
            if lines is not None:
                lines.write(json.dumps(reports.history_json(found), ensure_ascii=False) + "\n")
            elif args.format == "json":
                text = json.dumps(reports.history_json(found), ensure_ascii=False, indent=2)
                (out / f"{found.conversation.id}.json").write_text(text, encoding="utf-8")
            else:
                await transcripts.write(out, found.conversation, found.messages)
    since = iso(utcnow() - args.since)
    await store.append_audit(cli_actor(), "conversations_exported", f"{count} started since {since} as {args.format}")
    print(f"exported {count} conversation(s) as {args.format} to {lines_path if args.format == 'jsonl' else out}")
    return 0


async def _purge(store: Store, args: argparse.Namespace, settings: config.Settings) -> int:
    """Closed conversations older than ``--older-than``, with their messages, state changes and transcripts."""
    ids = await store.closed_before(utcnow() - args.older_than)
    if args.dry_run:
        print(f"would purge {len(ids)} closed conversation(s)")
        return 0
    await store.delete_conversations(ids)
    before = iso(utcnow() - args.older_than)
    await store.append_audit(cli_actor(), "conversations_purged", f"{len(ids)} closed before {before}")
    files = reports.remove_transcripts(settings.transcripts_dir, ids)
    print(f"purged {len(ids)} closed conversation(s) and {files} transcript file(s)")
    return 0


async def _delete(store: Store, args: argparse.Namespace, settings: config.Settings) -> int:
    await store.append_audit(cli_actor(), "conversation_deleted", args.id[:300])
    if not await store.delete_conversations([args.id]):
        print(f"error: no conversation {args.id!r}", file=sys.stderr)
        return 1
    files = reports.remove_transcripts(settings.transcripts_dir, [args.id])
    print(f"deleted conversation {args.id} and {files} transcript file(s)")
    return 0


# -- the parsers ----------------------------------------------------------------


def _register_intents(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser("intents", help="check, try, evaluate and reload the intent files")
    actions = parser.add_subparsers(dest="action", required=True)
    check = actions.add_parser("check", help="validate every file; problems as file:line: message")
    check.add_argument("directory", nargs="?", type=Path, help="the intent folder [CHATBOT_INTENTS_DIR]")
    check.add_argument("--strict", action="store_true", help="fail on warnings too")
    check.add_argument("--content", type=Path, metavar="DIR",
                       help="also check every answer sentence against its source in this snapshot folder")
    config.add_setting(check, "forms_dir")
    check.set_defaults(func=_check)
    trial = actions.add_parser("try", help="what the bot would do with a message")
    trial.add_argument("text")
    trial.add_argument("--lang", choices=("en", "es"), default="en", help="the conversation's language")
    trial.add_argument("--top", type=flag(whole_number(1)), default=5, help="how many intents to rank")
    config.add_setting(trial, "intents_dir")
    config.add_setting(trial, "threshold")
    config.add_setting(trial, "sentence_encoder")
    trial.set_defaults(func=_try)
    evaluate = actions.add_parser("eval", help="hold out each example: accuracy, confused intents, the threshold")
    evaluate.add_argument("directory", nargs="?", type=Path, help="the intent folder [CHATBOT_INTENTS_DIR]")
    evaluate.add_argument("--json", action="store_true", help="print the figures as one JSON line, no table or bar")
    evaluate.add_argument("--plot", type=Path, metavar="FILE.png", help="draw the trade-off curve (needs matplotlib)")
    config.add_setting(evaluate, "threshold")
    evaluate.set_defaults(func=_eval)
    content.register_intents(actions)
    reload = actions.add_parser("reload", help="ask the running server to reload its intent folder")
    reload.add_argument("--url", help="the server's base URL [default: http://CHATBOT_HOST:CHATBOT_PORT]")
    reload.set_defaults(func=_reload)


def _register_data(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    report = commands.add_parser("unanswered", help="messages the bot could not answer, grouped by similarity")
    report.add_argument("--since", type=_duration, default=_duration("7d"), help="e.g. 12h, 7d (default 7d)")
    report.add_argument("--limit", type=flag(whole_number(1)), default=20, help="groups to print (default 20)")
    report.add_argument("--yaml", type=Path, metavar="DIR", help="write a draft intent file per group into DIR")
    report.add_argument("--min-count", type=flag(whole_number(1)), default=2,
                        help="draft only groups this large (default 2)")
    config.add_setting(report, "database_url")
    config.add_setting(report, "content_dir")
    report.set_defaults(func=_with_store(_unanswered))

    saved = commands.add_parser("transcripts", help="export or purge stored conversations")
    actions = saved.add_subparsers(dest="action", required=True)
    export = actions.add_parser("export", help="conversations started in the period, as files")
    export.add_argument("--since", type=_duration, default=_duration("7d"), help="e.g. 7d, 2w (default 7d)")
    export.add_argument("--format", choices=("json", "jsonl", "txt"), default="txt")
    export.add_argument("--out", type=Path, help="folder [default: CHATBOT_TRANSCRIPTS_DIR, transcripts/]")
    export.set_defaults(func=_with_store(_export))
    purge = actions.add_parser("purge", help="delete closed conversations older than a period")
    purge.add_argument("--older-than", type=_duration, required=True, help="e.g. 90d")
    purge.add_argument("--dry-run", action="store_true", help="only count them")
    purge.set_defaults(func=_with_store(_purge))

    conversations = commands.add_parser("conversations", help="one visitor's data")
    actions = conversations.add_subparsers(dest="action", required=True)
    erase = actions.add_parser("delete", help="erase a conversation, its messages and its transcript")
    erase.add_argument("id")
    erase.set_defaults(func=_with_store(_delete))
    for parser in (export, purge, erase):
        config.add_setting(parser, "database_url")
        config.add_setting(parser, "transcripts_dir")


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``intents``, ``unanswered``, ``transcripts`` and ``conversations`` to the ``chatbot`` command."""
    _register_intents(commands)
    _register_data(commands)
