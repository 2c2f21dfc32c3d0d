"""Settings: flags beat variables beat defaults, bad values are named, and the README lists every variable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from chatbot.cli.main import build_parser, main
from chatbot.shared import config

ROOT = Path(__file__).resolve().parent.parent


def test_variables_override_defaults_and_flags_override_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATBOT_PORT", "9001")
    monkeypatch.setenv("CHATBOT_ALLOWED_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("CHATBOT_TRUST_PROXY", "yes")
    args = build_parser().parse_args(["serve", "--port", "9002", "--intents", "elsewhere"])
    settings = config.load(args)
    assert settings.port == 9002
    assert settings.allowed_origins == ("https://a.example", "https://b.example")
    assert settings.trust_proxy is True
    assert settings.intents_dir == Path("elsewhere")
    assert settings.host == "127.0.0.1"


@pytest.mark.parametrize(("variable", "value", "expected"), [
    ("CHATBOT_PORT", "eighty", "expected a whole number from 0 to 65535"),
    ("CHATBOT_ROUTING", "sometimes", "expected manual or auto"),
    ("CHATBOT_EVENT_LOOP", "trio", "expected auto, uvloop or asyncio"),
    ("CHATBOT_SENTENCE_ENCODER", "maybe", "expected auto, on or off"),
    ("CHATBOT_THRESHOLD", "2", "expected a number from 0 to 1"),
])
def test_a_bad_variable_is_named_with_what_it_expects(monkeypatch: pytest.MonkeyPatch, variable: str, value: str,
                                                       expected: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SystemExit, match=f"{variable}='{value}': {expected}"):
        config.Settings.from_env()


@pytest.mark.parametrize(("flag", "value", "expected"), [
    ("--port", "-5", "expected a whole number from 0 to 65535"),
    ("--port", "eighty", "expected a whole number from 0 to 65535"),
    ("--workers", "0", "expected a whole number from 1"),
    ("--agent-capacity", "0", "expected a whole number from 1"),
    ("--rate-per-second", "0", "expected a number above 0"),
    ("--idle-seconds", "nan", "expected a number above 0"),
    ("--threshold", "7", "expected a number from 0 to 1"),
    ("--routing", "sometimes", "expected manual or auto"),
    ("--event-loop", "trio", "expected auto, uvloop or asyncio"),
])
def test_a_bad_flag_is_refused_with_what_it_expects(capsys: pytest.CaptureFixture[str], flag: str, value: str,
                                                     expected: str) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["serve", flag, value])
    assert exit_info.value.code == 2
    assert f"argument {flag}: '{value}': {expected}" in capsys.readouterr().err


def test_limits_at_their_bounds_are_accepted() -> None:
    args = build_parser().parse_args(["serve", "--port", "0", "--workers", "1", "--threshold", "1",
                                      "--agent-grace-seconds", "0", "--rate-per-second", "0.1"])
    settings = config.load(args)
    assert (settings.port, settings.workers, settings.threshold) == (0, 1, 1.0)
    assert (settings.agent_grace_seconds, settings.rate_per_second) == (0.0, 0.1)


@pytest.mark.slow
@pytest.mark.parametrize(("choice", "expected"), [("auto", "uvloop"), ("uvloop", "uvloop"), ("asyncio", "asyncio")])
def test_the_server_runs_on_the_event_loop_asked_for(tmp_path: Path, choice: str, expected: str) -> None:
    """uvloop is a dependency (except on Windows), so ``auto`` picks it."""
    command = [sys.executable, "-m", "chatbot", "serve", "--port", "0", "--event-loop", choice,
               "--database-url", f"sqlite+aiosqlite:///{tmp_path / 'chat.db'}", "--log-level", "WARNING"]
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True) as server:
        try:
            assert server.stdout is not None
            assert server.stdout.readline().strip().endswith(f"(event loop: {expected})")
        finally:
            server.terminate()


def test_worker_arguments_round_trip() -> None:
    args = build_parser().parse_args(
        ["serve", "--port", "7000", "--allowed-origins", "https://a.example", "--workers", "3"]
    )
    again = build_parser().parse_args(["serve", *config.as_arguments(args)])
    assert config.load(again).port == 7000 and config.load(again).allowed_origins == ("https://a.example",)
    assert again.workers is None


def test_readme_lists_every_setting() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [o.env for o in config.OPTIONS if f"`{o.env}`" not in readme]
    assert not missing, f"README.md does not document {missing}"


@pytest.mark.parametrize(("env", "expected"), [
    ({"CHATBOT_WEBHOOK_URL": "ftp://hooks.example/x"},
     "CHATBOT_WEBHOOK_URL='ftp://hooks.example/x': 'ftp://hooks.example/x': expected http(s)://HOST[:PORT]/PATH"),
    ({"CHATBOT_WEBHOOK_URL": "http://169.254.169.254/latest/meta-data"},
     "169.254.169.254 is a cloud metadata address, which webhooks may never reach"),
    ({"CHATBOT_WEBHOOK_URL": "https://hooks.example/x"},
     "cannot start: CHATBOT_WEBHOOK_URL is set: expected CHATBOT_WEBHOOK_SECRET too (requests are signed)"),
    ({"CHATBOT_WEBHOOK_URL": "http://10.0.0.7/x", "CHATBOT_WEBHOOK_SECRET": "s"},
     "cannot start: CHATBOT_WEBHOOK_URL 'http://10.0.0.7/x': its host is a loopback or private address"),
    ({"CHATBOT_SMTP_URL": "smtp://mail.example"},
     "cannot start: expected both CHATBOT_SMTP_URL and CHATBOT_NOTIFY_EMAIL (or neither)"),
    ({"CHATBOT_SMTP_URL": "mail.example:25", "CHATBOT_NOTIFY_EMAIL": "desk@clinic.example"},
     "CHATBOT_SMTP_URL=(not shown): expected smtp://[USER:PASSWORD@]HOST[:PORT] (STARTTLS) or smtps://"),
    ({"CHATBOT_NOTIFY_EMAIL": "desk at clinic"}, "CHATBOT_NOTIFY_EMAIL='desk at clinic': 'desk at clinic': "
                                                 "expected NAME@DOMAIN, comma-separated for several"),
    ({"CHATBOT_WEBHOOK_RETRY_FIRST_SECONDS": "60"}, "expected a number above 0 to 30"),
    ({"CHATBOT_PUBLIC_URL": "chat.clinic.example"}, "CHATBOT_PUBLIC_URL='chat.clinic.example': expected http(s)://"),
])
def test_bad_webhook_or_email_settings_stop_the_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str], env: dict[str, str],
                                                     expected: str) -> None:
    """``chatbot serve`` as an operator starts it: it stops before building anything and says what was expected."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    try:
        code = main(["serve", "--port", "0", "--database-url", f"sqlite+aiosqlite:///{tmp_path / 'chat.db'}"])
        said = capsys.readouterr().err
    except SystemExit as stopped:
        code, said = 2, str(stopped)
    assert code == 2
    assert expected in said, said
    assert not (tmp_path / "chat.db").exists()
