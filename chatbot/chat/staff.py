"""Staff who sign in with an email and a password: their roles.

Tested in tests/test_users.py.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """What a staff member may do, each including the one before: agent < supervisor < admin."""

    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"

