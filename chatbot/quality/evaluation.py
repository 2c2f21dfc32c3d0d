"""``chatbot eval DATA.json``: measure the intent matcher on a file in the CLINC150 layout.

The file holds {"train": [[text, intent], ...], "val": [...], "oos_train":
[...], "oos_val": [...]} and optionally "test"/"oos_test". The server's own
Matcher is built from train (oos_train as negatives), the handoff threshold is
chosen on val + oos_val only, and the figures are reported on test + oos_test
when the file has them, else on val + oos_val (then they flatter the matcher:
the threshold was chosen on the same data). Queries are ranked one at a time,
as the server does, and each call is timed.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from chatbot.bot.matcher import Matcher
from chatbot.bot.matcher.calibration import OOS_SHARE
from chatbot.bot.matcher.encoder import SentenceEncoder, encoder_for
from chatbot.shared.figures import percentile
from chatbot.shared.values import flag, number, whole_number

Rows = list[tuple[str, str]]
_REQUIRED = ("train", "val", "oos_val")
_OPTIONAL = ("oos_train", "test", "oos_test")
RELIABILITY_BINS = 10


class DatasetError(ValueError):
    """The evaluation file is unusable; the message says where and why."""


@dataclass(frozen=True)
class Dataset:
    train: Rows
    val: Rows
    oos_train: Rows
    oos_val: Rows
    test: Rows
    oos_test: Rows


@dataclass(frozen=True)
class Outcome:
    """One ranked query: the top intent (None when the matcher returned nothing), its confidence, the time taken."""

    gold: str | None  # None for out-of-scope
    intent: str | None
    confidence: float
    seconds: float
    cpu_seconds: float


class Guess(Protocol):
    """What the threshold choice needs of a ranked query (an ``Outcome``, or a held-out intent example)."""

    @property
    def gold(self) -> str | None: ...  # None for out-of-scope

    @property
    def intent(self) -> str | None: ...

    @property
    def confidence(self) -> float: ...


@dataclass(frozen=True)
class Scores:
    in_scope_accuracy: float
    oos_recall: float
    overall_accuracy: float


@dataclass(frozen=True)
class Bin:
    lo: float
    hi: float
    n: int
    mean_confidence: float
    accuracy: float


@dataclass(frozen=True)
class Report:
    in_scope_accuracy: float
    oos_recall: float
    overall_accuracy: float
    threshold: float
    ms_per_query_p50: float
    ms_per_query_p99: float
    cpu_ms_per_query_p99: float
    build_seconds: float
    n_test: int
    n_test_oos: int
    split: str
    n_train: int
    shots: int | None
    val_in_scope_accuracy: float
    val_oos_recall: float
    expected_calibration_error: float
    reliability: list[Bin]


def _rows(data: dict[str, Any], key: str, oos: bool) -> Rows:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise DatasetError(f'"{key}" must be a list of [text, intent] pairs, not {type(value).__name__}')
    rows: Rows = []
    for i, row in enumerate(value):
        if not (isinstance(row, list | tuple) and len(row) == 2 and all(isinstance(x, str) for x in row)):
            raise DatasetError(f'{key}[{i}] must be [text, intent] (two strings), got {json.dumps(row)[:80]}')
        if not oos and not row[1].strip():
            raise DatasetError(f"{key}[{i}] has an empty intent")
        rows.append((row[0], row[1]))
    return rows


def load_dataset(path: Path) -> Dataset:
    """Read and check a CLINC-layout file; raises DatasetError naming the problem."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DatasetError(f"cannot read it: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise DatasetError(f"not UTF-8 text: {exc.reason} at byte {exc.start}") from exc
    except json.JSONDecodeError as exc:
        raise DatasetError(f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from exc
    if not isinstance(data, dict):
        raise DatasetError(f"the top level must be an object with {', '.join(_REQUIRED)}, not {type(data).__name__}")
    missing = [key for key in _REQUIRED if key not in data]
    if missing:
        raise DatasetError(f"missing key(s): {', '.join(missing)} (expected {', '.join(_REQUIRED + _OPTIONAL)})")
    if ("test" in data) != ("oos_test" in data):
        raise DatasetError('"test" and "oos_test" come together: the file has only one of them')
    sets = {key: _rows(data, key, oos=key.startswith("oos")) for key in _REQUIRED + _OPTIONAL}
    for key in _REQUIRED:
        if not sets[key]:
            raise DatasetError(f'"{key}" is empty')
    return Dataset(**sets)


def subsample(rows: Rows, shots: int, seed: int) -> Rows:
    """At most ``shots`` examples per intent, drawn with a fixed seed (order of the file kept)."""
    by_intent: dict[str, list[int]] = {}
    for i, (_, intent) in enumerate(rows):
        by_intent.setdefault(intent, []).append(i)
    rng = random.Random(seed)
    keep = sorted(
        i for intent in sorted(by_intent) for i in rng.sample(by_intent[intent], min(shots, len(by_intent[intent])))
    )
    return [rows[i] for i in keep]


def run_queries(matcher: Matcher, queries: Sequence[tuple[str, str | None]],
                progress: Callable[[int, int], None] | None = None) -> list[Outcome]:
    """Rank each query alone, timing the call (wall clock and this thread's CPU)."""
    matcher.rank("warm up")
    outcomes = []
    for n, (text, gold) in enumerate(queries, 1):
        wall, cpu = time.perf_counter(), time.thread_time()
        candidates = matcher.rank(text)
        cpu_seconds, seconds = time.thread_time() - cpu, time.perf_counter() - wall
        best = candidates[0] if candidates else None
        outcomes.append(
            Outcome(gold, best.intent if best else None, best.confidence if best else 0.0, seconds, cpu_seconds)
        )
        if progress:
            progress(n, len(queries))
    return outcomes


def score(outcomes: Sequence[Outcome], threshold: float) -> Scores:
    """In-scope answered right above the threshold; out-of-scope handed off (below it)."""
    in_scope = [o for o in outcomes if o.gold is not None]
    oos = [o for o in outcomes if o.gold is None]
    right = sum(o.intent == o.gold and o.confidence >= threshold for o in in_scope)
    handed = sum(o.confidence < threshold for o in oos)
    return Scores(right / max(len(in_scope), 1), handed / max(len(oos), 1), (right + handed) / max(len(outcomes), 1))


def choose_threshold(outcomes: Sequence[Guess], min_oos_recall: float | None = None) -> float:
    """The threshold the server should use, from validation outcomes only.

    By default it maximises accuracy when out-of-scope messages make up
    OOS_SHARE of the traffic (the same prior the confidences assume), so the
    small oos_val does not count for almost nothing. With ``min_oos_recall``,
    the best in-scope accuracy among thresholds handing off at least that share.
    Thresholds are taken half-way between neighbouring confidences.
    """
    conf = np.array([o.confidence for o in outcomes])
    is_oos = np.array([o.gold is None for o in outcomes])
    right = np.array([o.gold is not None and o.intent == o.gold for o in outcomes])
    levels = np.unique(np.append(conf, [0.0, 1.0]))
    thresholds = np.concatenate([[0.0], (levels[:-1] + levels[1:]) / 2, [1.0]])
    right_conf = np.sort(conf[right])
    oos_conf = np.sort(conf[is_oos])
    in_scope = (len(right_conf) - np.searchsorted(right_conf, thresholds)) / max((~is_oos).sum(), 1)
    recall = np.searchsorted(oos_conf, thresholds) / max(is_oos.sum(), 1)
    if min_oos_recall is None:
        value = (1 - OOS_SHARE) * in_scope + OOS_SHARE * recall
    else:
        value = np.where(recall >= min_oos_recall, in_scope, -1.0 + thresholds)
    return float(round(thresholds[int(np.argmax(value))], 4))


def reliability(outcomes: Sequence[Outcome], bins: int = RELIABILITY_BINS) -> tuple[list[Bin], float]:
    """Confidence bins -> how often the top intent was right; and the expected calibration error."""
    table, error = [], 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        members = [o for o in outcomes if lo <= o.confidence < hi or (b == bins - 1 and o.confidence == 1.0)]
        if not members:
            continue
        mean_conf = sum(o.confidence for o in members) / len(members)
        accuracy = sum(o.gold is not None and o.intent == o.gold for o in members) / len(members)
        table.append(Bin(lo, hi, len(members), round(mean_conf, 4), round(accuracy, 4)))
        error += len(members) / len(outcomes) * abs(mean_conf - accuracy)
    return table, error


def _percentile_ms(values: Sequence[float], q: float) -> float:
    return round(percentile(values, q) * 1000, 4) if values else 0.0


def evaluate(data: Dataset, shots: int | None = None, seed: int = 0, min_oos_recall: float | None = None,
             progress: Callable[[str, int, int], None] | None = None, encoder: SentenceEncoder | None = None) -> Report:
    """Build on train (+ oos_train), choose the threshold on val, report on test (else val).

    ``encoder``: the sentence encoder of the English matcher's second stage (none: the fast stage alone).
    """
    train = subsample(data.train, shots, seed) if shots else data.train
    started = time.perf_counter()
    matcher = Matcher.build(train, negatives=[text for text, _ in data.oos_train], encoder=encoder)
    build_seconds = time.perf_counter() - started

    def queries(rows: Rows, oos: Rows) -> list[tuple[str, str | None]]:
        return [(text, intent) for text, intent in rows] + [(text, None) for text, _ in oos]

    def step(label: str) -> Callable[[int, int], None] | None:
        return (lambda done, total: progress(label, done, total)) if progress else None

    val = run_queries(matcher, queries(data.val, data.oos_val), step("val"))
    threshold = choose_threshold(val, min_oos_recall)
    split = "test" if data.test or data.oos_test else "val"
    tested = run_queries(matcher, queries(data.test, data.oos_test), step("test")) if split == "test" else val
    final, on_val = score(tested, threshold), score(val, threshold)
    table, calibration_error = reliability(tested)
    return Report(
        in_scope_accuracy=round(final.in_scope_accuracy, 4), oos_recall=round(final.oos_recall, 4),
        overall_accuracy=round(final.overall_accuracy, 4), threshold=threshold,
        ms_per_query_p50=_percentile_ms([o.seconds for o in tested], 50),
        ms_per_query_p99=_percentile_ms([o.seconds for o in tested], 99),
        cpu_ms_per_query_p99=_percentile_ms([o.cpu_seconds for o in tested], 99),
        build_seconds=round(build_seconds, 3), n_test=len(tested), n_test_oos=sum(o.gold is None for o in tested),
        split=split, n_train=len(train), shots=shots,
        val_in_scope_accuracy=round(on_val.in_scope_accuracy, 4), val_oos_recall=round(on_val.oos_recall, 4),
        expected_calibration_error=round(calibration_error, 4), reliability=table,
    )


def format_report(report: Report) -> str:
    """The human-readable table printed without --json."""
    lines = [
        f"split reported          {report.split} ({report.n_test} queries, {report.n_test_oos} out of scope)",
        f"trained on              {report.n_train} examples"
        + (f" ({report.shots} per intent)" if report.shots else ""),
        f"threshold (from val)    {report.threshold:.4f}",
        f"in-scope accuracy       {report.in_scope_accuracy:.4f}   (val {report.val_in_scope_accuracy:.4f})",
        f"out-of-scope recall     {report.oos_recall:.4f}   (val {report.val_oos_recall:.4f})",
        f"overall accuracy        {report.overall_accuracy:.4f}",
        f"ms per query            p50 {report.ms_per_query_p50:.3f}  p99 {report.ms_per_query_p99:.3f}"
        f"  (CPU p99 {report.cpu_ms_per_query_p99:.3f})",
        f"build seconds           {report.build_seconds:.2f}",
        "",
        f"reliability ({report.split}: confidence of the top intent -> how often it was right;"
        f" calibration error {report.expected_calibration_error:.3f})",
        "  confidence      n   mean conf   observed",
    ]
    lines += [
        f"  {b.lo:.1f}-{b.hi:.1f}  {b.n:7d}   {b.mean_confidence:9.3f}   {b.accuracy:8.3f}" for b in report.reliability
    ]
    return "\n".join(lines)


class ProgressBar:
    """A one-line bar on stderr, redrawn at most every 1% of the queries."""

    def __init__(self, width: int = 30) -> None:
        self.width = width

    def __call__(self, label: str, done: int, total: int) -> None:
        if done != total and done % max(total // 100, 1):
            return
        filled = self.width * done // max(total, 1)
        end = "\n" if done == total else ""
        print(f"\r{label:>5} [{'#' * filled}{'.' * (self.width - filled)}] {done}/{total}", end=end,
              file=sys.stderr, flush=True)


def _run(args: argparse.Namespace) -> int:
    try:
        data = load_dataset(Path(args.data))
    except DatasetError as exc:
        print(f"chatbot eval: {args.data}: {exc}", file=sys.stderr)
        return 2
    if not args.json:
        print(f"building the matcher on {args.data} ...", file=sys.stderr)
    encoder = encoder_for("auto" if args.encoder else "off")
    report = evaluate(data, shots=args.shots, seed=args.seed, min_oos_recall=args.min_oos_recall,
                      progress=None if args.json else ProgressBar(), encoder=encoder)
    if args.json:
        print(json.dumps(asdict(report), separators=(",", ":")))
    else:
        print(format_report(report))
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``eval`` to the ``chatbot`` command."""
    parser = subparsers.add_parser("eval", help="measure the intent matcher on a CLINC150-layout file",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", metavar="DATA.json", help="train/val/oos_train/oos_val (and optionally test/oos_test)")
    parser.add_argument("--json", action="store_true", help="print one JSON line with the figures, no table or bar")
    parser.add_argument("--shots", type=flag(whole_number(1)), help="train on only this many examples per intent")
    parser.add_argument("--seed", type=int, default=0, help="seed for --shots (default 0)")
    parser.add_argument("--min-oos-recall", type=flag(number(0, 1)),
                        help="choose the threshold with the best in-scope accuracy handing off at least this share "
                             "of val's out-of-scope queries (default: best accuracy at a 20%% out-of-scope share)")
    parser.add_argument("--no-encoder", dest="encoder", action="store_false",
                        help="measure the fast stage alone, without the sentence encoder the English matcher uses")
    parser.set_defaults(func=_run)
