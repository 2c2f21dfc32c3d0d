"""``chatbot intents eval [DIR]``: how well the bot answers its own intents' examples, and at which threshold.

Every example is held out and ranked by a matcher built without it
(``chatbot.quality.crossval``), the matchers built as the bot builds them: answerable
intents as intents, ``out_of_scope`` examples as "none of them". An
answerable example is handled when the bot would answer it with its own
intent; an out-of-scope example when the bot would hand it off (best
confidence below the threshold). The threshold trade-off shows, for each
threshold, the share of answerable examples the bot answers, the accuracy of
those answers, and the share of out-of-scope examples handed off; the
recommended threshold is the one ``chatbot eval`` would choose
(``evaluation.choose_threshold``: the best accuracy at a 20% out-of-scope share).

The examples are what the intents were written from, not visitors' words:
the figures say where intents overlap and how the threshold moves the
balance, and flatter the bot on real traffic.

Tested in tests/test_intents_eval.py.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from chatbot.bot.intents import LANGUAGES, OUT_OF_SCOPE, Intent
from chatbot.quality.crossval import FOLDS, cross_validate
from chatbot.quality.evaluation import choose_threshold

ALL = "all"
CURVE_STEPS = 100
TABLE_STEP = 10  # the trade-off table shows every 10th point of the curve (0.0, 0.1, ...)
CONFUSED = 10


class PlotUnavailable(RuntimeError):
    """``--plot`` was asked for but matplotlib is not installed (it is an optional extra)."""


@dataclass(frozen=True)
class Guess:
    """One held-out example: the intent it was written for and the matcher's best intent without it."""

    lang: str
    text: str
    own: str  # the id of the intent file the example is in
    answerable: bool  # False for an out_of_scope intent's example
    intent: str | None  # the top-ranked intent; None when nothing matched
    confidence: float

    @property
    def gold(self) -> str | None:
        """The intent the bot should answer with; None when it should hand off (as ``evaluation.Guess``)."""
        return self.own if self.answerable else None

    @property
    def first(self) -> bool:
        """Its own intent ranked first, whatever the threshold."""
        return self.answerable and self.intent == self.own

    def handled(self, threshold: float) -> bool:
        """What the bot should do at this threshold: answer with its own intent, or hand off."""
        answered = self.confidence >= threshold
        return answered and self.first if self.answerable else not answered


@dataclass(frozen=True)
class Point:
    """The trade-off at one threshold."""

    threshold: float
    answered: float  # share of answerable examples the bot answers
    accuracy: float | None  # share of those answers with the example's own intent; None when it answers none
    handed_off: float  # share of out-of-scope examples the bot hands off


@dataclass(frozen=True)
class LanguageScores:
    """One language (or ``all``) at the recommended threshold."""

    lang: str
    examples: int
    out_of_scope: int
    first: float  # share of answerable examples whose own intent ranked first
    at_threshold: Point


@dataclass(frozen=True)
class IntentScores:
    """One intent: ``first`` per language and ``all`` (None for out-of-scope); ``handled`` at the threshold."""

    intent: str
    examples: int
    first: dict[str, float | None]
    handled: float


@dataclass(frozen=True)
class Confusion:
    """Examples of ``own`` that the bot would give to ``picked`` instead; ``example`` is the first of them."""

    own: str
    picked: str
    count: int
    example: str


@dataclass(frozen=True)
class Report:
    """Everything the command prints (and ``--json`` writes); ``curve`` has a point every 0.01 of threshold."""

    threshold: float  # recommended
    current: float
    folds: int
    languages: list[LanguageScores]
    intents: list[IntentScores]
    confused: list[Confusion]
    curve: list[Point]
    at_current: Point


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def hold_out(intents: Sequence[Intent], lang: str, progress: Callable[[int, int], None] | None = None) -> list[Guess]:
    """Every example of one language, answerable ones then out-of-scope ones, with its held-out best intent."""
    rows = [(text, intent) for intent in intents if intent.answerable for text in intent.texts[lang].examples]
    outside = [(text, intent) for intent in intents if not intent.answerable for text in intent.texts[lang].examples]
    ranked = cross_validate([(text, intent.id) for text, intent in rows], [text for text, _ in outside], k=1,
                            progress=progress)
    return [
        Guess(lang, text, intent.id, intent.answerable, best[0].intent if best else None,
              best[0].confidence if best else 0.0)
        for (text, intent), best in zip([*rows, *outside], ranked, strict=True)
    ]


def point(guesses: Sequence[Guess], threshold: float) -> Point:
    """Answer rate, accuracy of the answers and out-of-scope handoff at ``threshold``."""
    answerable = [g for g in guesses if g.answerable]
    answered = [g for g in answerable if g.confidence >= threshold]
    outside = [g for g in guesses if not g.answerable]
    return Point(round(threshold, 4), _share(len(answered), len(answerable)),
                 _share(sum(g.first for g in answered), len(answered)) if answered else None,
                 _share(sum(g.handled(threshold) for g in outside), len(outside)))


def _language(guesses: Sequence[Guess], lang: str, threshold: float) -> LanguageScores:
    answerable = [g for g in guesses if g.answerable]
    return LanguageScores(lang, len(guesses), len(guesses) - len(answerable),
                          _share(sum(g.first for g in answerable), len(answerable)), point(guesses, threshold))


def _intent(intent: str, guesses: Sequence[Guess], threshold: float) -> IntentScores:
    """``guesses`` are this intent's examples, in every language."""
    first: dict[str, float | None] = {}
    for lang in (*LANGUAGES, ALL):
        mine = [g for g in guesses if lang in (ALL, g.lang)]
        first[lang] = _share(sum(g.first for g in mine), len(mine)) if mine and guesses[0].answerable else None
    return IntentScores(intent, len(guesses), first, _share(sum(g.handled(threshold) for g in guesses), len(guesses)))


def confusions(guesses: Iterable[Guess], threshold: float, limit: int = CONFUSED) -> list[Confusion]:
    """The most frequent (own intent, picked intent) pairs, most first.

    An answerable example counts when another intent ranks first, whatever
    its confidence (below the threshold it still costs a handoff); an
    out-of-scope example when the bot would answer it.
    """
    counts: Counter[tuple[str, str]] = Counter()
    first_example: dict[tuple[str, str], str] = {}
    for g in guesses:
        wrong = not g.first if g.answerable else g.confidence >= threshold
        if wrong and g.intent is not None:
            counts[g.own, g.intent] += 1
            first_example.setdefault((g.own, g.intent), g.text)
    return [Confusion(own, picked, n, first_example[own, picked]) for (own, picked), n in counts.most_common(limit)]


def score(guesses: Sequence[Guess], current: float) -> Report:
    """The report on held-out guesses; the recommended threshold is chosen on all languages together."""
    threshold = choose_threshold(guesses)
    by_intent: dict[str, list[Guess]] = {}
    for g in guesses:
        by_intent.setdefault(g.own, []).append(g)
    intents = sorted((_intent(own, mine, threshold) for own, mine in by_intent.items()),
                     key=lambda s: (s.handled, s.intent))
    languages = [_language([g for g in guesses if g.lang == lang], lang, threshold) for lang in LANGUAGES]
    return Report(
        threshold=threshold, current=current, folds=FOLDS,
        languages=[*languages, _language(guesses, ALL, threshold)],
        intents=intents, confused=confusions(guesses, threshold),
        curve=[point(guesses, step / CURVE_STEPS) for step in range(CURVE_STEPS + 1)],
        at_current=point(guesses, current),
    )


def evaluate(intents: Sequence[Intent], current: float,
             progress: Callable[[str, int, int], None] | None = None) -> Report:
    """Hold out every example of every language and score the bot's guesses; ``current`` is the server's threshold."""
    guesses: list[Guess] = []
    for lang in LANGUAGES:
        step = (lambda done, total, lang=lang: progress(lang, done, total)) if progress else None
        guesses += hold_out(intents, lang, step)
    return score(guesses, current)


# -- output ---------------------------------------------------------------------------------------


def _ratio(value: float | None) -> str:
    return "     -" if value is None else f"{value:6.3f}"


def _trade_off_rows(report: Report) -> list[str]:
    """Every 10th point of the curve, plus the recommended and the current thresholds, marked."""
    points = {p.threshold: p for p in report.curve[::TABLE_STEP]}
    points[report.threshold] = report.languages[-1].at_threshold
    points[report.current] = report.at_current

    def mark(threshold: float) -> str:
        names = [name for name, value in (("recommended", report.threshold), ("current", report.current))
                 if value == threshold]
        return f"  <- {', '.join(names)}" if names else ""

    return [f"  {t:9.4f}  {p.answered:8.3f}  {_ratio(p.accuracy):>8}  {p.handed_off:14.3f}{mark(t)}"
            for t, p in sorted(points.items())]


def format_report(report: Report) -> str:
    """The terminal tables: per language, the trade-off, per intent, the most confused pairs."""
    t = report.threshold
    lines = [f"each example held out ({report.folds} groups), ranked by a matcher built without it",
             "", f"at the recommended threshold {t:.4f}:",
             "  language  examples  out of scope  top-1  answered  accuracy  oos handed off"]
    lines += [f"  {s.lang:<8}  {s.examples:8d}  {s.out_of_scope:12d}  {s.first:5.3f}  {s.at_threshold.answered:8.3f}"
              f"  {_ratio(s.at_threshold.accuracy):>8}  {s.at_threshold.handed_off:14.3f}" for s in report.languages]
    lines += ["", "trade-off (answered: share of answerable examples; accuracy: of those answers):",
              "  threshold  answered  accuracy  oos handed off", *_trade_off_rows(report)]
    lines += ["", f"per intent, worst first (top-1: own intent ranked first; handled at {t:.4f}: answered with it,"
                  f" or handed off for {OUT_OF_SCOPE}):",
              f"  {'intent':<32} {'n':>4}  {'top-1 en':>8}  {'es':>6}  {'all':>6}  handled"]
    lines += [f"  {s.intent:<32} {s.examples:4d}  {_ratio(s.first['en']):>8}  {_ratio(s.first['es'])}"
              f"  {_ratio(s.first[ALL])}  {s.handled:7.3f}" for s in report.intents]
    lines += ["", "most confused (the example's intent -> the intent the bot picks instead):"]
    lines += [f"  {c.own} -> {c.picked}: {c.count}  e.g. {c.example!r}" for c in report.confused] or ["  none"]
    lines += ["", f"recommended threshold: {t:.4f} (current {report.current:.4f};"
                  " the best accuracy at a 20% out-of-scope share, as chatbot eval chooses it)"]
    return "\n".join(lines)


def require_matplotlib() -> None:
    """Raise ``PlotUnavailable`` now rather than after the evaluation."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise PlotUnavailable("--plot needs matplotlib: pip install 'chatbot[plot]' (or -e '.[plot]')") from exc


def plot(report: Report, path: Path) -> None:
    """The trade-off curve as a PNG, drawn with the Agg backend (no display; pyplot's global state untouched)."""
    require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    xs = [p.threshold for p in report.curve]
    for field, label in (("answered", "answered (share of answerable examples)"),
                         ("accuracy", "accuracy of the answers"), ("handed_off", "out-of-scope handed off")):
        values = [getattr(p, field) for p in report.curve]
        axes.plot(xs, [float("nan") if v is None else v for v in values], label=label)  # a gap where none answered
    axes.axvline(report.threshold, color="black", linestyle="--", label=f"recommended {report.threshold:.2f}")
    axes.axvline(report.current, color="grey", linestyle=":", label=f"current {report.current:.2f}")
    axes.set(xlabel="threshold (best confidence below it: hand off)", ylabel="share", xlim=(0, 1), ylim=(0, 1.02),
             title="Intent examples held out: the threshold trade-off")
    axes.grid(alpha=0.3)
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=3, fontsize="small")
    figure.savefig(path, format="png", bbox_inches="tight")
