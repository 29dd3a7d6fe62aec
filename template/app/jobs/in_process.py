"""Development on SQLite, which has no queue: a job runs in the request that put it,
after that request's commit, and is not retried.

The outbox guarantee does not hold here (a process that dies between the commit and the
job loses the job), which is why production refuses SQLite. It keeps the account flows
usable with `make dev` on SQLite: their e-mails appear in the log (EMAIL_BACKEND=console).
"""

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

logger = logging.getLogger(__name__)

PENDING = "jobs_after_commit"
Run = Callable[[str, bytes], Awaitable[None]]


def defer(session: AsyncSession, entrypoint: str, payload: bytes) -> None:
    """Keep a job with the session, to run once its unit of work has committed."""
    session.info.setdefault(PENDING, []).append((entrypoint, payload))


def take(session: AsyncSession) -> list[tuple[str, bytes]]:
    jobs: list[Any] = session.info.pop(PENDING, [])
    return jobs


async def run(jobs: list[tuple[str, bytes]], handle: Run) -> None:
    """Run committed jobs one after the other; a failure is logged, not retried."""
    for entrypoint, payload in jobs:
        try:
            await handle(entrypoint, payload)
        except Exception:
            logger.exception("job failed (SQLite: run in process, not retried)")
