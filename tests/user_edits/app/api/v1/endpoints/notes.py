import uuid
from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, status

from app.api.dependencies import CurrentUser, SessionDep
from app.api.problems import declared_problems
from app.models.note import Note
from app.repositories.note import NoteRepository
from app.schemas.note import NoteCreate, NoteRead
from app.services.notes import NoteService


def get_note_service(session: SessionDep) -> NoteService:
    return NoteService(NoteRepository(session))


NoteServiceDep = Annotated[NoteService, Depends(get_note_service)]

router = APIRouter(prefix="/notes", tags=["notes"])


@router.post(
    "",
    response_model=NoteRead,
    status_code=status.HTTP_201_CREATED,
    responses=declared_problems(401, 422),
)
async def create_note(body: NoteCreate, user: CurrentUser, notes: NoteServiceDep) -> Note:
    return await notes.create(user, body)


@router.get("", response_model=list[NoteRead], responses=declared_problems(401))
async def list_notes(user: CurrentUser, notes: NoteServiceDep) -> Sequence[Note]:
    return await notes.list_for(user)


@router.get("/{note_id}", response_model=NoteRead, responses=declared_problems(401, 404, 422))
async def read_note(note_id: uuid.UUID, user: CurrentUser, notes: NoteServiceDep) -> Note:
    return await notes.get_for(user, note_id)
