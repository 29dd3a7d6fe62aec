"""Authentication's read of a user: one Core query on a connection, no session, no ORM.

Every authenticated request reads its user; most need nothing else from the database.
This read skips what a unit of work costs (a session, a transaction, the ORM's identity
map), and a request that goes on to change the user reads it again, under its row lock,
in its unit of work.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Uuid, bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.session import Database
from app.models import User
from app.repositories.refresh_token import session_is_live


@dataclass(frozen=True)
class Account:
    """A user as it was when the request was authenticated, and the session it used."""

    id: uuid.UUID
    email: str
    full_name: str | None
    hashed_password: str
    is_active: bool
    is_superuser: bool
    email_verified_at: datetime | None
    created_at: datetime
    session_id: uuid.UUID


SESSION_ID = bindparam("session_id", type_=Uuid())
# The user's columns in the order of Account's fields, and the session id the token named.
ACCOUNT_COLUMNS = [
    *(getattr(User, field) for field in Account.__dataclass_fields__ if field != "session_id"),
    SESSION_ID.label("session_id"),
]
# Built once: building the expression and its cache key on every request cost more than
# sending it. The values are bound at execution. The session's liveness rides in the same
# statement, so a session ended on any replica ends its access tokens here at once.
ACCOUNT_IN_SESSION = select(*ACCOUNT_COLUMNS).where(
    User.id == bindparam("user_id"), session_is_live(SESSION_ID, User.id)
)


class AccountReader:
    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection

    async def get(self, user_id: uuid.UUID, session_id: uuid.UUID) -> Account | None:
        """The user, if the session still lives; None for a gone user or an ended session."""
        result = await self.connection.execute(
            ACCOUNT_IN_SESSION, {"user_id": user_id, "session_id": session_id}
        )
        row = result.one_or_none()
        return None if row is None else Account(*row)


async def read_account(
    database: Database, user_id: uuid.UUID, session_id: uuid.UUID
) -> Account | None:
    """The account, on a connection of its own, outside any unit of work."""
    return await database.read(
        lambda connection: AccountReader(connection).get(user_id, session_id)
    )
