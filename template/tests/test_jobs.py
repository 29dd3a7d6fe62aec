"""The job queue on PostgreSQL: the outbox guarantee, and the worker process sending
e-mails to a real SMTP server, retrying while it is down, and holding what keeps failing."""

import asyncio
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from app.core.config import Settings
from app.core.context import request_id_var
from app.core.exceptions import DatabaseUnavailable
from app.db.session import Database
from app.jobs.outbox import Outbox
from app.jobs.queue import (
    PURGE_TOKENS,
    PURGE_TOKENS_SCHEDULE,
    QUEUE_TABLE,
    SCHEDULES_TABLE,
    SEND_EMAIL,
    EmailJob,
)
from app.worker.runner import DEQUEUE_TIMEOUT, dequeue_timeout
from tests.conftest import PROJECT_ROOT
from tests.processes import process_env
from tests.smtp_sink import LOOPBACK, free_port, smtp_sink
from tests.worker_process import PATIENCE_SECONDS, wait_until, worker

EMAIL = EmailJob(kind="test", to="user@example.com")

# Commits for real, in a child process that then dies at once (os._exit: no cleanup).
DIES_AFTER_COMMIT = """
import asyncio, os
from app.core.config import get_settings
from app.db.session import Database
from app.jobs.outbox import Outbox
from app.jobs.queue import SEND_EMAIL, EmailJob

async def main():
    database = Database.from_settings(get_settings())
    async with database.unit_of_work() as session:
        await Outbox(session).add(SEND_EMAIL, EmailJob(kind="test", to="user@example.com"))
    os._exit(9)

asyncio.run(main())
"""


async def queued(database: Database) -> list[tuple[str, str, EmailJob, dict[str, str]]]:
    """(entrypoint, status, payload, headers) of every job in the queue."""
    async with database.engine.connect() as connection:
        rows = await connection.execute(
            text(f"SELECT entrypoint, status, payload, headers FROM {QUEUE_TABLE} ORDER BY id")  # noqa: S608
        )
        return [
            (row[0], str(row[1]), EmailJob.model_validate_json(row[2]), row[3] or {})
            for row in rows
        ]


async def enqueue(database: Database, request_id: str = "request-1") -> None:
    token = request_id_var.set(request_id)
    try:
        async with database.unit_of_work() as session:
            await Outbox(session).add(SEND_EMAIL, EMAIL)
    finally:
        request_id_var.reset(token)


async def test_a_committed_unit_of_work_has_its_job(committed: Database) -> None:
    await enqueue(committed, request_id="request-7")
    assert await queued(committed) == [(SEND_EMAIL, "queued", EMAIL, {"request_id": "request-7"})]


async def test_a_rolled_back_unit_of_work_leaves_no_job(committed: Database) -> None:
    # The job is the unit of work's first statement: it must still belong to it.
    async def fails_after_enqueueing() -> None:
        async with committed.unit_of_work() as session:
            await Outbox(session).add(SEND_EMAIL, EMAIL)
            raise RuntimeError("the request fails after enqueueing")

    with pytest.raises(RuntimeError, match="fails after enqueueing"):
        await fails_after_enqueueing()
    assert await queued(committed) == []


async def test_a_connection_lost_while_enqueueing_is_database_unavailable(
    committed: Database,
) -> None:
    """The job is written by asyncpg itself, past SQLAlchemy's translation of errors: a
    connection lost there still ends the unit of work as DatabaseUnavailable (a 503),
    never a 500, and leaves no job."""

    async def enqueue_on_a_lost_connection() -> None:
        async with committed.unit_of_work() as session:
            pid = await session.scalar(text("SELECT pg_backend_pid()"))
            async with committed.engine.connect() as other:
                await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            await Outbox(session).add(SEND_EMAIL, EMAIL)

    with pytest.raises(DatabaseUnavailable):
        await enqueue_on_a_lost_connection()
    assert await queued(committed) == []


async def test_a_job_outlives_a_process_that_dies_right_after_its_commit(
    committed: Database, settings: Settings
) -> None:
    died = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", DIES_AFTER_COMMIT],
        cwd=PROJECT_ROOT,
        env=process_env(settings),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert died.returncode == 9, died.stderr
    assert [job[:3] for job in await queued(committed)] == [(SEND_EMAIL, "queued", EMAIL)]


async def test_the_worker_sends_a_committed_email(
    committed: Database, settings: Settings, tmp_path: Path
) -> None:
    with smtp_sink() as sink, worker(settings, tmp_path, sink.port) as running:
        health = (await asyncio.to_thread(httpx.get, f"{running.url}/health", timeout=5)).json()
        await enqueue(committed, request_id="request-42")
        [received] = await asyncio.to_thread(sink.wait_for, 1, PATIENCE_SECONDS)
        await asyncio.to_thread(wait_until, lambda: running.count("done") == 1, "counted done")
        running.process.send_signal(signal.SIGTERM)
        assert running.process.wait(timeout=15) == 0
    assert health["status"] == "ok"
    assert received.recipients == ["user@example.com"]
    assert received.message["Subject"].endswith(": a test message")
    sent = [line for line in running.lines() if line.get("message") == "e-mail sent"]
    assert len(sent) == 1
    # The worker's line names its job and the request that enqueued it.
    assert sent[0]["request_id"] == "request-42"
    assert sent[0]["job_id"]
    assert any(line.get("message") == "worker stopped" for line in running.lines())
    assert await queued(committed) == []  # done: out of the queue
    # The daily purge is on pgqueuer's schedule, a row that every worker shares.
    async with committed.engine.connect() as connection:
        schedules = await connection.execute(
            text(f"SELECT entrypoint, expression FROM {SCHEDULES_TABLE}")  # noqa: S608
        )
        assert [tuple(row) for row in schedules] == [(PURGE_TOKENS, PURGE_TOKENS_SCHEDULE)]


async def test_an_smtp_outage_is_retried_until_the_server_returns(
    committed: Database, settings: Settings, tmp_path: Path
) -> None:
    down = free_port()  # nothing listens here until the sink starts
    with worker(settings, tmp_path, down, JOB_RETRY_DELAY_SECONDS="0.2") as running:
        await enqueue(committed)
        await asyncio.to_thread(
            wait_until, lambda: running.count("retried") >= 1, "a failed attempt, retried"
        )
        with smtp_sink(port=down) as sink:
            [received] = await asyncio.to_thread(sink.wait_for, 1, PATIENCE_SECONDS)
            await asyncio.to_thread(wait_until, lambda: running.count("done") == 1, "done")
        assert running.count("failed") == 0
    assert received.recipients == ["user@example.com"]
    assert await queued(committed) == []


async def test_a_job_that_keeps_failing_is_held_as_failed(
    committed: Database, settings: Settings, tmp_path: Path
) -> None:
    down = free_port()
    with worker(
        settings, tmp_path, down, JOB_RETRY_DELAY_SECONDS="0.1", JOB_MAX_ATTEMPTS="2"
    ) as running:
        await enqueue(committed)
        await asyncio.to_thread(wait_until, lambda: running.count("failed") == 1, "failed")
        for _ in range(PATIENCE_SECONDS * 10):
            jobs = await queued(committed)
            if jobs and jobs[0][1] == "failed":
                break
            await asyncio.sleep(0.1)
        assert running.count("retried") == 1
    assert [job[:3] for job in jobs] == [(SEND_EMAIL, "failed", EMAIL)]
    assert any(
        str(line.get("message", "")).startswith("job failed for good after 2 attempts")
        for line in running.lines()
    )


async def test_the_worker_measures_the_queue(
    committed: Database, settings: Settings, tmp_path: Path
) -> None:
    # Nothing listens on the port: the job fails once and waits a minute for its retry.
    with worker(settings, tmp_path, free_port(), JOB_RETRY_DELAY_SECONDS="60") as running:
        await enqueue(committed)
        await asyncio.to_thread(wait_until, lambda: running.count("retried") == 1, "retried")

        def depth() -> str:
            metrics = httpx.get(f"{running.url}/metrics", timeout=5).text
            found = re.search(r"^worker_queue_depth (\S+)$", metrics, re.MULTILINE)
            return found[1] if found else "absent"

        await asyncio.to_thread(wait_until, lambda: depth() == "1.0", "a depth of one job")
        health = (await asyncio.to_thread(httpx.get, f"{running.url}/health", timeout=5)).json()
    assert health == {"status": "ok", "queue": "reachable"}
    assert not any("could not read the queue" in str(line) for line in running.lines())


def test_a_retry_is_late_by_no_more_than_the_delay_it_waited(settings: Settings) -> None:
    """A job put back for a retry wakes no worker: the worker's next read of the queue
    finds it, at most its first delay after it is due (or DEQUEUE_TIMEOUT, if shorter)."""
    short = settings.model_copy(update={"job_retry_delay_seconds": 0.2})
    assert dequeue_timeout(short) == timedelta(seconds=0.2)
    long = settings.model_copy(update={"job_retry_delay_seconds": 60})
    assert dequeue_timeout(long) == DEQUEUE_TIMEOUT


@contextmanager
def silent_smtp_server() -> Iterator[int]:
    """A port that accepts connections and never says a word: an SMTP attempt hangs
    there until its timeout, a job in hand for that long."""
    server = socket.create_server((LOOPBACK, 0))
    try:
        yield server.getsockname()[1]
    finally:
        server.close()


async def test_a_job_in_hand_of_a_killed_worker_is_done_after_a_restart(
    committed: Database, settings: Settings, tmp_path: Path
) -> None:
    heartbeat = {"JOB_HEARTBEAT_TIMEOUT_SECONDS": "2"}
    with silent_smtp_server() as silent:
        with worker(settings, tmp_path / "first", silent, **heartbeat) as first:
            await enqueue(committed)
            for _ in range(PATIENCE_SECONDS * 10):
                jobs = await queued(committed)
                if jobs and jobs[0][1] == "picked":
                    break
                await asyncio.sleep(0.1)
            assert [job[1] for job in jobs] == ["picked"]  # in hand, hanging on SMTP
            first.process.send_signal(signal.SIGKILL)
            first.process.wait(timeout=10)
        # Restarted once the job's heartbeat is stale: the new worker's first read of the
        # queue finds it (a read between two of them would wait for the next).
        await asyncio.sleep(float(heartbeat["JOB_HEARTBEAT_TIMEOUT_SECONDS"]))
        # Restarted, now with a server that answers: the job comes back to it.
        with smtp_sink() as sink, worker(settings, tmp_path / "second", sink.port, **heartbeat):
            [received] = await asyncio.to_thread(sink.wait_for, 1, PATIENCE_SECONDS)
    assert received.recipients == ["user@example.com"]
    assert await queued(committed) == []


async def test_two_workers_send_two_hundred_jobs_once_each(
    committed: Database, settings: Settings, tmp_path: Path
) -> None:
    count = 200
    with (
        smtp_sink() as sink,
        worker(settings, tmp_path / "one", sink.port) as one,
        worker(settings, tmp_path / "two", sink.port) as two,
    ):
        # One commit for all: both workers are woken at once and race for the same jobs.
        async with committed.unit_of_work() as session:
            outbox = Outbox(session)
            for number in range(count):
                await outbox.add(SEND_EMAIL, EmailJob(kind="test", to=f"user-{number}@example.com"))
        received = await asyncio.to_thread(sink.wait_for, count, 60)
        await asyncio.sleep(1)  # time for a duplicate, had there been one, to arrive
        received = list(sink.received)
    recipients = [message.recipients[0] for message in received]
    assert len(recipients) == count
    # Both took their share: the queue hands each job to one worker only.
    shares = [
        sum(line.get("message") == "e-mail sent" for line in running.lines())
        for running in (one, two)
    ]
    assert sum(shares) == count
    assert min(shares) > 0, shares
    assert set(recipients) == {f"user-{number}@example.com" for number in range(count)}
    assert await queued(committed) == []
