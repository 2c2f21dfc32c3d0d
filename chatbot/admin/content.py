"""The content commands: ``chatbot content import``, ``chatbot intents draft|approve``, and the grounding part
of ``chatbot intents check --content``.

Exit codes as for the other admin commands: 0 fine, 1 nothing was imported, an
answer is not grounded in its source, or a draft cannot be approved.

Tested in tests/test_content_import.py, tests/test_grounding.py, tests/test_intents_draft.py.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from chatbot.bot.intents import SUFFIXES, Intent, check_directory
from chatbot.content import draft, grounding, importer, snapshot
from chatbot.content.fetch import Limits
from chatbot.quality.evaluation import ProgressBar
from chatbot.shared import config
from chatbot.shared.values import flag, number, whole_number

DEFAULT_CONTENT = Path("content")
DEFAULT_DRAFTS = Path("intents/drafts")


def _say(line: str) -> None:
    print(line, flush=True)


def _import(args: argparse.Namespace) -> int:
    """Import, print what changed and every error (one line each); 1 when no page was imported."""
    limits = Limits(pages=args.max_pages, bytes=args.max_bytes, redirects=args.max_redirects,
                    seconds=args.timeout, total_seconds=args.time_limit)
    try:
        outcome = asyncio.run(importer.run(args.sources, args.out, limits, _say,
                                           None if args.quiet else ProgressBar()))
    except snapshot.SnapshotError as exc:
        print(f"error: the snapshot folder has a file that is not a snapshot: {exc}", file=sys.stderr)
        return 2
    for line in outcome.changes.lines():
        print(line)
    print(f"{args.out}: {outcome.imported} page(s) imported, {outcome.errors} error(s); {outcome.changes.summary()}")
    return 0 if outcome.imported else 1


def check_grounding(intents: Sequence[Intent], content: Path) -> tuple[int, int]:
    """Print every grounding error and stale warning of ``intents`` against the snapshot; (errors, warnings)."""
    try:
        pages = snapshot.load(content)
    except snapshot.SnapshotError as exc:
        print(f"{content}:1: {exc}")
        return 1, 0
    if not pages:
        print(f"{content}:1: no page snapshots here (chatbot content import SOURCE --out {content})")
        return 1, 0
    findings = grounding.check(intents, pages)
    for finding in findings:
        print(finding)
    errors = sum(1 for f in findings if not f.warning)
    return errors, len(findings) - errors


def _draft(args: argparse.Namespace) -> int:
    """Draft intents from the snapshot into ``--out``; 1 when there is no snapshot to draft from."""
    try:
        pages = snapshot.load(args.content)
    except snapshot.SnapshotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not pages:
        print(f"error: no page snapshots in {args.content} (chatbot content import SOURCE --out {args.content})",
              file=sys.stderr)
        return 1
    live, _ = check_directory(config.load(args).intents_dir)
    outcome = draft.write(sorted(pages.values(), key=lambda p: p.url), args.out, live)
    for path in outcome.written:
        print(f"draft: {path}")
    for line in outcome.skipped:
        print(f"skipped {line}")
    print(f"{len(outcome.written)} draft(s) in {args.out}; none is live until approved (chatbot intents approve NAME)")
    return 0


def _untranslated(path: Path) -> bool:
    """A draft whose Spanish answer is still its English one (apart from the disclaimer)."""
    intents, _ = check_directory(path.parent)
    found = next((i for i in intents if i.path == str(path)), None)
    if found is None:
        return False
    english, spanish = (found.texts[lang].answer.replace(draft.DISCLAIMER[lang], "") for lang in ("en", "es"))
    return " ".join(english.split()) == " ".join(spanish.split())


def _approve(args: argparse.Namespace) -> int:
    """Move a draft into the live folder, once it passes the whole folder's check (and grounding, with --content)."""
    if not re.fullmatch(r"[a-z0-9_]+", args.name):
        print(f"error: {args.name!r} is not an intent id (a-z, 0-9 and _)", file=sys.stderr)
        return 1
    live = config.load(args).intents_dir
    source, target = args.drafts / f"{args.name}.yaml", live / f"{args.name}.yaml"
    if not source.is_file():
        print(f"error: no draft {source}", file=sys.stderr)
        return 1
    if target.exists():
        print(f"error: {target} already exists: rename the draft (its file and its id) first", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as scratch:
        trial = Path(scratch)
        for path in live.iterdir() if live.is_dir() else ():
            if path.suffix in SUFFIXES:
                shutil.copy(path, trial / path.name)
        shutil.copy(source, trial / source.name)
        intents, problems = check_directory(trial)
        for problem in problems:
            print(str(problem).replace(str(trial / source.name), str(source)).replace(str(trial), str(live)))
        errors = check_grounding([i for i in intents if i.id == args.name], args.content)[0] if args.content else 0
        untranslated = _untranslated(trial / source.name)
    if untranslated:
        print(f"{source}:1: the Spanish answer is still the English text: translate it first")
    if problems or errors or untranslated:
        print(f"not approved: {source} stays a draft", file=sys.stderr)
        return 1
    os.replace(source, target)
    print(f"approved: {target} (the running server takes it on: chatbot intents reload)")
    return 0


def register_intents(actions: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``draft`` and ``approve`` to ``chatbot intents``."""
    drafting = actions.add_parser("draft", help="draft intents from the content snapshot, one per section or term")
    drafting.add_argument("--content", type=Path, default=DEFAULT_CONTENT, help="the snapshot folder (content/)")
    drafting.add_argument("--out", type=Path, default=DEFAULT_DRAFTS, help="where drafts go (intents/drafts/)")
    config.add_setting(drafting, "intents_dir")
    drafting.set_defaults(func=_draft)
    approval = actions.add_parser("approve", help="move a checked draft into the live intent folder")
    approval.add_argument("name", help="the draft's id (its file name without .yaml)")
    approval.add_argument("--drafts", type=Path, default=DEFAULT_DRAFTS, help="the drafts folder (intents/drafts/)")
    approval.add_argument("--content", type=Path, help="also check its answer against this snapshot folder")
    config.add_setting(approval, "intents_dir")
    approval.set_defaults(func=_approve)


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``content import`` to the ``chatbot`` command."""
    parser = commands.add_parser("content", help="import the clinic site's pages into a snapshot")
    actions = parser.add_subparsers(dest="action", required=True)
    run = actions.add_parser("import", help="fetch pages, sitemaps or local files; save one JSON per page")
    run.add_argument("sources", nargs="+", metavar="SOURCE",
                     help="an http(s) page, a sitemap .xml URL, or a local .html/.htm/.md/.txt file or folder")
    run.add_argument("--out", type=Path, default=DEFAULT_CONTENT, help="the snapshot folder (default content/)")
    run.add_argument("--max-pages", type=flag(whole_number(1)), default=Limits.pages, help="pages in all")
    run.add_argument("--max-bytes", type=flag(whole_number(1)), default=Limits.bytes, help="bytes per page")
    run.add_argument("--max-redirects", type=flag(whole_number(0)), default=Limits.redirects,
                     help="redirects per request")
    run.add_argument("--timeout", type=flag(number(0, above=True)), default=Limits.seconds, help="seconds per request")
    run.add_argument("--time-limit", type=flag(number(0, above=True)), default=Limits.total_seconds,
                     help="seconds for the whole import")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.set_defaults(func=_import)
