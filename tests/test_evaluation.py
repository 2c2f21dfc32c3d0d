"""``chatbot eval`` on small generated CLINC-layout files: figures, threshold from val only, malformed files."""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import pytest

from chatbot.quality import evaluation
from chatbot.quality.evaluation import Outcome, choose_threshold, load_dataset, reliability, score, subsample

TOPICS = {
    "weather": ["weather", "rain", "forecast", "sunny"], "music": ["song", "playlist", "music", "album"],
    "timer": ["timer", "countdown", "alarm", "minutes"], "bank": ["balance", "account", "bank", "savings"],
    "recipe": ["recipe", "cook", "bake", "dinner"], "travel": ["flight", "hotel", "trip", "airport"],
}
TEMPLATES = ["can you tell me about the {}", "i need help with my {}", "what about {} today", "show me the {} please",
             "{} and {}", "how do i check the {}", "is there any {} for me"]
OOS = ["who painted the mona lisa", "what is the meaning of a haiku", "how tall is mount everest",
       "teach me chess openings", "what is quantum physics", "how many legs does a spider have",
       "name a famous poet", "why is the sky blue", "what is the speed of light", "who invented the telephone"]


def _rows(rng: random.Random, n: int) -> list[list[str]]:
    rows = []
    for intent, words in TOPICS.items():
        for _ in range(n):
            template = rng.choice(TEMPLATES)
            rows.append([template.format(*rng.sample(words, template.count("{}"))), intent])
    return rows


def make_dataset(with_test: bool = False, seed: int = 0) -> dict:
    rng = random.Random(seed)
    data = {"train": _rows(rng, 20), "val": _rows(rng, 5),
            "oos_train": [[t, "oos"] for t in OOS[:5]], "oos_val": [[t, "oos"] for t in OOS[5:]]}
    if with_test:
        data["test"] = _rows(rng, 5)
        # in-scope-looking: a test-tuned threshold would be high
        data["oos_test"] = [[text, "oos"] for text, _ in data["train"][::10]]
    return data


def _write(tmp_path: Path, data: object, name: str = "data.json") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def _main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="chatbot")
    evaluation.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["eval", *argv])
    return args.func(args)


def test_json_line_has_the_figures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _main([str(_write(tmp_path, make_dataset())), "--json"]) == 0
    out = capsys.readouterr()
    report = json.loads(out.out.strip().splitlines()[-1])
    for key in ("in_scope_accuracy", "oos_recall", "overall_accuracy", "threshold", "ms_per_query_p50",
                "ms_per_query_p99", "build_seconds", "n_test", "reliability"):
        assert key in report
    assert report["split"] == "val" and report["n_test"] == 30 + 5
    assert report["in_scope_accuracy"] >= 0.8
    assert all(0.0 <= report[k] <= 1.0 for k in ("in_scope_accuracy", "oos_recall", "overall_accuracy", "threshold"))
    assert sum(b["n"] for b in report["reliability"]) == report["n_test"]
    assert "[" not in out.err  # no progress bar with --json


def test_table_and_progress_bar_without_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _main([str(_write(tmp_path, make_dataset(with_test=True)))]) == 0
    out = capsys.readouterr()
    assert "in-scope accuracy" in out.out and "reliability (test" in out.out
    assert "test [" in out.err and "##" in out.err


def test_threshold_is_chosen_on_val_only(tmp_path: Path) -> None:
    with_test = make_dataset(with_test=True)
    without_test = {k: v for k, v in with_test.items() if k not in ("test", "oos_test")}
    reported = evaluation.evaluate(load_dataset(_write(tmp_path, with_test, "a.json")))
    on_val = evaluation.evaluate(load_dataset(_write(tmp_path, without_test, "b.json")))
    assert reported.split == "test" and on_val.split == "val"
    assert reported.threshold == on_val.threshold
    assert reported.n_test == len(with_test["test"]) + len(with_test["oos_test"])
    # The test split would have chosen another threshold: its out-of-scope queries look in scope.
    from chatbot.bot.matcher import Matcher
    data = load_dataset(_write(tmp_path, with_test, "c.json"))
    matcher = Matcher.build(data.train, [t for t, _ in data.oos_train])
    test_outcomes = evaluation.run_queries(
        matcher, [(t, i) for t, i in data.test] + [(t, None) for t, _ in data.oos_test]
    )
    assert choose_threshold(test_outcomes) != reported.threshold


def test_shots_subsample_per_intent_with_a_fixed_seed(tmp_path: Path) -> None:
    rows = [(t, i) for t, i in make_dataset()["train"]]
    picked = subsample(rows, 3, seed=7)
    assert len(picked) == 3 * len(TOPICS)
    assert picked == subsample(rows, 3, seed=7)
    assert picked != subsample(rows, 3, seed=8)
    report = evaluation.evaluate(load_dataset(_write(tmp_path, make_dataset())), shots=3)
    assert report.n_train == 3 * len(TOPICS) and report.shots == 3


def _outcome(gold: str | None, intent: str, confidence: float) -> Outcome:
    return Outcome(gold, intent, confidence, 0.0, 0.0)


def test_score_and_threshold_choice() -> None:
    outcomes = [_outcome("a", "a", 0.9), _outcome("a", "a", 0.6), _outcome("a", "b", 0.4),
                _outcome(None, "a", 0.5), _outcome(None, "a", 0.1)]
    s = score(outcomes, 0.55)
    assert (s.in_scope_accuracy, s.oos_recall, s.overall_accuracy) == (2 / 3, 1.0, 4 / 5)
    assert 0.5 < choose_threshold(outcomes) <= 0.6
    assert choose_threshold(outcomes, min_oos_recall=0.5) <= 0.5


def test_reliability_bins_cover_every_query() -> None:
    outcomes = [_outcome("a", "a", 0.95), _outcome("a", "b", 0.91), _outcome(None, "a", 0.15), _outcome("a", "a", 1.0)]
    table, error = reliability(outcomes)
    assert sum(b.n for b in table) == 4
    top = table[-1]
    assert (top.n, top.accuracy) == (3, round(2 / 3, 4))
    assert 0.0 <= error <= 1.0


MALFORMED = {
    "not_json": ("{train: [", "not valid JSON"),
    "top_level_list": ([["hi", "greet"]], "top level must be an object"),
    "missing_keys": ({"train": [["hi", "greet"]]}, "missing key(s): val, oos_val"),
    "bad_row": ({"train": [["hi", "greet"], ["oops"]], "val": [["hi", "greet"]], "oos_val": [["x", "oos"]]},
                "train[1] must be [text, intent]"),
    "not_a_list": ({"train": {"hi": "greet"}, "val": [["hi", "greet"]], "oos_val": [["x", "oos"]]},
                   '"train" must be a list'),
    "empty_train": ({"train": [], "val": [["hi", "greet"]], "oos_val": [["x", "oos"]]}, '"train" is empty'),
    "test_alone": ({"train": [["hi", "greet"]], "val": [["hi", "greet"]], "oos_val": [["x", "oos"]],
                    "test": [["hi", "greet"]]}, '"test" and "oos_test" come together'),
    "empty_intent": ({"train": [["hi", " "]], "val": [["hi", "greet"]], "oos_val": [["x", "oos"]]}, "empty intent"),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_file_names_the_problem_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      name: str) -> None:
    content, message = MALFORMED[name]
    assert _main([str(_write(tmp_path, content)), "--json"]) == 2
    err = capsys.readouterr().err
    assert message in err and "data.json" in err


def test_missing_and_binary_files_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _main([str(tmp_path / "nope.json")]) == 2
    assert "cannot read it" in capsys.readouterr().err
    binary = tmp_path / "bin.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    assert _main([str(binary)]) == 2
    assert "not UTF-8" in capsys.readouterr().err


def test_bad_options_are_refused(tmp_path: Path) -> None:
    path = str(_write(tmp_path, make_dataset()))
    with pytest.raises(SystemExit) as excinfo:
        _main([path, "--shots", "0"])
    assert excinfo.value.code == 2
    with pytest.raises(SystemExit):
        _main([path, "--min-oos-recall", "1.5"])
