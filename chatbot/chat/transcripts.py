"""Plain-text transcripts of closed conversations, one file per conversation.

Tested in tests/test_admin.py, tests/test_agents.py.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from pathlib import Path

from chatbot.chat.protocol import iso
from chatbot.store.models import Conversation, Message

_SENDERS = {"visitor": "Visitor", "bot": "Bot", "system": "System"}


def render(conversation: Conversation, messages: Sequence[Message]) -> str:
    """A readable transcript: a header, then one line per message with its time and sender."""
    lines = [
        f"Conversation {conversation.id}",
        f"Language: {conversation.lang}",
        f"Started: {iso(conversation.created_at)}",
        f"State: {conversation.state} ({conversation.reason or '-'})",
    ]
    if conversation.closed_at is not None:
        lines.append(f"Closed: {iso(conversation.closed_at)}")
    if conversation.rating is not None:
        comment = f" - {conversation.rating_comment}" if conversation.rating_comment else ""
        lines.append(f"Rating: {conversation.rating}/5{comment}")
    lines.append("")
    for message in messages:
        who = message.agent_name if message.sender == "agent" else _SENDERS.get(message.sender, message.sender)
        lines.append(f"[{iso(message.created_at)}] {who}: {message.text}")
    return "\n".join(lines) + "\n"


def _write_atomically(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    partial.write_text(content, encoding="utf-8")
    os.replace(partial, path)


async def write(directory: Path, conversation: Conversation, messages: Sequence[Message]) -> Path:
    """Write the transcript off the event loop; a reader never sees a half-written file."""
    path = directory / f"{conversation.id}.txt"
    await asyncio.to_thread(_write_atomically, path, render(conversation, messages))
    return path
