import uuid
from collections.abc import Sequence

from sqlalchemy import select

from app.models.note import Note
from app.repositories.repository import Repository


class NoteRepository(Repository[Note]):
    model = Note

    async def list_for_owner(self, owner_id: uuid.UUID) -> Sequence[Note]:
        query = select(Note).where(Note.owner_id == owner_id).order_by(Note.created_at, Note.id)
        return (await self.session.scalars(query)).all()
