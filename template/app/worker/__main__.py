"""`python -m app.worker`: run the job queue's worker until SIGTERM or SIGINT.

On SIGTERM it takes no new job, lets those in hand finish, and exits; a job cut off
harder than that (SIGKILL, a lost machine) is taken again once its heartbeat is older
than JOB_HEARTBEAT_TIMEOUT_SECONDS.
"""

import asyncio
import logging
import signal
from datetime import timedelta

import asyncpg
import uvicorn

from app.core.config import Settings, get_settings
from app.core.logging import configure_logging
from app.db.session import Database
from app.jobs.handlers import Handlers
from app.mail.delivery import mailer
from app.worker.metrics import WorkerMetrics
from app.worker.probe import ProbeServer, probe_app
from app.worker.runner import (
    BATCH_SIZE,
    DEQUEUE_TIMEOUT,
    MAX_CONCURRENT_JOBS,
    Worker,
    asyncpg_dsn,
)

logger = logging.getLogger("app.worker")


async def run(settings: Settings) -> None:
    database = Database.from_settings(settings)
    metrics = WorkerMetrics()
    worker = Worker(settings, Handlers(settings, database, mailer(settings)), metrics)
    # The queue's own connections: one listens for new jobs, the others take them.
    pool = await asyncpg.create_pool(asyncpg_dsn(settings), min_size=2, max_size=4)
    pgq = worker.build(pool)
    probe = ProbeServer(
        uvicorn.Config(
            probe_app(settings, worker, metrics),
            host=settings.worker_host,
            port=settings.worker_port,
            log_config=None,  # the service's logging, configured already
            access_log=False,
        )
    )
    loop = asyncio.get_running_loop()

    def stop() -> None:
        logger.info("stopping: no new jobs; those in hand finish")
        pgq.shutdown.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop)
    sampler = asyncio.create_task(worker.sample(database))
    serving = asyncio.create_task(probe.serve())
    logger.info("worker started", extra={"port": settings.worker_port})
    try:
        await pgq.run(
            dequeue_timeout=DEQUEUE_TIMEOUT,
            batch_size=BATCH_SIZE,
            max_concurrent_tasks=MAX_CONCURRENT_JOBS,
            heartbeat_timeout=timedelta(seconds=settings.job_heartbeat_timeout_seconds),
        )
    finally:
        probe.should_exit = True
        sampler.cancel()
        await asyncio.gather(serving, sampler, return_exceptions=True)
        await pool.close()
        await database.engine.dispose()
        logger.info("worker stopped")


def main() -> None:
    settings = get_settings()
    configure_logging(settings)
    if settings.is_sqlite:
        raise SystemExit(
            "The worker needs PostgreSQL (its job queue lives there): DATABASE_URL is SQLite."
        )
    asyncio.run(run(settings))


if __name__ == "__main__":
    main()
