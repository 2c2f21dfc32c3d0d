"""Forms: the files (file:line problems), offered after an intent's answer, opened, sent and stored as leads,
refused field by field, the pre-chat form, and a reload; real Socket.IO clients against a real server."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

import pytest

from chatbot.bot.forms import check_directory
from chatbot.bot.intents import IntentError
from chatbot.cli.main import main
from chatbot.shared.config import Settings
from chatbot.web.app import STORE, create_app
from tests.conftest import FORMS, INTENTS, Server
from tests.test_admin import call, write_intent

MRI_EN = "How do I request an MRI review?"
MRI_ES = "¿Cómo pido una revisión de mi resonancia?"
GOOD = {"name": "Ana Ruiz", "email": "ana@example.org", "phone": "+1 555 010 2030", "mri_date": "2026-11-02"}


async def leads(server: Server, conversation_id: str) -> list[Any]:
    return await server.app[STORE].leads_of(conversation_id)


async def test_the_mri_answer_offers_the_form_and_a_sent_form_is_a_lead(server: Server, visitors,
                                                                       representatives) -> None:
    visitor = await visitors(server.url, page="https://clinic.example/contact.html")
    reply = await visitor.ask(MRI_EN)
    assert reply["intent"] == "mri_review"
    assert reply["form_offer"] == {"id": "mri_review", "label": "Would you like us to review your MRI?"}
    maria = await representatives(server, "Maria")
    conversation_id = visitor.conversation["id"]
    watched = await maria.call("watch", {"conversation_id": conversation_id})
    assert watched["ok"] and watched["conversation"]["leads"] == []

    opened = await visitor.call("form_open", {"form_id": "mri_review"})
    form = await visitor.next("form")
    assert opened == {"ok": True, "form": form} and form["lang"] == "en" and form["title"] == "Request an MRI Review"
    assert [(f["name"], f["type"], f["required"]) for f in form["fields"]][:3] == [
        ("name", "text", True), ("email", "email", True), ("phone", "phone", False)]

    ack = await visitor.call("form_submit", {"form_id": "mri_review", "values": GOOD, "consent": True})

    assert ack["ok"], ack
    stored = await leads(server, conversation_id)
    assert len(stored) == 1 and stored[0].values == GOOD and stored[0].form_id == "mri_review"
    assert stored[0].consent_text == form["consent"] and stored[0].lang == "en"
    assert stored[0].page == "https://clinic.example/contact.html" and stored[0].created_at is not None
    confirmation = await visitor.next("message", lambda m: m["sender"] == "system")
    assert confirmation["text"] == form["confirmation"]
    told = await maria.next("lead")
    assert told["conversation_id"] == conversation_id and told["lead"]["values"] == GOOD
    taken = await maria.take(conversation_id)
    assert taken["ok"] and [lead["id"] for lead in taken["conversation"]["leads"]] == [stored[0].id]
    detail = await call(server, "GET", f"/admin/conversations/{conversation_id}")
    assert [lead["values"] for lead in detail.body["leads"]] == [GOOD]


async def test_a_spanish_conversation_gets_the_form_in_spanish(server: Server, visitors) -> None:
    visitor = await visitors(server.url, lang="es")
    reply = await visitor.ask(MRI_ES)
    assert reply["form_offer"] == {"id": "mri_review", "label": "¿Quiere que revisemos su resonancia?"}
    opened = await visitor.call("form_open", {"form_id": "seminar"})
    assert opened["form"]["lang"] == "es" and opened["form"]["fields"][3]["options"] == [
        {"value": "en", "label": "Inglés"}, {"value": "es", "label": "Español"}]


BAD = [
    ({"values": {**GOOD, "name": ""}}, {"name"}),  # a required field empty
    ({"values": {"email": "ana@example.org"}}, {"name"}),  # a required field missing
    ({"values": {**GOOD, "name": "A" * 101}}, {"name"}),  # overlong
    ({"values": {**GOOD, "email": "not an email"}}, {"email"}),
    ({"values": {**GOOD, "phone": 5550102030}}, {"phone"}),  # wrongly typed
    ({"values": {**GOOD, "mri_date": "02/11/2026"}}, {"mri_date"}),
    ({"values": {**GOOD, "insurance": "Acme"}}, {"insurance"}),  # extra field
    ({"values": GOOD, "consent": False}, {"consent"}),
    ({"values": {**GOOD, "note": "x\x00y", "email": None}}, {"note", "email"}),
    ({"values": ["Ana"]}, {"values"}),
]


async def test_every_kind_of_bad_submission_is_refused_per_field_and_nothing_is_stored(server: Server,
                                                                                      visitors) -> None:
    visitor = await visitors(server.url)
    for body, fields in BAD:
        ack = await visitor.call("form_submit", {"form_id": "mri_review", "consent": True, **body})
        assert ack["ok"] is False and ack["error"]["code"] == "bad_request", (body, ack)
        assert set(ack["error"]["fields"]) == fields, (body, ack)
        assert all(isinstance(text, str) and text for text in ack["error"]["fields"].values())
    for body in ({"form_id": "no_such_form", "values": GOOD, "consent": True},
                 {"form_id": "mri_review", "values": GOOD, "consent": True, "extra": 1}, {"form_id": 3}):
        ack = await visitor.call("form_submit", body)
        assert ack["ok"] is False and ack["error"]["code"] in ("bad_request", "not_found"), ack
    assert await leads(server, visitor.conversation["id"]) == []
    assert [m["sender"] for m in visitor.received("message")] == []


async def test_the_prechat_form_comes_before_the_first_message(make_server, visitors) -> None:
    server = await make_server(prechat_form="callback")
    visitor = await visitors(server.url)
    form = await visitor.next("form")
    assert form["id"] == "callback" and form["prechat"] is True
    refused = await visitor.say("hello")
    assert refused["ok"] is False and refused["error"]["code"] == "form_required"
    values = {"name": "Ana", "phone": "555 010 2030", "best_time": "morning"}
    sent = await visitor.call("form_submit", {"form_id": "callback", "consent": True, "values": values})
    assert sent["ok"], sent
    assert (await visitor.ask("hello"))["intent"] == "greeting"
    again = await visitors(server.url, token=visitor.conversation["token"])  # a second tab is not asked again
    assert again.received("form") == []


def test_a_prechat_form_that_is_not_there_stops_the_start(settings: Settings) -> None:
    with pytest.raises(IntentError, match=r"CHATBOT_PRECHAT_FORM='nope': expected the id of a form .*callback"):
        create_app(dataclasses.replace(settings, prechat_form="nope"))


# -- the files -------------------------------------------------------------------------

BROKEN = """id: callback
fields:
  - name: name
    type: text
    required: yes please
    label: {en: Name}
  - name: name
    type: colour
    label: {en: Again, es: Otra vez}
  - name: when
    type: choice
    label: {en: When, es: Cuándo}
en:
  title: Call me
  offer: Call?
  consent: I agree.
es:
  title: Llámeme
"""


def test_form_file_problems_are_reported_at_their_line(tmp_path: Path) -> None:
    (tmp_path / "callback.yaml").write_text(BROKEN, encoding="utf-8")
    (tmp_path / "other.yaml").write_text("id: other\nfields: [\n", encoding="utf-8")
    forms, problems = check_directory(tmp_path)
    found = {(Path(p.path).name, p.line, p.message.split(" ")[0]) for p in problems}
    assert forms == {}
    for expected in [("callback.yaml", 5, "'required'"), ("callback.yaml", 6, "missing"),
                     ("callback.yaml", 7, "field"), ("callback.yaml", 8, "unknown"),
                     ("callback.yaml", 10, "a"), ("callback.yaml", 17, "missing"), ("callback.yaml", 13, "missing"),
                     ("other.yaml", 3, "invalid")]:
        assert expected in found, (expected, sorted(found))


def test_intents_check_reports_a_broken_form_and_an_unknown_form(tmp_path: Path, capsys) -> None:
    intents, forms = tmp_path / "intents", tmp_path / "forms"
    intents.mkdir()
    path = write_intent(intents, "seminars", ["seminar?", "medical seminar", "do you hold seminars"],
                        ["¿seminario?", "seminario médico", "¿hacen seminarios?"], "Test answer")
    path.write_text("form: seminar\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    shutil.copytree(FORMS, forms)
    (forms / "seminar.yaml").unlink()
    text = (forms / "callback.yaml").read_text(encoding="utf-8")
    (forms / "callback.yaml").write_text(text.replace("type: phone", "type: telephone"), encoding="utf-8")

    assert main(["intents", "check", str(intents), "--forms-dir", str(forms)]) == 1

    printed = capsys.readouterr().out
    line = text.splitlines().index("    type: phone") + 1
    assert f"{forms / 'callback.yaml'}:{line}: unknown type 'telephone'" in printed, printed
    assert f"{path}:1: form 'seminar' is not in the forms folder" in printed


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    shutil.copytree(INTENTS, tmp_path / "intents")
    shutil.copytree(FORMS, tmp_path / "forms")
    return tmp_path / "intents", tmp_path / "forms"


async def test_reload_takes_a_changed_form_and_refuses_a_broken_one(make_server, folders: tuple[Path, Path],
                                                                    visitors) -> None:
    intents, forms = folders
    server = await make_server(intents_dir=intents, forms_dir=forms)
    path = forms / "info_packet.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("title: Your info packet", "title: The info packet"),
                    encoding="utf-8")
    assert (await call(server, "POST", "/admin/intents/reload")).status == 200
    visitor = await visitors(server.url)
    assert (await visitor.call("form_open", {"form_id": "info_packet"}))["form"]["title"].startswith("The info")
    path.write_text("id: info_packet\nfields: nope\n", encoding="utf-8")
    refused = await call(server, "POST", "/admin/intents/reload")
    assert refused.status == 422 and any(p["file"] == str(path) and p["line"] == 2 for p in refused.body["problems"])
    assert (await visitor.call("form_open", {"form_id": "info_packet"}))["form"]["title"].startswith("The info")
