"""``chatbot users`` (chatbot/cli/users.py) and the password policy (chatbot/shared/passwords.py) on a real
SQLite database."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest

from chatbot.cli.main import main
from chatbot.shared import passwords
from chatbot.store import Store

GOOD = "correct horse battery staple"


def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *argv: str,
        stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def db(tmp_path: Path) -> list[str]:
    return ["--database-url", f"sqlite+aiosqlite:///{tmp_path / 'chat.db'}"]


def test_add_list_set_role_disable_enable(db, capsys, monkeypatch) -> None:
    code, out, err = run(capsys, monkeypatch, "users", "add", "Ana@Clinic.example", "--name", "Ana", "--role",
                         "agent", "--password-stdin", *db, stdin=GOOD + "\n")
    assert (code, out, err) == (0, "Added agent Ana <ana@clinic.example>.\n", "")
    code, out, _ = run(capsys, monkeypatch, "users", "list", *db)
    assert code == 0 and out.startswith("ana@clinic.example\tAna\tagent\tactive\t2fa off\tadded ")
    assert GOOD not in out and "argon2" not in out
    assert run(capsys, monkeypatch, "users", "set-role", "ana@clinic.example", "supervisor", *db)[1] == \
        "ana@clinic.example: agent -> supervisor.\n"
    assert run(capsys, monkeypatch, "users", "disable", "ana@clinic.example", *db)[0] == 0
    assert "\tsupervisor\tdisabled\t" in run(capsys, monkeypatch, "users", "list", *db)[1]
    assert run(capsys, monkeypatch, "users", "enable", "ana@clinic.example", *db)[0] == 0
    assert "\tsupervisor\tactive\t" in run(capsys, monkeypatch, "users", "list", *db)[1]


def stored_hash(db: list[str], email: str) -> str:
    async def read() -> str:
        store = Store(db[1])
        try:
            return (await store.user_by_email(email)).password_hash
        finally:
            await store.close()

    return asyncio.run(read())


def test_the_password_is_stored_as_an_argon2id_hash_and_reset_replaces_it(db, capsys, monkeypatch) -> None:
    run(capsys, monkeypatch, "users", "add", "ana@clinic.example", "--name", "Ana", "--role", "admin",
        "--password-stdin", *db, stdin=GOOD + "\n")
    first = stored_hash(db, "ana@clinic.example")
    assert first.startswith("$argon2id$") and GOOD not in first
    assert passwords.verify(first, GOOD) and not passwords.verify(first, GOOD + "!")
    code, out, _ = run(capsys, monkeypatch, "users", "reset-password", "ana@clinic.example", "--password-stdin",
                       *db, stdin="another long passphrase\n")
    assert code == 0 and "sessions have ended" in out
    second = stored_hash(db, "ana@clinic.example")
    assert passwords.verify(second, "another long passphrase") and not passwords.verify(second, GOOD)


@pytest.mark.parametrize(("password", "why"), [
    ("short pass", "at least 12 characters"),
    ("x" * 129, "at most 128 characters"),
    ("Password1234", "list of common passwords"),
    ("qwertyuiop123", "list of common passwords"),
])
def test_weak_passwords_are_refused_with_the_reason(db, capsys, monkeypatch, password: str, why: str) -> None:
    code, out, err = run(capsys, monkeypatch, "users", "add", "ana@clinic.example", "--name", "Ana", "--role",
                         "agent", "--password-stdin", *db, stdin=password + "\n")
    assert code == 1 and why in err and password not in err
    assert "No users yet" in run(capsys, monkeypatch, "users", "list", *db)[1]


def test_bad_input_is_refused_with_a_clear_error(db, capsys, monkeypatch) -> None:
    run(capsys, monkeypatch, "users", "add", "ana@clinic.example", "--name", "Ana", "--role", "agent",
        "--password-stdin", *db, stdin=GOOD + "\n")
    code, _, err = run(capsys, monkeypatch, "users", "add", "ana@clinic.example", "--name", "Ana 2", "--role",
                       "agent", "--password-stdin", *db, stdin=GOOD + "\n")
    assert code == 1 and "already exists" in err
    for argv in (["users", "add", "not-an-email", "--name", "X", "--role", "agent"],
                 ["users", "add", "b@clinic.example", "--name", "X", "--role", "owner"],
                 ["users", "set-role", "ana@clinic.example", "root"]):
        with pytest.raises(SystemExit) as exit_:
            run(capsys, monkeypatch, *argv, *db)
        assert exit_.value.code == 2
    for action in (["disable", "nobody@clinic.example"], ["set-role", "nobody@clinic.example", "admin"]):
        code, _, err = run(capsys, monkeypatch, "users", *action, *db)
        assert code == 1 and "no user with the email 'nobody@clinic.example'" in err


def test_the_common_list_ships_and_an_overlong_password_is_not_hashed() -> None:
    assert passwords.COMMON_FILE.is_file() and "Where it comes from" in passwords.COMMON_FILE.read_text()
    stored = passwords.hash_password(GOOD)
    assert not passwords.verify(stored, GOOD + "x" * 200)  # refused by length, before argon2 sees it
    assert not passwords.verify(None, GOOD)
