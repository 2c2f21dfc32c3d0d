"""Two-step sign-in: the code checked at sign-in (replays and expired codes refused), and enrolment.

Enrolment is two calls: ``begin`` makes a secret and keeps it sealed as pending (the console shows its QR code),
``confirm`` takes the first code from the person's app, which proves the app holds the secret, and only then
turns the factor on and returns ten recovery codes, shown once. A recovery code stands in for a code once.

Tested in tests/test_two_factor.py.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from chatbot.shared import totp
from chatbot.store import Store
from chatbot.store.models import User

log = logging.getLogger(__name__)


class SignInRefused(Exception):
    """A sign-in or enrolment step refused, with the code and message the client is answered with."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


MESSAGES = {
    "totp_required": "Enter the 6-digit code from your authenticator app (or one of your recovery codes).",
    "totp_invalid": "That code is not right; enter the code your authenticator app shows now.",
    "totp_expired": "That code has expired; enter the code your authenticator app shows now.",
    "totp_replayed": "That code was already used; wait for the next one.",
    "totp_unavailable": "Two-step sign-in is not set up on this server (an administrator must set CHATBOT_TOTP_KEY).",
    "totp_already_on": "Two-step sign-in is already on for you; an administrator can reset it "
                       "(chatbot users reset-2fa).",
    "totp_not_started": "Start the set-up first (POST /auth/totp/setup).",
}


def refused(code: str) -> SignInRefused:
    return SignInRefused(code, MESSAGES[code])


@dataclass(frozen=True)
class Pending:
    """What the console shows to enrol: the secret (to type by hand) and the otpauth address in the QR code."""

    secret: str
    uri: str


class SecondFactor:
    """TOTP for staff accounts, sealed with the server's key."""

    def __init__(self, store: Store, key: str) -> None:
        self.store = store
        self.sealer = totp.Sealer(key)

    async def verify(self, user: User, code: str | None) -> bool:
        """Check the code of a user whose factor is on; True when a recovery code was spent. Raises
        ``SignInRefused`` for a missing, wrong, expired or replayed code."""
        if user.totp_secret is None:
            return False
        if code is None:
            raise refused("totp_required")
        if not totp.looks_like_totp(code):
            if await self.store.use_recovery_code(user.id, totp.recovery_digest(code)):
                return True
            raise refused("totp_invalid")
        verdict = totp.check(self._open(user, user.totp_secret), code)
        if not isinstance(verdict, totp.Accepted):
            raise refused(verdict.value)
        if not await self.store.use_totp_step(user.id, verdict.step):
            raise refused("totp_replayed")
        return False

    async def begin(self, user: User) -> Pending:
        """A new pending secret for the user (replacing an unconfirmed one)."""
        if not self.sealer.available:
            raise refused("totp_unavailable")
        secret = totp.new_secret()
        if not await self.store.set_totp_pending(user.id, self.sealer.seal(secret, user.id)):
            raise refused("totp_already_on")
        return Pending(secret, totp.provisioning_uri(secret, user.email))

    async def pending_qr(self, user: User) -> str:
        """The SVG QR code of the user's pending secret."""
        if user.totp_pending is None:
            raise refused("totp_not_started")
        return totp.qr_svg(totp.provisioning_uri(self._open(user, user.totp_pending), user.email))

    async def confirm(self, user: User, code: str) -> list[str]:
        """Turn the factor on with the first code from the app; the recovery codes, to show once."""
        if user.totp_secret is not None:
            raise refused("totp_already_on")
        if user.totp_pending is None:
            raise refused("totp_not_started")
        verdict = totp.check(self._open(user, user.totp_pending), code)
        if not isinstance(verdict, totp.Accepted):
            raise refused(verdict.value)
        codes = totp.new_recovery_codes()
        digests = [totp.recovery_digest(code) for code in codes]
        if not await self.store.confirm_totp(user.id, user.totp_pending, verdict.step, digests):
            raise refused("totp_not_started")
        return codes

    def _open(self, user: User, sealed: str) -> str:
        secret = self.sealer.open(sealed, user.id)
        if secret is None:
            log.error("the TOTP secret of user %s does not open with CHATBOT_TOTP_KEY (a changed key?)", user.id)
            raise refused("totp_unavailable")
        return secret
