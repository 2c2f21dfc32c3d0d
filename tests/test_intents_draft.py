"""``chatbot intents draft`` and ``chatbot intents approve``: drafts from the snapshot, checked, then made live.

The whole path runs once against the shipped site served over HTTP on
127.0.0.1: import, draft, grounding check, approve.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from chatbot.admin.content import check_grounding
from chatbot.bot.intents import check_directory, load_intents
from chatbot.cli.main import main
from chatbot.content import draft, snapshot
from tests.conftest import INTENTS, ROOT
from tests.test_content_import import Site, run, site  # noqa: F401 (the fixture)

CONTENT = ROOT / "content"


def make_drafts(tmp_path: Path, capsys, live: Path | None = None) -> tuple[Path, list[str]]:
    out = tmp_path / "drafts"
    live = live or tmp_path / "live"
    live.mkdir(exist_ok=True)
    assert main(["intents", "draft", "--content", str(CONTENT), "--out", str(out), "--intents-dir", str(live)]) == 0
    return out, capsys.readouterr().out.splitlines()


def translate(path: Path) -> None:
    """What the admin does before approving: the Spanish answer in Spanish (here: one sentence of the page's)."""
    data = yaml.safe_load(path.read_text())
    data["es"]["answer"] = "El calor ayuda. " + draft.DISCLAIMER["es"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))


def test_every_section_with_text_and_every_bullet_term_gets_a_draft(tmp_path: Path, capsys) -> None:
    out, printed = make_drafts(tmp_path, capsys)
    names = sorted(p.stem for p in out.glob("*.yaml"))
    assert {"conservative_treatment", "heat", "rest", "cortisone_injections", "anti_inflammatory_medication",
            "targeted_exercise", "muscle_innervation", "progressive_treatment", "contact_us_by_phone"} <= set(names)
    assert "skipped contact.html#request-an-mri-review: too little text to answer with (2 words)" in printed
    assert printed[-1] == f"{len(names)} draft(s) in {out}; none is live until approved (chatbot intents approve NAME)"


def test_drafts_load_say_only_their_sections_sentences_and_pass_the_grounding_check(tmp_path: Path, capsys) -> None:
    out, _ = make_drafts(tmp_path, capsys)
    drafts, problems = check_directory(out)
    assert problems == []
    pages = snapshot.load(CONTENT)
    for intent in drafts:
        texts = []
        for source in intent.sources or ():
            url, _, anchor = source.ref.partition("#")
            section = pages[url].section(anchor)
            assert section is not None and section.sha256.startswith(source.sha256), intent.id
            texts.append(section.text)
        flat = " ".join(" ".join(texts).replace("- ", "").split()).casefold()
        said = intent.texts["en"].answer.removesuffix(" " + draft.DISCLAIMER["en"])
        for sentence in re.split(r"(?<=[.!?]) ", said):
            assert sentence.casefold().rstrip(".") in flat, (intent.id, sentence)  # the page's own sentence
        for lang in ("en", "es"):
            assert len(intent.texts[lang].examples) >= draft.MIN_EXAMPLES, (intent.id, lang)
    assert check_grounding(drafts, CONTENT) == (0, 0)
    capsys.readouterr()


def test_close_sections_make_one_draft_that_cites_both(tmp_path: Path, capsys) -> None:
    pages, content = tmp_path / "pages", tmp_path / "content"
    pages.mkdir()
    (pages / "heat.html").write_text(
        "<html lang=en><head><title>Heat</title></head><body><main><article>"
        "<h2>Heat at home</h2><p>Heat packs and a hot water bottle relax the tight muscles of the upper back and ease "
        "muscle pain at home.</p>"
        "<h2>Using heat packs safely</h2><p>Wrap heat packs in a towel, and keep heat packs on the upper back for a "
        "short time, to ease muscle pain safely.</p>"
        "<h2>Parking</h2><p>The clinic has free parking for patients and visitors behind the building.</p>"
        "</article></main></body></html>")
    assert main(["content", "import", str(pages), "--out", str(content), "--quiet"]) == 0
    out = tmp_path / "drafts"
    assert main(["intents", "draft", "--content", str(content), "--out", str(out), "--intents-dir", str(tmp_path)]) == 0
    assert sorted(p.stem for p in out.glob("*.yaml")) == ["heat_at_home", "parking"]
    heat = yaml.safe_load((out / "heat_at_home.yaml").read_text())
    assert list(heat["source"]) == ["heat.html#heat-at-home", "heat.html#using-heat-packs-safely"]
    assert heat["en"]["answer"].startswith("Heat packs and a hot water bottle") and "towel" in heat["en"]["answer"]
    drafts, problems = check_directory(out)
    assert problems == [] and check_grounding(drafts, content) == (0, 0)
    capsys.readouterr()


def test_a_bullet_draft_is_named_by_its_term_and_asked_about_it(tmp_path: Path, capsys) -> None:
    out, _ = make_drafts(tmp_path, capsys)
    heat = yaml.safe_load((out / "heat.yaml").read_text())
    assert heat["source"] == {"upper-back-muscle-pain.html#conservative-treatment": "a323ad829d22"}
    assert heat["en"]["answer"].startswith("The application of heat to an injury facilitates your blood flow")
    # the term, and visitors' words for it (the glossary) with the page's subject
    assert {"does heat help", "is heating pad good for upper back pain"} <= set(heat["en"]["examples"])
    assert "¿ayuda el calor?" in heat["es"]["examples"]  # the glossary's Spanish words: the page is in English


def test_drafts_reuse_no_live_id_or_example_and_leave_existing_drafts_alone(tmp_path: Path, capsys) -> None:
    live = Path(shutil.copytree(INTENTS, tmp_path / "live"))
    out, printed = make_drafts(tmp_path, capsys, live)
    assert (out / "rest_2.yaml").exists() and not (out / "rest.yaml").exists()  # intents/rest.yaml is live
    together = tmp_path / "together"
    shutil.copytree(live, together)
    for path in out.glob("*.yaml"):
        shutil.copy(path, together / path.name)
    together_intents, problems = check_directory(together)
    assert problems == []  # no example, id or synonym clashes with the live intents
    with_synonyms = [i for i in together_intents if i.path.startswith(str(together)) and i.id not in
                     {p.stem for p in live.glob("*.yaml")} and i.texts["en"].synonyms]
    assert with_synonyms  # the live intents' synonyms whose term a draft's example uses (checked by the loader)
    edited = (out / "heat.yaml").read_text() + "# my notes\n"
    (out / "heat.yaml").write_text(edited)
    _, again = make_drafts(tmp_path, capsys, live)
    assert (out / "heat.yaml").read_text() == edited
    assert f"skipped upper-back-muscle-pain.html#conservative-treatment (Heat): {out / 'heat.yaml'} exists, left as " \
           "it is" in again


def test_approve_refuses_an_untranslated_or_ungrounded_draft_and_moves_a_good_one(tmp_path: Path, capsys) -> None:
    out, _ = make_drafts(tmp_path, capsys)
    live = tmp_path / "live"
    shutil.copy(INTENTS / "greeting.yaml", live)
    approve = ["intents", "approve", "heat", "--drafts", str(out), "--intents-dir", str(live),
               "--content", str(CONTENT)]
    assert main(approve) == 1
    assert capsys.readouterr().out == f"{out / 'heat.yaml'}:1: the Spanish answer is still the English text: " \
                                      "translate it first\n"
    translate(out / "heat.yaml")
    text = (out / "heat.yaml").read_text()
    (out / "heat.yaml").write_text(text.replace("can all be helpful.", "can all be helpful. Heat cures 99% of pain."))
    assert main(approve) == 1
    assert 'answer sentence not in upper-back-muscle-pain.html#conservative-treatment: "Heat cures 99% of pain."' \
           in capsys.readouterr().out
    (out / "heat.yaml").write_text(text)
    assert main(approve) == 0
    assert capsys.readouterr().out.startswith(f"approved: {live / 'heat.yaml'}")
    assert not (out / "heat.yaml").exists()
    assert [i.id for i in load_intents(live)] == ["greeting", "heat"]
    assert main(approve) == 1  # no such draft any more
    assert f"error: no draft {out / 'heat.yaml'}" in capsys.readouterr().err


@pytest.mark.parametrize(("name", "expected"), [("../greeting", "is not an intent id"), ("greeting", "already exists")])
def test_approve_refuses_a_bad_name_or_a_live_one(tmp_path: Path, capsys, name: str, expected: str) -> None:
    drafts, live = tmp_path / "drafts", tmp_path / "live"
    drafts.mkdir()
    live.mkdir()
    shutil.copy(INTENTS / "greeting.yaml", drafts)
    shutil.copy(INTENTS / "greeting.yaml", live)
    assert main(["intents", "approve", name, "--drafts", str(drafts), "--intents-dir", str(live)]) == 1
    assert expected in capsys.readouterr().err


async def test_from_the_site_over_http_to_a_live_intent(site: Site, tmp_path: Path) -> None:  # noqa: F811
    content, drafts, live = tmp_path / "content", tmp_path / "drafts", tmp_path / "live"
    live.mkdir()
    assert await run("content", "import", f"{site.url}/sitemap.xml", "--out", str(content), "--quiet") == 0
    assert await run("intents", "draft", "--content", str(content), "--out", str(drafts),
                     "--intents-dir", str(live)) == 0
    heat = yaml.safe_load((drafts / "heat.yaml").read_text())
    assert list(heat["source"]) == [f"{site.url}/upper-back-muscle-pain.html#conservative-treatment"]
    translate(drafts / "heat.yaml")
    assert await run("intents", "approve", "heat", "--drafts", str(drafts), "--intents-dir", str(live),
                     "--content", str(content)) == 0
    (intent,) = load_intents(live)
    assert check_grounding([intent], content) == (0, 0)


@pytest.mark.slow
def test_the_comparison_bench_runs_both_sets_on_the_same_questions() -> None:
    """bench/drafts.py: drafted against hand-written on the same questions (no score asserted; the smallest set, to
    stay quick: docs/content.md has the figures of every set)."""
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "drafts.py"), "--json", "--sets", "paraphrases"],
                          cwd=ROOT, capture_output=True, text=True, timeout=110)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert set(report["answer"]) == set(report["handoff"]) == {"hand-written", "drafted", "drafted + synonyms"}
    for results in report["answer"].values():
        assert {label: r["n"] for label, r in results.items()} == {"paraphrases": 46}
        assert all(0 <= r["right"] + r["wrong"] <= 1 for r in results.values())
