"""`python -m app.worker`: run the job queue's worker until SIGTERM or SIGINT.

On SIGTERM it takes no new job, lets those in hand finish, and exits; a job cut off
harder than that (SIGKILL, a lost machine) is taken again once its heartbeat is older
than JOB_HEARTBEAT_TIMEOUT_SECONDS. When the database goes away, the worker stays up
(its /health says the queue is unreachable), connects again with growing pauses, and
goes on; a job it held meanwhile returns to the queue by the same heartbeat.
"""

import asyncio
import contextlib
import logging
import signal
import time
from datetime import timedelta

import asyncpg
import uvicorn
from pgqueuer import PgQueuer

from app.core.config import Settings, get_settings
from app.core.logging import configure_logging
from app.db.session import Database
from app.jobs.handlers import Handlers
from app.mail.delivery import mailer
from app.worker.metrics import WorkerMetrics
from app.worker.probe import ProbeServer, probe_app
from app.worker.runner import (
    BATCH_SIZE,
    MAX_CONCURRENT_JOBS,
    Worker,
    asyncpg_dsn,
    dequeue_timeout,
)

logger = logging.getLogger("app.worker")


# The queue's own connections: one listens for new jobs, the others take them.
QUEUE_POOL_MIN = 2
QUEUE_POOL_MAX = 4
# The pauses between attempts to reach a database that went away: 1 s, doubling, at most.
RECONNECT_MAX_SECONDS = 30.0
# After SIGTERM, how long the jobs in hand get to finish (an e-mail's SMTP exchange times
# out after 10 s); past it the worker exits anyway, its jobs returned to the queue by
# their heartbeat. A database that stopped answering would otherwise hold the exit.
STOP_GRACE_SECONDS = 12.0
# With no job in hand, how long pgqueuer gets to record the last jobs' outcomes (a
# reachable database takes well under a second).
FLUSH_GRACE_SECONDS = 3.0
STOP_POLL_SECONDS = 0.1
# What a database out of reach raises, from connecting to the middle of a query.
LOST_DATABASE = (OSError, TimeoutError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError)


class Queue:
    """pgqueuer on a pool of its own, built afresh after the database went away."""

    def __init__(self, settings: Settings, worker: Worker) -> None:
        self.settings = settings
        self.worker = worker
        self.stopping = asyncio.Event()
        self.current: PgQueuer | None = None

    def stop(self) -> None:
        logger.info("stopping: no new jobs; those in hand finish")
        self.stopping.set()
        if self.current is not None:
            self.current.shutdown.set()

    async def run_until_stopped(self) -> None:
        running = asyncio.create_task(self._reconnecting())
        stopped = asyncio.create_task(self.stopping.wait())
        await asyncio.wait({running, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if not running.done():
            await self._finishing(running)
        stopped.cancel()
        if not running.done():
            if self.worker.in_hand.count:
                logger.warning(
                    "jobs still in hand %.0f s after the stop: left to their heartbeat",
                    STOP_GRACE_SECONDS,
                )
            else:
                logger.warning(
                    "the queue did not record its last jobs within %.0f s (is the database "
                    "reachable?): exiting; a job it could not mark done runs again",
                    FLUSH_GRACE_SECONDS,
                )
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)
            return
        running.result()  # an error of the queue's own ends the worker with it

    async def _finishing(self, running: asyncio.Task[None]) -> None:
        """Wait for the queue to stop: while jobs are in hand, up to STOP_GRACE_SECONDS
        after the stop; once none is, up to FLUSH_GRACE_SECONDS after the stop or the last
        job's end, for pgqueuer to record what they did. A database out of reach would
        otherwise hold the exit for the whole grace with nothing left to finish."""
        stopped_at = time.monotonic()
        stop_deadline = stopped_at + STOP_GRACE_SECONDS
        in_hand = self.worker.in_hand
        while not running.done():
            deadline = stop_deadline
            if not in_hand.count:
                idle_from = max(stopped_at, in_hand.idle_since)
                deadline = min(stop_deadline, idle_from + FLUSH_GRACE_SECONDS)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            await asyncio.wait({running}, timeout=min(STOP_POLL_SECONDS, remaining))

    async def _reconnecting(self) -> None:
        pause = 1.0
        while not self.stopping.is_set():
            try:
                await self._run_once()
                pause = 1.0
            except LOST_DATABASE as exc:
                logger.error("lost the database; connecting again in %.0f s: %s", pause, exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(), pause)
                pause = min(pause * 2, RECONNECT_MAX_SECONDS)

    async def _run_once(self) -> None:
        pool = await asyncpg.create_pool(
            asyncpg_dsn(self.settings),
            min_size=QUEUE_POOL_MIN,
            max_size=QUEUE_POOL_MAX,
            timeout=self.settings.db_connect_timeout,
        )
        try:
            self.current = self.worker.build(pool)
            if self.stopping.is_set():
                return
            await self.current.run(
                dequeue_timeout=dequeue_timeout(self.settings),
                batch_size=BATCH_SIZE,
                max_concurrent_tasks=MAX_CONCURRENT_JOBS,
                heartbeat_timeout=timedelta(seconds=self.settings.job_heartbeat_timeout_seconds),
            )
        finally:
            self.current = None
            # A pool whose server is gone may never close politely.
            try:
                await asyncio.wait_for(pool.close(), self.settings.db_connect_timeout)
            except (*LOST_DATABASE, TimeoutError):
                pool.terminate()
            except asyncio.CancelledError:
                pool.terminate()
                raise


async def run(settings: Settings) -> None:
    database = Database.from_settings(settings)
    metrics = WorkerMetrics()
    worker = Worker(settings, Handlers(settings, database, mailer(settings)), metrics)
    queue = Queue(settings, worker)
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
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, queue.stop)
    sampler = asyncio.create_task(worker.sample(database))
    serving = asyncio.create_task(probe.serve())
    logger.info("worker started", extra={"port": settings.worker_port})
    try:
        await queue.run_until_stopped()
    finally:
        probe.should_exit = True
        sampler.cancel()
        await asyncio.gather(serving, sampler, return_exceptions=True)
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
