"""The content commands: ``chatbot content import``, and the grounding part of ``chatbot intents check --content``.

Exit codes as for the other admin commands: 0 fine, 1 nothing was imported or
an answer is not grounded in its source.

Tested in tests/test_content_import.py, tests/test_grounding.py.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from chatbot.bot.intents import Intent
from chatbot.content import grounding, importer, snapshot
from chatbot.content.fetch import Limits
from chatbot.quality.evaluation import ProgressBar
from chatbot.shared.values import flag, number, whole_number

DEFAULT_CONTENT = Path("content")


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
