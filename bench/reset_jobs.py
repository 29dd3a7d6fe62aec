"""The bench's hand on the job queue: `python reset_jobs.py fill COUNT USERS`, or `clear`.

fill tops the queue up to COUNT queued password-reset jobs, the jobs a reset request
leaves (the same entrypoint and payload), for bench-1@example.com to bench-USERS@... in
turn, written by pgqueuer's own batch enqueue; clear deletes the jobs left. Each prints
how many were queued: after the filling, before the clearing. Run by the rendered
project's Python with its folder on PYTHONPATH and the service's settings.
"""

import asyncio
import sys

import asyncpg
from app.core.config import get_settings
from app.jobs.queue import QUEUE_TABLE, SEND_ACCOUNT_EMAIL, AccountEmail
from app.worker.runner import asyncpg_dsn
from pgqueuer.db import AsyncpgDriver
from pgqueuer.queries import Queries

QUEUED = f"SELECT count(*) FROM {QUEUE_TABLE} WHERE entrypoint = $1 AND status = 'queued'"


async def main(command: str, count: int = 0, users: int = 1) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(get_settings()))
    try:
        queries = Queries(AsyncpgDriver(connection))
        queued: int = await connection.fetchval(QUEUED, SEND_ACCOUNT_EMAIL)
        if command == "clear":
            await queries.clear_queue(SEND_ACCOUNT_EMAIL)
        elif (missing := count - queued) > 0:
            payloads: list[bytes | None] = [
                AccountEmail(purpose="password-reset", address=f"bench-{n % users + 1}@example.com")
                .model_dump_json()
                .encode()
                for n in range(missing)
            ]
            await queries.enqueue([SEND_ACCOUNT_EMAIL] * missing, payloads, [0] * missing)
            queued = count
        print(queued)
    finally:
        await connection.close()


if __name__ == "__main__":
    command, *numbers = sys.argv[1:]
    asyncio.run(main(command, *(int(number) for number in numbers)))
