"""Jobs put on the queue in the caller's transaction: the outbox guarantee.

The job's row is written on the unit of work's own connection, inside its transaction:
a request that rolls back leaves no job, and a request that commits has its job, even
if the process dies right after the commit. The worker sees the job once it is committed
(pgqueuer's trigger notifies at commit). On SQLite (development) the job runs in the
request instead, after its commit (in_process.py).
"""

from pgqueuer.db import AsyncpgDriver
from pgqueuer.queries import Queries
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import request_id_var
from app.jobs import in_process

# The header that carries the enqueuing request's id to the worker's log lines.
REQUEST_ID_HEADER = "request_id"


class Outbox:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, entrypoint: str, payload: BaseModel) -> None:
        """Put a job for `entrypoint` on the queue, committed or rolled back with the
        session's transaction."""
        body = payload.model_dump_json().encode()
        connection = await self.session.connection()
        if connection.dialect.name == "sqlite":
            in_process.defer(self.session, entrypoint, body)
            return
        raw = (await connection.get_raw_connection()).driver_connection
        if raw is None:  # a connection that was invalidated under us
            raise RuntimeError("the unit of work's connection is gone")
        if not raw.is_in_transaction():
            # SQLAlchemy begins the transaction with its first statement: nothing has run
            # yet, and a write on the bare connection would commit on its own.
            await connection.execute(text("SELECT 1"))
        headers = {}
        if request_id := request_id_var.get():
            headers[REQUEST_ID_HEADER] = request_id
        # pgqueuer's own enqueue, on the session's asyncpg connection: the same transaction.
        await Queries(AsyncpgDriver(raw)).enqueue(entrypoint, body, headers=headers)
