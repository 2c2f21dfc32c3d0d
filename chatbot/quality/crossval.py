"""Cross-validation over the intents' own examples: every example ranked by a matcher that never saw it.

Used by ``chatbot intents check`` (examples closer to another intent than to
their own) and ``chatbot intents eval`` (accuracy and the threshold trade-off).

Holding out one example at a time means one matcher per example, and a
matcher takes a fifth of a second to build: five minutes for the shipped
intents. So the examples are held out in ``FOLDS`` groups instead, each
intent's examples spread over all the groups (the n-th example of an intent
goes to group n mod ``FOLDS``): ``FOLDS`` matchers per language, a few
seconds, and every example is still ranked by a matcher that never saw it,
beside nearly all of its intent's other examples. Out-of-scope examples
(``negatives``) are spread the same way, as if they were one more intent.

Tested in tests/test_intents_eval.py, tests/test_admin_cli.py.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

from chatbot.bot.matcher import Candidate, Matcher

FOLDS = 10


def _folds(golds: Sequence[str | None], folds: int) -> list[int]:
    """The group of each example: its position among its intent's examples, mod ``folds``."""
    seen: Counter[str | None] = Counter()
    groups = []
    for gold in golds:
        groups.append(seen[gold] % folds)
        seen[gold] += 1
    return groups


def cross_validate(examples: Sequence[tuple[str, str]], negatives: Sequence[str] = (), folds: int = FOLDS,
                   k: int = 3, progress: Callable[[int, int], None] | None = None) -> list[list[Candidate]]:
    """The top ``k`` intents of each (text, intent) example, then of each negative, by a matcher built without it.

    The matchers are built as the bot builds its own (``chatbot.bot.answers.Bot``):
    ``examples`` as intents, ``negatives`` as "none of them". ``progress``
    is called with (ranked so far, total) after each group.
    """
    rows: list[tuple[str, str | None]] = [*examples, *((text, None) for text in negatives)]
    groups = _folds([gold for _, gold in rows], folds)
    held: dict[int, list[Candidate]] = {}
    for fold in sorted(set(groups)):
        rest = [row for row, group in zip(rows, groups, strict=True) if group != fold]
        matcher = Matcher.build([(text, gold) for text, gold in rest if gold is not None],
                                negatives=[text for text, gold in rest if gold is None])
        for i, ((text, _), group) in enumerate(zip(rows, groups, strict=True)):
            if group == fold:
                held[i] = matcher.rank(text, k=k)
        if progress:
            progress(len(held), len(rows))
    return [held[i] for i in range(len(rows))]
