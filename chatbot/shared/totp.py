"""The second factor: TOTP codes (RFC 6238, 30-second steps, 6 digits), their QR code, the secret sealed with the
server's key, and single-use recovery codes.

A code is accepted for the current step and one step either side (clocks drift); a code of an older step, up to
``EXPIRED_STEPS`` back, is told apart as expired so that the person knows to wait for a new one rather than retype
it. Replays are refused by the caller, which remembers the last step used per user in the database (one
conditional update, so it holds across processes).

The secret is sealed with AES-256-GCM under ``CHATBOT_TOTP_KEY``, the user's id as associated data (a sealed
secret copied onto another account does not open), so a database dump alone does not give anyone's codes.
Recovery codes have 80 random bits each and are kept only as SHA-256 digests.

Tested in tests/test_two_factor.py.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import io
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum

import pyotp
import segno
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

STEP_SECONDS = 30
DRIFT_STEPS = 1
EXPIRED_STEPS = 10
ISSUER = "Clinic chat"
RECOVERY_CODES = 10
_SEALED_PREFIX = "v1:"
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off paper without mistakes


class Verdict(StrEnum):
    """What a typed code is, besides accepted: the error code the sign-in answers with."""

    INVALID = "totp_invalid"
    EXPIRED = "totp_expired"


@dataclass(frozen=True)
class Accepted:
    """A code that matched: the step it belongs to (to be stored as the last step used)."""

    step: int


def new_key() -> str:
    """A fresh value for ``CHATBOT_TOTP_KEY``: 32 random bytes, URL-safe base64."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")


def parse_key(value: str) -> str:
    """The setting's check: URL-safe base64 of exactly 32 bytes (an empty value means no key)."""
    if value and _key_bytes(value) is None:
        raise ValueError("expected 32 bytes in URL-safe base64 (make one with `chatbot users totp-key`)")
    return value


def _key_bytes(value: str) -> bytes | None:
    try:
        raw = base64.urlsafe_b64decode(value.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None
    return raw if len(raw) == 32 else None


class Sealer:
    """Seals and opens TOTP secrets with the server's key; ``available`` is False when no key is set."""

    def __init__(self, key: str) -> None:
        raw = _key_bytes(key) if key else None
        self._aead = AESGCM(raw) if raw is not None else None

    @property
    def available(self) -> bool:
        return self._aead is not None

    def seal(self, secret: str, user_id: str) -> str:
        if self._aead is None:
            raise RuntimeError("no CHATBOT_TOTP_KEY")
        nonce = secrets.token_bytes(12)
        sealed = nonce + self._aead.encrypt(nonce, secret.encode("ascii"), user_id.encode("ascii"))
        return _SEALED_PREFIX + base64.urlsafe_b64encode(sealed).decode("ascii")

    def open(self, sealed: str, user_id: str) -> str | None:
        """The secret, or None when it was sealed under another key or for another user, or was changed."""
        if self._aead is None or not sealed.startswith(_SEALED_PREFIX):
            return None
        try:
            raw = base64.urlsafe_b64decode(sealed[len(_SEALED_PREFIX):].encode("ascii"))
            return self._aead.decrypt(raw[:12], raw[12:], user_id.encode("ascii")).decode("ascii")
        except (binascii.Error, ValueError, InvalidTag):
            return None


def new_secret() -> str:
    """160 random bits in base32, as authenticator apps expect."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, email: str) -> str:
    """The ``otpauth://`` address the QR code carries (and that a person may type instead)."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The QR code of ``uri`` as an SVG document, drawn here (nothing is sent anywhere to draw it)."""
    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="svg", scale=5, border=2, title="Two-step sign-in QR code")
    return out.getvalue().decode("utf-8")


def current_step(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // STEP_SECONDS)


def code_at(secret: str, step: int) -> str:
    """The code an authenticator shows during ``step`` (tests and the walk-through type it)."""
    return pyotp.TOTP(secret).generate_otp(step)


def check(secret: str, code: str, now: float | None = None) -> Accepted | Verdict:
    """Match a 6-digit code against the steps around now (every step compared, in constant time)."""
    step = current_step(now)
    code = code.strip().replace(" ", "")
    matched: Accepted | Verdict = Verdict.INVALID
    for offset in range(-EXPIRED_STEPS, DRIFT_STEPS + 1):
        if hmac.compare_digest(code_at(secret, step + offset), code):
            matched = Accepted(step + offset) if offset >= -DRIFT_STEPS else Verdict.EXPIRED
    return matched


def looks_like_totp(code: str) -> bool:
    compact = code.strip().replace(" ", "")
    return len(compact) == 6 and compact.isdigit()


def new_recovery_codes() -> list[str]:
    """Ten codes of 16 characters (80 bits), grouped by four for reading: shown once, stored as digests."""
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(16))
        codes.append("-".join(raw[i:i + 4] for i in range(0, 16, 4)))
    return codes


def recovery_digest(code: str) -> str:
    """The stored form of a recovery code, whatever case, spaces or dashes it is typed with."""
    compact = "".join(code.split()).replace("-", "").upper()
    return hashlib.sha256(compact.encode("utf-8")).hexdigest()
