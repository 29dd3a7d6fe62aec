"""The generic repository: it adds, queries and flushes. It never commits a change: the
unit of work does (Database.unit_of_work); release_connection only ends a transaction
that has read."""

import uuid
from typing import Generic, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, AsyncSessionTransaction

from app.db.base import Base

ModelT = TypeVar("ModelT", bound=Base)


class ConstraintViolation(Exception):
    """A write broke a database constraint (for example a unique e-mail)."""


class Repository(Generic[ModelT]):
    model: type[ModelT]

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def release_connection(self) -> None:
        """End the request's transaction so far and give its connection back to the pool.

        For slow work that needs no database, a bcrypt check above all: a connection held
        through it would let a burst of logins starve every other route. The transaction
        so far must hold only reads (it is committed, so that loaded objects stay loaded);
        the next query opens a new one, and whatever was read must be read again there
        before it is relied on.
        """
        if self.session.new or self.session.dirty or self.session.deleted:
            raise RuntimeError("release_connection() would commit pending changes")
        await self.session.commit()

    def savepoint(self) -> AsyncSessionTransaction:
        """A SAVEPOINT: a failed write inside it leaves the request's transaction usable."""
        return self.session.begin_nested()

    async def get(self, id_: uuid.UUID) -> ModelT | None:
        return await self.session.get(self.model, id_)

    async def add(self, instance: ModelT) -> ModelT:
        self.session.add(instance)
        await self.flush()
        return instance

    async def delete(self, instance: ModelT) -> None:
        await self.session.delete(instance)
        await self.flush()

    async def flush(self) -> None:
        try:
            await self.session.flush()
        except IntegrityError as exc:
            raise ConstraintViolation(str(exc.orig)) from exc
