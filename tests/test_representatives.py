"""``chatbot agents add|list|rotate|remove`` (chatbot/cli/representatives.py) on a real SQLite database."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatbot.cli.main import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_add_list_rotate_remove(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = ["--database-url", f"sqlite+aiosqlite:///{tmp_path / 'chat.db'}"]
    code, out, _ = run(capsys, "agents", "add", "Ana", *db)
    assert code == 0 and out.startswith("Added representative Ana")
    token = out.strip().splitlines()[-1]
    assert len(token) >= 40

    code, out, _ = run(capsys, "agents", "list", *db)
    assert code == 0 and out.startswith("Ana\t") and token not in out, "a token is shown once, never listed"

    code, out, _ = run(capsys, "agents", "rotate", "Ana", *db)
    rotated = out.strip().splitlines()[-1]
    assert code == 0 and rotated != token and len(rotated) >= 40

    assert run(capsys, "agents", "add", "Ana", *db)[0] == 1, "a name is taken once"
    assert run(capsys, "agents", "remove", "Ana", *db)[:2] == (0, "Removed Ana.\n")
    code, _, err = run(capsys, "agents", "remove", "Ana", *db)
    assert code == 1 and "no representative named 'Ana'" in err
    assert "No representatives yet" in run(capsys, "agents", "list", *db)[1]
