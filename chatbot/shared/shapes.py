"""What a string must look like to be stored, and what an email address and a phone number look like: one set of
rules for the visitor's contact details (``chat/protocol.py``) and for the forms' fields (``bot/forms.py``).

Tested in tests/test_visitor_chat.py, tests/test_forms.py, tests/test_fuzz.py.
"""

from __future__ import annotations

import re

# NUL and unpaired surrogates: PostgreSQL cannot store the one, UTF-8 cannot encode the other.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}")
_PHONE = re.compile(r"\+?[0-9 ()./-]{5,30}")
PHONE_DIGITS = 5


def storable(value: str) -> bool:
    """True when ``value`` can be stored and sent back as it came (no NUL, no lone surrogate)."""
    return _UNSTORABLE.search(value) is None


def is_email(value: str) -> bool:
    """A plausible email address (the mail server has the last word): something@domain.tld, no spaces."""
    return _EMAIL.fullmatch(value) is not None


def is_phone(value: str) -> bool:
    """Digits, spaces and + ( ) . / -, with at least ``PHONE_DIGITS`` digits."""
    return _PHONE.fullmatch(value) is not None and sum(c.isdigit() for c in value) >= PHONE_DIGITS
