"""The worker: pgqueuer's queue manager and scheduler, with the handlers of app/jobs."""

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

import asyncpg
from pgqueuer import PgQueuer
from pgqueuer.errors import RetryRequested
from pgqueuer.executors import DatabaseRetryEntrypointExecutor, EntrypointExecutorParameters
from pgqueuer.models import Context, Job
from sqlalchemy import column, func, literal_column, select, table
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from app.core.config import Settings
from app.core.context import job_id_var, request_id_var
from app.db.session import Database
from app.jobs import queue
from app.jobs.handlers import Handlers
from app.jobs.outbox import REQUEST_ID_HEADER
from app.worker.metrics import WorkerMetrics

logger = logging.getLogger(__name__)

# Jobs taken per dequeue, and the most run at once (pgqueuer wants twice the batch).
BATCH_SIZE = 5
MAX_CONCURRENT_JOBS = 2 * BATCH_SIZE
# How often the queue's depth and oldest job are read for the metrics and /health.
SAMPLE_SECONDS = 5.0
# A new job wakes the worker at once (pgqueuer's trigger notifies it); a job put back for
# a retry may not, and waits past its due time at most this long, or its first retry
# delay (JOB_RETRY_DELAY_SECONDS) where that is shorter: a retry is never late by more
# than the delay it waited.
DEQUEUE_TIMEOUT = timedelta(seconds=5)


def dequeue_timeout(settings: Settings) -> timedelta:
    """How long the worker waits for a notification before it reads the queue anyway."""
    return min(DEQUEUE_TIMEOUT, timedelta(seconds=settings.job_retry_delay_seconds))


# pgqueuer's queue table, as much of it as the sample reads.
_jobs = table(queue.QUEUE_TABLE, column("status"), column("execute_after"))
_due = _jobs.c.execute_after <= func.now()
QUEUE_SAMPLE = select(
    func.count(),
    func.coalesce(
        func.extract("epoch", func.now() - func.min(_jobs.c.execute_after).filter(_due)), 0
    ),
).where(_jobs.c.status == literal_column("'queued'"))  # pgqueuer's enum, not a text


def asyncpg_dsn(settings: Settings) -> str:
    """DATABASE_URL as asyncpg itself reads it (no SQLAlchemy driver name)."""
    url = make_url(settings.database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


@dataclasses.dataclass
class InHand:
    """How many jobs the worker is running, and since when (monotonic) it runs none: what
    a stop must wait for."""

    count: int = 0
    idle_since: float = 0.0

    def took(self) -> None:
        self.count += 1

    def ended(self) -> None:
        self.count -= 1
        if not self.count:
            self.idle_since = time.monotonic()


@dataclasses.dataclass
class CountedRetries(DatabaseRetryEntrypointExecutor):
    """pgqueuer's retrying executor (growing delays, then a terminal failure), with the
    job's and its request's ids in every log line and its own decision counted: a retry it
    asks for is `retried`, an error it lets through `failed`."""

    metrics: WorkerMetrics | None = None
    in_hand: InHand | None = None

    async def execute(self, job: Job, context: Context) -> None:
        request_id = (job.headers or {}).get(REQUEST_ID_HEADER)
        job_token = job_id_var.set(str(job.id))
        request_token = request_id_var.set(str(request_id) if request_id else None)
        if self.in_hand is not None:
            self.in_hand.took()
        try:
            await super().execute(job, context)
        except RetryRequested as retry:
            self._count(job, "retried")
            logger.warning(
                "job failed, will be retried: %s", retry.reason, extra={"attempt": job.attempts + 1}
            )
            raise
        except Exception as exc:
            self._count(job, "failed")
            logger.error("job failed for good after %d attempts: %s", job.attempts + 1, exc)
            raise
        else:
            self._count(job, "done")
        finally:
            if self.in_hand is not None:
                self.in_hand.ended()
            request_id_var.reset(request_token)
            job_id_var.reset(job_token)

    def _count(self, job: Job, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.jobs.labels(job.entrypoint, outcome).inc()


def _taking_payload(handle: Callable[[bytes], Awaitable[None]]) -> Callable[[Job], Awaitable[None]]:
    """A handler of payloads as pgqueuer calls it, with the job."""

    async def handle_job(job: Job) -> None:
        await handle(job.payload or b"")

    return handle_job


class Worker:
    def __init__(self, settings: Settings, handlers: Handlers, metrics: WorkerMetrics) -> None:
        self.settings = settings
        self.handlers = handlers
        self.metrics = metrics
        # Monotonic time of the last successful read of the queue, for /health's body.
        self.last_sample: float | None = None
        self.in_hand = InHand()

    def retrying(self, parameters: EntrypointExecutorParameters) -> "CountedRetries":
        return CountedRetries(
            parameters=parameters,
            max_attempts=self.settings.job_max_attempts - 1,  # retries after the first try
            initial_delay=timedelta(seconds=self.settings.job_retry_delay_seconds),
            max_delay=queue.MAX_RETRY_DELAY,
            backoff_multiplier=2.0,
            metrics=self.metrics,
            in_hand=self.in_hand,
        )

    def build(self, pool: asyncpg.Pool) -> PgQueuer:
        pgq = PgQueuer.from_asyncpg_pool(pool)
        for name, handle in self.handlers.by_entrypoint.items():
            pgq.entrypoint(name, on_failure="hold", executor_factory=self.retrying)(
                _taking_payload(handle)
            )
        # One run per schedule across every worker: pgqueuer's scheduler takes the
        # schedule's row before it runs it.
        pgq.schedule(queue.PURGE_TOKENS, queue.PURGE_TOKENS_SCHEDULE)(self.handlers.purge_tokens)
        return pgq

    async def sample(self, database: Database) -> None:
        """Read the queue's depth and its oldest due job, every SAMPLE_SECONDS."""
        while True:
            try:
                async with database.engine.connect() as connection:
                    depth, age = (await connection.execute(QUEUE_SAMPLE)).one()
            except (OSError, SQLAlchemyError, TimeoutError) as exc:
                logger.warning("could not read the queue: %s", exc)
            else:
                self.metrics.queue_depth.set(depth)
                self.metrics.oldest_job_age.set(float(age))
                self.last_sample = time.monotonic()
            await asyncio.sleep(SAMPLE_SECONDS)

    def queue_reachable(self) -> bool:
        """Whether the worker read the queue lately."""
        return (
            self.last_sample is not None
            and time.monotonic() - self.last_sample < 3 * SAMPLE_SECONDS
        )
