"""Notes belong to the user who wrote them; nobody else can see them."""

import uuid
from collections.abc import Sequence

from app.core.exceptions import NotFound
from app.models.note import Note
from app.models.user import User
from app.repositories.note import NoteRepository
from app.schemas.note import NoteCreate


class NoteService:
    def __init__(self, notes: NoteRepository) -> None:
        self.notes = notes

    async def create(self, owner: User, data: NoteCreate) -> Note:
        return await self.notes.add(Note(owner_id=owner.id, title=data.title, body=data.body))

    async def list_for(self, owner: User) -> Sequence[Note]:
        return await self.notes.list_for_owner(owner.id)

    async def get_for(self, owner: User, note_id: uuid.UUID) -> Note:
        note = await self.notes.get(note_id)
        # Someone else's note answers like a missing one: ids reveal nothing.
        if note is None or note.owner_id != owner.id:
            raise NotFound("No note with this id.")
        return note
