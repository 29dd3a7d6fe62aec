"""The account flows end to end: HTTP requests to an app whose units of work commit, the
real worker process (`python -m app.worker`), and a real SMTP server on loopback; an SMTP
outage and a PostgreSQL cut under the worker."""

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import delete
from sqlalchemy.engine import make_url

from app.core.config import Settings
from app.db.session import Database
from app.jobs.queue import SEND_ACCOUNT_EMAIL
from app.main import create_app
from app.models import User
from app.worker.__main__ import FLUSH_GRACE_SECONDS, STOP_GRACE_SECONDS
from tests.conftest import GENEROUS_LIMIT
from tests.factories import DEFAULT_PASSWORD
from tests.mailbox import token_in
from tests.relay import Relay
from tests.smtp_sink import free_port, smtp_sink
from tests.worker_process import PATIENCE_SECONDS, wait_until, worker

USERS = "/api/v1/users"
TOKEN = "/api/v1/auth/token"
EMAIL = "end-to-end@example.com"
NEW_PASSWORD = "a new and uncommon passphrase"


@pytest.fixture
async def http(committed: Database, settings: Settings) -> AsyncIterator[AsyncClient]:
    """An app of EMAIL_VERIFICATION=required whose requests commit; its account removed."""
    # Limits no test here reaches: with the Redis store, counters outlive one test.
    overrides = {
        "email_verification": "required",
        "rate_limit_email_per_account": GENEROUS_LIMIT,
        "rate_limit_email_request": GENEROUS_LIMIT,
        "rate_limit_token": GENEROUS_LIMIT,
    }
    app = create_app(settings.model_copy(update=overrides), committed)
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client,
    ):
        try:
            yield client
        finally:
            await app.state.rate_limiter.reset()
            async with committed.unit_of_work() as session:
                await session.execute(delete(User).where(User.email == EMAIL))


async def log_in(http: AsyncClient, password: str) -> int:
    response = await http.post(TOKEN, data={"username": EMAIL, "password": password})
    return response.status_code


async def test_sign_up_verify_and_reset_through_the_worker(
    http: AsyncClient, settings: Settings, tmp_path: Path
) -> None:
    with smtp_sink() as sink, worker(settings, tmp_path, sink.port):
        signed_up = await http.post(USERS, json={"email": EMAIL, "password": DEFAULT_PASSWORD})
        assert signed_up.status_code == 202
        assert await log_in(http, DEFAULT_PASSWORD) == 400  # not verified yet
        [verification] = await asyncio.to_thread(sink.wait_for, 1, PATIENCE_SECONDS)
        token = token_in(verification.message)
        assert (
            await http.post("/api/v1/auth/verify-email", json={"token": token})
        ).status_code == 204
        assert await log_in(http, DEFAULT_PASSWORD) == 200

        asked = await http.post("/api/v1/auth/password-reset", json={"email": EMAIL})
        assert asked.status_code == 202
        reset = (await asyncio.to_thread(sink.wait_for, 2, PATIENCE_SECONDS))[1]
        confirm = {"token": token_in(reset.message), "password": NEW_PASSWORD}
        done = await http.post("/api/v1/auth/password-reset/confirm", json=confirm)
        assert done.status_code == 204
        notice = (await asyncio.to_thread(sink.wait_for, 3, PATIENCE_SECONDS))[2]
    assert [message.recipients for message in sink.received] == [[EMAIL]] * 3
    assert "password was changed" in str(notice.message["Subject"])
    assert await log_in(http, DEFAULT_PASSWORD) == 400
    assert await log_in(http, NEW_PASSWORD) == 200


async def test_the_api_answers_at_once_while_smtp_is_down_and_the_mail_follows(
    http: AsyncClient, settings: Settings, tmp_path: Path
) -> None:
    down = free_port()  # nothing listens here until the sink starts
    with worker(settings, tmp_path, down, JOB_RETRY_DELAY_SECONDS="0.2") as running:
        started = time.monotonic()
        signed_up = await http.post(USERS, json={"email": EMAIL, "password": DEFAULT_PASSWORD})
        answered_in = time.monotonic() - started
        assert signed_up.status_code == 202
        await asyncio.to_thread(
            wait_until,
            lambda: running.count("retried", SEND_ACCOUNT_EMAIL) >= 1,
            "a failed attempt, retried",
        )
        with smtp_sink(port=down) as sink:
            [received] = await asyncio.to_thread(sink.wait_for, 1, PATIENCE_SECONDS)
    # The request never waited on SMTP: it answered before the first attempt failed.
    assert answered_in < 2, answered_in
    assert received.recipients == [EMAIL]
    assert token_in(received.message)


async def test_the_worker_survives_a_database_cut_and_resumes(
    http: AsyncClient, settings: Settings, tmp_path: Path
) -> None:
    url = make_url(settings.database_url)
    relay = await Relay(url.host or "127.0.0.1", url.port or 5432).start()
    relayed = url.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False)
    through_relay = settings.model_copy(update={"database_url": relayed})
    # The relay runs in this event loop: the worker's start and stop, which wait, run in
    # threads, so that the loop goes on forwarding meanwhile.
    stack = ExitStack()
    try:
        sink = stack.enter_context(smtp_sink())
        running = await asyncio.to_thread(
            stack.enter_context, worker(through_relay, tmp_path, sink.port)
        )
        with stack:
            signed_up = await http.post(USERS, json={"email": EMAIL, "password": DEFAULT_PASSWORD})
            assert signed_up.status_code == 202
            await asyncio.to_thread(sink.wait_for, 1, PATIENCE_SECONDS)  # at work
            relay.cut()
            # Long enough for the worker's queue reads, and its listener, to fail.
            await asyncio.sleep(6)
            assert running.process.poll() is None, running.log.read_text()
            health = await asyncio.to_thread(httpx.get, f"{running.url}/health", timeout=5)
            assert health.json()["status"] == "ok"
            # A job committed while the worker is cut off waits for it.
            again = await http.post("/api/v1/auth/verify-email/resend", json={"email": EMAIL})
            assert again.status_code == 202
            relay.restore()
            received = (await asyncio.to_thread(sink.wait_for, 2, 60))[1]
            assert running.process.poll() is None
            # Cut off again, with no job in hand: SIGTERM ends it after the flush's grace,
            # not the grace of jobs in hand, which it has none of.
            relay.cut()
            await asyncio.sleep(1)
            stopping = time.monotonic()
            await asyncio.to_thread(stack.close)
            stopped_in = time.monotonic() - stopping
            assert running.process.returncode == 0, running.log.read_text()
            assert stopped_in < (FLUSH_GRACE_SECONDS + STOP_GRACE_SECONDS) / 2, stopped_in
    finally:
        stack.close()
        await relay.close()
    messages = [str(line.get("message")) for line in running.lines()]
    assert any("lost the database" in message for message in messages)
    assert any("did not record its last jobs" in message for message in messages), messages
    assert received.recipients == [EMAIL]
