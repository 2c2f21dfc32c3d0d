"""Staff passwords: the policy (length, common passwords) and argon2id hashing with a bounded cost.

Hashing is deliberately expensive (argon2-cffi's defaults, RFC 9106's second recommended profile: 64 MiB,
3 passes, 4 lanes), so the server runs it in a thread, a few at a time (``chat/staff.py``): a flood of
sign-ins queues instead of taking the process's memory. Passwords longer than ``MAX_LENGTH`` are refused before any
hashing, so nobody can make one hash costlier than another. A sign-in with an unknown email verifies against
a dummy hash, so it costs what a wrong password costs.

Tested in tests/test_users.py.
"""

from __future__ import annotations

import functools
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 12
MAX_LENGTH = 128
"""Characters; the policy refuses a longer one, and ``verify`` does not hash it."""
COMMON_FILE = Path(__file__).with_name("common_passwords.txt")

_hasher = PasswordHasher()  # argon2id is the library's default type


class WeakPassword(ValueError):
    """A password the policy refuses; the message says why (never the password)."""


@functools.cache
def _common() -> frozenset[str]:
    lines = COMMON_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().casefold() for line in lines if line.strip() and not line.startswith("#"))


def check(password: str) -> None:
    """Raise ``WeakPassword`` unless the password is 12 to 128 characters and not on the common list."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"a password has at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"a password has at most {MAX_LENGTH} characters")
    if password.strip().casefold() in _common():
        raise WeakPassword("that password is on the list of common passwords; choose another")
    if "\x00" in password:
        raise WeakPassword("a password cannot contain a NUL character")


def hash_password(password: str) -> str:
    """The argon2id hash (with its salt and parameters) of a password the policy accepted."""
    return _hasher.hash(password)


@functools.cache
def dummy_hash() -> str:
    """What an unknown email is verified against: a real argon2id hash of a password nobody has."""
    return hash_password("a password nobody has, to spend the same time on unknown emails")


def verify(stored: str | None, password: str) -> bool:
    """True when ``password`` matches ``stored``; with ``stored`` None (no such user) the same work is done and
    the answer is False. A password over ``MAX_LENGTH`` is False without hashing."""
    if not 0 < len(password) <= MAX_LENGTH:
        return False
    try:
        return _hasher.verify(stored or dummy_hash(), password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
