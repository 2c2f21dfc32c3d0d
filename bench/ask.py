"""Ask a running server every question of a paraphrase file, as a new visitor would, and score the answers.

    python bench/ask.py [--url http://127.0.0.1:8080] [--file tests/data/paraphrases.yaml] [--timeout 10] [--json]

Each question opens a NEW conversation on ``/chat`` (auth ``{"lang": ...}``),
sends the question, and waits for what decides it, after the server has echoed
the visitor's own message:

- a bot ``message`` with an ``intent``                 -> that intent id
- a ``state`` event, state ``queued``, reason ``low_confidence`` -> ``handoff``
- ... reason ``urgent``                                -> ``urgent``
- ... reason ``requested``                             -> ``human_agent``

Bot messages without an intent (the "not sure" or emergency text) are not an
outcome on their own: the ``state`` event that follows them is. The visitor then
closes the conversation, so the representatives' queue is not left full of
benchmark visitors.

The server limits new conversations per address (``CHATBOT_NEW_CONVERSATIONS_PER_MINUTE``,
10 by default); when refused with ``rate_limited`` this script waits and retries,
so start the server with a higher limit to run the set at full speed.

Uses only python-socketio and PyYAML: it speaks the protocol (/work/shared/PROTOCOL.md),
not the server's code. Exit status: 0 when every question got an outcome
(right or wrong), 1 when some timed out or failed, 2 when it could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import aiohttp
import socketio
import yaml

NAMESPACE = "/chat"
DEFAULT_FILE = Path(__file__).resolve().parent.parent / "tests" / "data" / "paraphrases.yaml"
LANGS = ("en", "es")
HANDOFF_OUTCOMES = {"low_confidence": "handoff", "urgent": "urgent", "requested": "human_agent"}
RATE_LIMIT_WAIT = 6.0  # seconds between retries of a refused connect
RATE_LIMIT_GIVE_UP = 120.0


class BenchError(Exception):
    """A reason the benchmark cannot run at all (bad file, no server)."""


@dataclass(frozen=True)
class Case:
    text: str
    lang: str
    expect: str


@dataclass(frozen=True)
class Result:
    case: Case
    got: str  # intent id, "handoff:<reason>", "timeout" or "error:<code>"
    outcome: str | None  # what ``got`` counts as against ``expect``; None when nothing came back
    seconds: float

    @property
    def ok(self) -> bool:
        return self.outcome == self.case.expect


def load_cases(path: Path) -> list[Case]:
    """The questions of a paraphrase file; a clear error naming the entry when one is malformed."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise BenchError(f"cannot read {path}: {exc}") from None
    if not isinstance(data, list) or not data:
        raise BenchError(f"{path}: expected a non-empty list of {{text, lang, expect}} entries")
    cases = []
    for number, entry in enumerate(data, start=1):
        if not isinstance(entry, dict):
            raise BenchError(f"{path}: entry {number} is not a mapping")
        text, lang, expect = entry.get("text"), entry.get("lang", "en"), entry.get("expect")
        if not isinstance(text, str) or not text.strip():
            raise BenchError(f"{path}: entry {number} needs a non-empty 'text'")
        if lang not in LANGS:
            raise BenchError(f"{path}: entry {number} has lang {lang!r}; use one of {', '.join(LANGS)}")
        if not isinstance(expect, str) or not expect:
            raise BenchError(f"{path}: entry {number} needs 'expect' (an intent id, handoff or urgent)")
        cases.append(Case(text=text, lang=lang, expect=expect))
    return cases


def decide(event: str, data: Any) -> tuple[str, str] | None:
    """(got, outcome) if this event settles the question, else None."""
    if not isinstance(data, dict):
        return None
    if event == "message" and data.get("sender") == "bot" and data.get("intent"):
        return str(data["intent"]), str(data["intent"])
    if event == "state" and data.get("state") == "queued":
        reason = str(data.get("reason"))
        return f"handoff:{reason}", HANDOFF_OUTCOMES.get(reason, f"handoff:{reason}")
    return None


class Visitor:
    """One browser tab: its own HTTP session and socket, the events it received in order, one conversation."""

    def __init__(self) -> None:
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())
        self.sio = socketio.AsyncClient(reconnection=False, http_session=self.http)
        self.events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.refusal: Any = None
        for event in ("conversation", "message", "state"):
            self.sio.on(event, self._recorder(event), namespace=NAMESPACE)
        self.sio.on("connect_error", self._refused, namespace=NAMESPACE)

    def _recorder(self, event: str) -> Any:
        async def record(data: Any = None) -> None:
            await self.events.put((event, data))

        return record

    async def _refused(self, data: Any = None) -> None:
        self.refusal = data

    async def connect(self, url: str, lang: str, timeout: float) -> None:
        """Open a new conversation; raises BenchError with the server's refusal code when refused."""
        try:
            await self.sio.connect(
                url, namespaces=[NAMESPACE], auth={"lang": lang}, transports=["websocket"], wait_timeout=timeout
            )
        except socketio.exceptions.ConnectionError as exc:
            code = self.refusal.get("code") if isinstance(self.refusal, dict) else None
            raise BenchError(f"refused:{code}" if code else f"cannot connect to {url}: {exc}") from None

    async def ask(self, text: str, deadline: float) -> tuple[str, str | None]:
        """Send ``text``; the first deciding event after the server's echo of it."""
        await self._next("conversation", deadline)
        client_id = uuid.uuid4().hex
        ack = await self.sio.call(
            "message", {"text": text, "client_id": client_id}, namespace=NAMESPACE, timeout=_left(deadline)
        )
        if not isinstance(ack, dict) or not ack.get("ok"):
            error = ack.get("error") if isinstance(ack, dict) else None
            code = error.get("code") if isinstance(error, dict) else None
            return f"error:{code or 'bad_ack'}", None
        await self._next("message", deadline, lambda m: isinstance(m, dict) and m.get("client_id") == client_id)
        while True:
            event, data = await asyncio.wait_for(self.events.get(), _left(deadline))
            decided = decide(event, data)
            if decided is not None:
                return decided

    async def _next(self, event: str, deadline: float, where: Any = lambda _: True) -> Any:
        while True:
            got, data = await asyncio.wait_for(self.events.get(), _left(deadline))
            if got == event and where(data):
                return data

    async def leave(self) -> None:
        """Close the conversation (best effort), hang up, release the HTTP session."""
        try:
            if self.sio.connected:
                try:
                    await self.sio.call("close", {}, namespace=NAMESPACE, timeout=2)
                except (socketio.exceptions.TimeoutError, socketio.exceptions.BadNamespaceError):
                    pass
                await self.sio.disconnect()
        finally:
            await self.http.close()


def _left(deadline: float) -> float:
    return max(0.01, deadline - time.monotonic())


async def ask_one(url: str, case: Case, timeout: float, warn: Any) -> Result:
    """Ask ``case`` in a new conversation, waiting out per-address limits on new conversations."""
    started = time.monotonic()
    give_up = started + RATE_LIMIT_GIVE_UP
    while True:
        visitor = Visitor()
        try:
            await visitor.connect(url, case.lang, timeout)
            break
        except BenchError as exc:
            await visitor.leave()
            if str(exc) != "refused:rate_limited" or time.monotonic() > give_up:
                raise
            warn()
            await asyncio.sleep(RATE_LIMIT_WAIT)
    asked = time.monotonic()
    try:
        got, outcome = await visitor.ask(case.text, asked + timeout)
    except (TimeoutError, socketio.exceptions.TimeoutError):
        got, outcome = "timeout", None
    finally:
        await visitor.leave()
    return Result(case=case, got=got, outcome=outcome, seconds=round(time.monotonic() - asked, 3))


def _share(results: Sequence[Result]) -> dict[str, Any]:
    right = sum(result.ok for result in results)
    return {"total": len(results), "ok": right, "share": round(right / len(results), 4) if results else None}


def summarize(results: Sequence[Result]) -> dict[str, Any]:
    """Accuracy on answerable questions, hand-offs of out-of-scope ones, urgent path for red flags, overall."""
    answerable = [r for r in results if r.case.expect not in ("handoff", "urgent")]
    return {
        "answerable_accuracy": _share(answerable),
        "out_of_scope_handed_off": _share([r for r in results if r.case.expect == "handoff"]),
        "red_flags_urgent": _share([r for r in results if r.case.expect == "urgent"]),
        "overall": _share(results),
        "no_outcome": sum(r.outcome is None for r in results),
        "slowest_seconds": max((r.seconds for r in results), default=None),
    }


def print_report(results: Sequence[Result], summary: dict[str, Any]) -> None:
    width = max(len(r.case.expect) for r in results)
    for result in results:
        mark = "ok  " if result.ok else "FAIL"
        print(
            f"{mark} expected={result.case.expect:<{width}} got={result.got:<{width + 8}} [{result.case.lang}] "
            f"{result.case.text}"
        )
    print()
    for name in ("answerable_accuracy", "out_of_scope_handed_off", "red_flags_urgent", "overall"):
        part = summary[name]
        share = "n/a" if part["share"] is None else f"{100 * part['share']:.1f}%"
        print(f"{name:<24} {part['ok']:>3}/{part['total']:<3} {share}")
    print(f"{'no_outcome':<24} {summary['no_outcome']:>3}  (timeouts and errors)")


async def run(url: str, cases: Sequence[Case], timeout: float, quiet: bool) -> list[Result]:
    warned = False

    def warn() -> None:
        nonlocal warned
        if not warned and not quiet:
            print(
                "rate_limited: waiting between new conversations; start the server with "
                "CHATBOT_NEW_CONVERSATIONS_PER_MINUTE=1000 to go faster",
                file=sys.stderr,
            )
        warned = True

    return [await ask_one(url, case, timeout, warn) for case in cases]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8080", help="server base URL")
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE, help="paraphrase YAML file")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for each answer")
    parser.add_argument("--json", action="store_true", help="print one JSON summary line instead of the report")
    args = parser.parse_args(argv)
    try:
        cases = load_cases(args.file)
        results = asyncio.run(run(args.url, cases, args.timeout, quiet=args.json))
    except BenchError as exc:
        print(f"ask.py: {exc}", file=sys.stderr)
        return 2
    summary = summarize(results)
    if args.json:
        print(json.dumps({"url": args.url, "file": str(args.file), **summary}))
    else:
        print_report(results, summary)
    if not args.json and any(r.outcome is None for r in results):
        print("\nno outcome:", json.dumps([asdict(r.case) for r in results if r.outcome is None]), file=sys.stderr)
    return 1 if summary["no_outcome"] else 0


if __name__ == "__main__":
    sys.exit(main())
