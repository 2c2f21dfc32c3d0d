"""``chatbot intents eval``: cross-validation over the intents' own examples, on a small folder and the shipped one."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from chatbot.quality.intent_eval import Guess, confusions, point
from tests.conftest import INTENTS
from tests.test_admin import write_intent
from tests.test_admin_cli import BREAD_EN, CAKES_EN, cli

MISPLACED = "how long should banana bread bake"
CAKES_ES = [f"receta de pastel de zanahoria numero {n}" for n in range(10)]
BREAD_ES = [f"receta de pan de platano numero {n}" for n in range(10)]
OUTSIDE_EN = ["do you sell shoes", "I want to order a pizza", "my printer is not working", "tell me a joke",
              "what's the weather like tomorrow", "play some music", "how much is bitcoin worth",
              "recommend a good movie", "do you fix cars", "can I book a flight to Paris"]
OUTSIDE_ES = ["venden zapatos", "quiero pedir una pizza", "mi impresora no funciona", "cuentame un chiste",
              "que tiempo hara manana", "pon algo de musica", "cuanto vale el bitcoin",
              "recomiendame una pelicula", "arreglan coches", "puedo reservar un vuelo a Paris"]


@pytest.fixture
def baking(tmp_path: Path) -> Path:
    """Two close intents (one with an example of the other's topic) and an out-of-scope intent."""
    folder = tmp_path / "baking"
    folder.mkdir()
    write_intent(folder, "cakes", [*CAKES_EN, MISPLACED], CAKES_ES, "Test answer about cakes")
    write_intent(folder, "bread", BREAD_EN, BREAD_ES, "Test answer about bread")
    outside = write_intent(folder, "out_of_scope", OUTSIDE_EN, OUTSIDE_ES, "Test handoff")
    outside.write_text(outside.read_text(encoding="utf-8").replace("\n", "\naction: out_of_scope\n", 1),
                       encoding="utf-8")
    return folder


def _language_row(out: str, lang: str) -> list[str]:
    return next(line.split() for line in out.splitlines() if line.split()[:1] == [lang])


def test_eval_prints_per_language_per_intent_the_confused_pairs_and_a_threshold(baking: Path, capsys) -> None:
    assert cli("intents", "eval", str(baking)) == 0

    captured = capsys.readouterr()
    out = captured.out
    assert _language_row(out, "en")[:3] == ["en", "31", "10"]
    assert _language_row(out, "es")[:3] == ["es", "30", "10"]
    assert _language_row(out, "all")[:3] == ["all", "61", "20"]
    assert re.search(r"^  cakes +21 +\d\.\d{3} +\d\.\d{3} +\d\.\d{3} +\d\.\d{3}$", out, re.M)
    assert re.search(r"^  out_of_scope +20 +- +- +- +\d\.\d{3}$", out, re.M)
    assert f"cakes -> bread: 1  e.g. {MISPLACED!r}" in out
    threshold = float(re.search(r"^recommended threshold: (\d\.\d{4}) \(current 0\.5000", out, re.M).group(1))
    assert f"{threshold:9.4f}" in re.search(r"^.*<- recommended.*$", out, re.M).group(0)
    assert "<- current" in out
    assert "es [" in captured.err and "] 30/30" in captured.err  # the progress bar, one per language


def test_eval_json_has_the_same_figures_and_the_threshold_flag(baking: Path, capsys) -> None:
    assert cli("intents", "eval", str(baking), "--json", "--threshold", "0.3") == 0

    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert captured.err == ""
    assert 0.0 <= report["threshold"] <= 1.0 and report["current"] == 0.3
    assert report["at_current"]["threshold"] == 0.3
    assert [s["lang"] for s in report["languages"]] == ["en", "es", "all"]
    assert {"own": "cakes", "picked": "bread", "count": 1, "example": MISPLACED} in report["confused"]
    assert len(report["curve"]) == 101 and report["curve"][0]["answered"] == 1.0
    assert report["curve"][-1]["handed_off"] == 1.0


@pytest.mark.slow
def test_eval_of_the_shipped_intents_with_a_plot(tmp_path: Path, capsys) -> None:
    png = tmp_path / "trade-off.png"

    assert cli("intents", "eval", str(INTENTS), "--plot", str(png)) == 0

    out = capsys.readouterr().out
    for lang in ("en", "es", "all"):
        top1 = float(_language_row(out, lang)[3])
        assert top1 > 0.7, (lang, top1)  # the shipped intents are mostly told apart
    assert re.search(r"^  out_of_scope +\d+ +- +- +- +\d\.\d{3}$", out, re.M)
    assert re.search(r"^recommended threshold: 0\.\d{4} ", out, re.M)
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 20_000


def test_plot_without_matplotlib_says_how_to_install_it(baking: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    png = tmp_path / "curve.png"

    assert cli("intents", "eval", str(baking), "--plot", str(png)) == 2

    assert "--plot needs matplotlib: pip install 'chatbot[plot]'" in capsys.readouterr().err
    assert not png.exists()


def test_eval_of_a_missing_or_broken_folder_fails_clearly(baking: Path, tmp_path: Path, capsys) -> None:
    assert cli("intents", "eval", str(tmp_path / "nowhere")) == 1
    captured = capsys.readouterr()
    assert "nowhere" in captured.out and "fix these first" in captured.err

    (baking / "broken.yaml").write_text("id: [broken\n", encoding="utf-8")
    assert cli("intents", "eval", str(baking)) == 1
    assert re.search(r"broken\.yaml:\d+: ", capsys.readouterr().out)


def test_trade_off_point_and_confusions_on_hand_made_guesses() -> None:
    guesses = [
        Guess("en", "a1", "a", True, "a", 0.9),
        Guess("en", "a2", "a", True, "b", 0.6),  # answered wrong at 0.5
        Guess("en", "b1", "b", True, "b", 0.4),  # right but handed off at 0.5
        Guess("en", "x1", "out_of_scope", False, "a", 0.7),  # answered at 0.5: a mistake
        Guess("en", "x2", "out_of_scope", False, "b", 0.2),
    ]

    at = point(guesses, 0.5)

    assert (at.answered, at.accuracy, at.handed_off) == (round(2 / 3, 4), 0.5, 0.5)
    assert point(guesses, 1.0).accuracy is None
    assert [(c.own, c.picked, c.count) for c in confusions(guesses, 0.5)] == [("a", "b", 1), ("out_of_scope", "a", 1)]
