"""Staff's private notes on a conversation: their own table, read only by the representatives' desk.

No query that builds what a visitor receives (``messages``, the transcript, the visitor's export) reads this table,
so a note cannot reach a visitor by a missed filter.

Tested in tests/test_collaboration.py.
"""

from __future__ import annotations

from sqlalchemy import select

from chatbot.store.base import Database
from chatbot.store.models import Note, utcnow


class NoteQueries(Database):
    async def add_note(self, conversation_id: str, author_id: str, author_name: str, text: str) -> Note:
        note = Note(conversation_id=conversation_id, author_id=author_id, author_name=author_name, text=text,
                    created_at=utcnow())
        async with self.transaction() as session:
            session.add(note)
        return note

    async def notes(self, conversation_id: str) -> list[Note]:
        """The conversation's notes, oldest first."""
        async with self.transaction() as session:
            return list(await session.scalars(
                select(Note).where(Note.conversation_id == conversation_id).order_by(Note.id)
            ))
