"""How well the bot understands visitors: the development set, through the protocol, against a live server.

    python bench/understanding.py [--url URL] [--files F ...] [--clinc PATH] [--concurrency 8] [--json] [--misses]

Without ``--url`` it starts its own server (SQLite in a temporary folder, the
shipped intents, per-address limits lifted) and stops it afterwards.

Each message of ``tests/data/understanding/*.yaml`` (the held-out file excepted:
pass it with ``--files`` to score it) is asked in a NEW conversation on
``/chat``; what settles it is read from the events, as a widget would:

- a bot ``message`` with an ``intent`` and no handoff after it -> answer (its ``intents``, else ``[intent]``)
- a ``state`` event ``queued`` with reason ``urgent``          -> urgent
- a ``state`` event ``queued`` with any other reason            -> handoff (that reason)

Scores: answerable (the right intent; both, for two questions), must hand off
(any handoff but urgent; the reason is reported apart), urgent recall, and false
alarms: urgent outcomes among the ordinary messages, i.e. every non-urgent entry
of the set plus CLINC150's ``val`` in-scope texts (``--clinc``; banking, travel,
cooking... questions that must never raise the alarm). Prints a table per
category and language, then one JSON line (``--json``: the JSON line only).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import socketio
import yaml
from common import ROOT, positive
from servers import ServerSpec, running

NAMESPACE = "/chat"
SET_DIR = ROOT / "tests" / "data" / "understanding"
HELD_OUT = "heldout.yaml"
CLINC = ROOT.parent / "shared" / "data" / "clinc150" / "clinc150_train_val.json"
EXPECTS = ("answer", "handoff", "urgent")
SETTLE_SECONDS = 0.3
"""After an answer, how long to wait for a handoff that may follow it (an intent whose action is a handoff)."""


class BenchError(Exception):
    """The set cannot be read or the server cannot be reached."""


@dataclass(frozen=True)
class Case:
    text: str
    lang: str
    expect: str
    category: str
    intents: tuple[str, ...] = ()
    reason: str | None = None


@dataclass
class Outcome:
    kind: str  # answer, handoff, urgent, timeout, error
    intents: tuple[str, ...] = ()
    reason: str | None = None

    def __str__(self) -> str:
        if self.kind == "answer":
            return "+".join(self.intents)
        return f"{self.kind}:{self.reason}" if self.reason else self.kind


@dataclass
class Result:
    case: Case
    outcome: Outcome

    @property
    def ok(self) -> bool:
        """Right as labelled: the intent(s), a non-urgent handoff, or urgent."""
        expect, got = self.case.expect, self.outcome
        if expect == "answer":
            return got.kind == "answer" and set(got.intents) == set(self.case.intents)
        if expect == "handoff":
            return got.kind == "handoff"
        return got.kind == "urgent"

    @property
    def reason_ok(self) -> bool:
        return self.ok and (self.case.expect != "handoff" or self.outcome.reason == self.case.reason)


def load_set(paths: Sequence[Path]) -> list[Case]:
    """Every entry of the set files; a clear error naming the file and entry when one is malformed."""
    cases: list[Case] = []
    for path in paths:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise BenchError(f"cannot read {path}: {exc}") from None
        if not isinstance(data, list):
            raise BenchError(f"{path}: expected a list of entries")
        for number, entry in enumerate(data, start=1):
            cases.append(_case(entry, f"{path.name}: entry {number}"))
    return cases


def _case(entry: Any, where: str) -> Case:
    if not isinstance(entry, dict) or not isinstance(entry.get("text"), str) or not entry["text"]:
        raise BenchError(f"{where}: needs a non-empty text")
    expect, lang = entry.get("expect"), entry.get("lang")
    if expect not in EXPECTS or lang not in ("en", "es"):
        raise BenchError(f"{where}: expect must be one of {EXPECTS} and lang en or es")
    intent = entry.get("intent")
    intents = tuple(intent) if isinstance(intent, list) else (intent,) if intent else ()
    if (expect == "answer") != bool(intents) or (expect == "handoff") != bool(entry.get("reason")):
        raise BenchError(f"{where}: an answer needs intent, a handoff needs reason, urgent neither")
    return Case(entry["text"], lang, expect, str(entry.get("category", "plain")), intents, entry.get("reason"))


def clinc_ordinary(path: Path) -> list[Case]:
    """CLINC150 val's in-scope texts, as ordinary messages: only their false alarms are counted."""
    if not path.exists():
        raise BenchError(f"{path} not found (pass --clinc '' to skip the CLINC150 false-alarm count)")
    data = json.loads(path.read_text(encoding="utf-8"))
    return [Case(text, "en", "ordinary", "clinc150_val") for text, _ in data["val"]]


class Visitor:
    """One new conversation: connect, ask, read what settles it, close."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())
        self.sio = socketio.AsyncClient(reconnection=False, http_session=self.http)
        self.events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        for event in ("conversation", "message", "state"):
            self.sio.on(event, self._recorder(event), namespace=NAMESPACE)

    def _recorder(self, event: str) -> Any:
        async def record(data: Any = None) -> None:
            await self.events.put((event, data))

        return record

    async def ask(self, case: Case, timeout: float) -> Outcome:
        deadline = time.monotonic() + timeout
        try:
            await self.sio.connect(self.url, namespaces=[NAMESPACE], auth={"lang": case.lang},
                                   transports=["websocket"], wait_timeout=timeout)
            await self._until(lambda e, _: e == "conversation", deadline)
            client_id = uuid.uuid4().hex
            ack = await self.sio.call("message", {"text": case.text, "client_id": client_id},
                                      namespace=NAMESPACE, timeout=timeout)
            if not isinstance(ack, dict) or not ack.get("ok"):
                return Outcome("error", reason=str((ack or {}).get("error", {}).get("code", "bad_ack")))
            return await self._settle(deadline)
        except (TimeoutError, socketio.exceptions.TimeoutError):
            return Outcome("timeout")
        except socketio.exceptions.ConnectionError as exc:
            raise BenchError(f"cannot connect to {self.url}: {exc}") from None
        finally:
            await self._leave()

    async def _settle(self, deadline: float) -> Outcome:
        answer: Outcome | None = None
        while True:
            wait = deadline - time.monotonic() if answer is None else SETTLE_SECONDS
            try:
                event, data = await asyncio.wait_for(self.events.get(), max(0.01, wait))
            except TimeoutError:
                if answer is not None:
                    return answer
                raise
            if not isinstance(data, dict):
                continue
            if event == "state" and data.get("state") == "queued":
                reason = str(data.get("reason"))
                return Outcome("urgent") if reason == "urgent" else Outcome("handoff", reason=reason)
            if event == "message" and data.get("sender") == "bot" and data.get("intent"):
                answer = Outcome("answer", tuple(data.get("intents") or [data["intent"]]))

    async def _until(self, wanted: Any, deadline: float) -> Any:
        while True:
            event, data = await asyncio.wait_for(self.events.get(), max(0.01, deadline - time.monotonic()))
            if wanted(event, data):
                return data

    async def _leave(self) -> None:
        try:
            if self.sio.connected:
                try:
                    await self.sio.call("close", {}, namespace=NAMESPACE, timeout=2)
                except (socketio.exceptions.TimeoutError, socketio.exceptions.BadNamespaceError):
                    pass
                await self.sio.disconnect()
        finally:
            await self.http.close()


async def ask_all(url: str, cases: Sequence[Case], concurrency: int, timeout: float) -> list[Result]:
    gate = asyncio.Semaphore(concurrency)

    async def one(case: Case) -> Result:
        async with gate:
            return Result(case, await Visitor(url).ask(case, timeout))

    return list(await asyncio.gather(*(one(case) for case in cases)))


@dataclass
class Tally:
    total: int = 0
    ok: int = 0

    def add(self, ok: bool) -> None:
        self.total += 1
        self.ok += ok

    @property
    def share(self) -> float | None:
        return round(self.ok / self.total, 4) if self.total else None


@dataclass
class Summary:
    by_group: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_category: dict[tuple[str, str, str], Tally] = field(default_factory=lambda: defaultdict(Tally))
    false_alarms: Tally = field(default_factory=Tally)
    handoff_reason: Tally = field(default_factory=Tally)
    no_outcome: int = 0

    def as_json(self) -> dict[str, Any]:
        groups = {name: {"total": t.total, "ok": t.ok, "share": t.share} for name, t in sorted(self.by_group.items())}
        return {
            **groups,
            "false_alarms": {"ordinary": self.false_alarms.total, "urgent": self.false_alarms.ok,
                             "share": self.false_alarms.share},
            "handoff_reason_right": {"total": self.handoff_reason.total, "ok": self.handoff_reason.ok,
                                     "share": self.handoff_reason.share},
            "no_outcome": self.no_outcome,
        }


def summarize(results: Sequence[Result]) -> Summary:
    summary = Summary()
    for result in results:
        case, kind = result.case, result.outcome.kind
        summary.no_outcome += kind in ("timeout", "error")
        if case.expect != "urgent":
            summary.false_alarms.add(kind == "urgent")
        if case.expect == "ordinary":
            continue
        for group in (case.expect, f"{case.expect}/{case.lang}", f"all/{case.lang}", "all"):
            summary.by_group[group].add(result.ok)
        summary.by_category[(case.expect, case.category, case.lang)].add(result.ok)
        if case.expect == "handoff":
            summary.handoff_reason.add(result.reason_ok)
    return summary


def _pct(tally: Tally) -> str:
    return "   n/a" if tally.share is None else f"{100 * tally.share:5.1f}%"


def print_table(summary: Summary) -> None:
    print(f"{'expect':<8} {'category':<22} {'en':>14} {'es':>14}")
    keys = sorted({(expect, category) for expect, category, _ in summary.by_category})
    for expect, category in keys:
        cells = []
        for lang in ("en", "es"):
            tally = summary.by_category.get((expect, category, lang))
            cells.append(f"{tally.ok:>3}/{tally.total:<3} {_pct(tally)}" if tally else "")
        print(f"{expect:<8} {category:<22} {cells[0]:>14} {cells[1]:>14}")
    print()
    for name, tally in sorted(summary.by_group.items()):
        print(f"{name:<16} {tally.ok:>4}/{tally.total:<4} {_pct(tally)}")
    alarms = summary.false_alarms
    print(f"{'false alarms':<16} {alarms.ok:>4}/{alarms.total:<4} {_pct(alarms)}  (urgent among ordinary messages)")
    print(f"{'handoff reason':<16} {summary.handoff_reason.ok:>4}/{summary.handoff_reason.total:<4} "
          f"{_pct(summary.handoff_reason)}  (handed off with the labelled reason)")
    print(f"{'no outcome':<16} {summary.no_outcome:>4}")


def print_misses(results: Sequence[Result]) -> None:
    for result in results:
        wrong = not result.ok if result.case.expect != "ordinary" else result.outcome.kind == "urgent"
        if wrong:
            case = result.case
            want = "+".join(case.intents) if case.expect == "answer" else f"{case.expect}:{case.reason or ''}"
            print(f"MISS [{case.lang}] {case.category:<20} want={want:<32} got={result.outcome!s:<28} {case.text}")
    print()


async def _run(args: argparse.Namespace, cases: list[Case]) -> list[Result]:
    if args.url:
        return await ask_all(args.url, cases, args.concurrency, args.timeout)
    with tempfile.TemporaryDirectory(prefix="understanding-") as work:
        async with running(ServerSpec("chatbot", "sqlite"), ROOT, Path(work)) as server:
            return await ask_all(server.url, cases, args.concurrency, args.timeout)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="", help="a running server; default: start one on SQLite")
    parser.add_argument("--files", type=Path, nargs="+",
                        default=sorted(p for p in SET_DIR.glob("*.yaml") if p.name != HELD_OUT))
    parser.add_argument("--clinc", default=str(CLINC), help="CLINC150 file for false alarms ('' to skip)")
    parser.add_argument("--concurrency", type=positive(int), default=8)
    parser.add_argument("--timeout", type=positive(float), default=20.0)
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    parser.add_argument("--misses", action="store_true", help="list every miss before the table")
    args = parser.parse_args(argv)
    try:
        cases = load_set(args.files)
        ordinary = clinc_ordinary(Path(args.clinc)) if args.clinc else []
        started = time.monotonic()
        results = asyncio.run(_run(args, cases + ordinary))
    except BenchError as exc:
        print(f"understanding.py: {exc}", file=sys.stderr)
        return 2
    summary = summarize(results)
    if not args.json:
        if args.misses:
            print_misses(results)
        print_table(summary)
    print(json.dumps({"files": [p.name for p in args.files], "seconds": round(time.monotonic() - started, 1),
                      **summary.as_json()}))
    return 1 if summary.no_outcome else 0


if __name__ == "__main__":
    sys.exit(main())
