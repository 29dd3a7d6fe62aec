"""The generic repository: it adds, queries and flushes, and never commits."""

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
