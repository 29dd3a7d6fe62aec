"""Faults over real sockets, against the service started as deployed (scripts/start.sh).

PostgreSQL and Redis are reached through a TCP relay the test owns
(tests/support/tcp_relay.py): cutting it is the database or cache going away, as far as the
service can tell.
"""

import asyncio
import os
import signal
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support.api_calls import Accounts, api_operations, call_kwargs, log_in, sign_up
from tests.support.databases import (
    ADMIN_DATABASE_URL,
    REDIS_URL,
    create_database,
    database_url,
    drop_database,
    psql,
)
from tests.support.environment import InstalledProject
from tests.support.service_processes import (
    Service,
    random_secret_key,
    start_production,
    stop,
    wait_until_live,
)
from tests.support.tcp_relay import TcpRelay, relay_to

pytestmark = pytest.mark.deep

CONNECT_TIMEOUT = 2  # DB_CONNECT_TIMEOUT of the services here, in seconds
RAISED_LIMIT = "100000/minute"
# The rendered service reuses a readiness answer this long (app/api/health.py).
READINESS_MAX_AGE_SECONDS = 1.0
# Seconds for the service to serve 200s again once its database or Redis is back.
RECOVERY_SECONDS = 10

Install = Callable[[str], InstalledProject]


def relayed_url(url: str, relay: TcpRelay, scheme: str | None = None) -> str:
    """`url` with its host and port replaced by the relay's."""
    parts = urlsplit(url)
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@127.0.0.1:{relay.port}" if userinfo else f"127.0.0.1:{relay.port}"
    return parts._replace(scheme=scheme or parts.scheme, netloc=netloc).geturl()


def target_of(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or {"redis": 6379}.get(parts.scheme, 5432)


@pytest.fixture
def database() -> Iterator[str]:
    name = create_database()
    yield name
    drop_database(name)


def serve(project: InstalledProject, tmp_path: Any, database: str, **settings: str) -> Service:
    service = start_production(
        project,
        tmp_path / "service.log",
        database,
        random_secret_key(),
        DB_CONNECT_TIMEOUT=str(CONNECT_TIMEOUT),
        DOCS_ENABLED="true",  # the tests read the operations from /openapi.json
        RATE_LIMIT_LOGIN=RAISED_LIMIT,
        RATE_LIMIT_SIGNUP=RAISED_LIMIT,
        RATE_LIMIT_REFRESH=RAISED_LIMIT,
        RATE_LIMIT_PASSWORD_CHECK=RAISED_LIMIT,
        RATE_LIMIT_EMAIL_REQUEST=RAISED_LIMIT,
        RATE_LIMIT_EMAIL_PER_ACCOUNT=RAISED_LIMIT,
        RATE_LIMIT_TOKEN=RAISED_LIMIT,
        RATE_LIMIT_SESSIONS=RAISED_LIMIT,
        **settings,
    )
    wait_until_live(service)
    return service


def accounts(client: httpx.Client, database: str) -> Accounts:
    user_email, _ = sign_up(client)
    admin_email, _ = sign_up(client)
    psql(f"UPDATE user_account SET is_superuser = true WHERE email = '{admin_email}'", database)
    _, other_id = sign_up(client)
    user = log_in(client, user_email)
    return Accounts(
        user_token=user["access_token"],
        refresh_token=user["refresh_token"],
        admin_token=log_in(client, admin_email)["access_token"],
        other_user_id=other_id,
    )


async def call_all(service: Service, calls: dict[str, dict[str, Any]]) -> dict[str, httpx.Response]:
    """Every call at once, as clients would keep calling: the answers by operation."""
    async with httpx.AsyncClient(base_url=service.url, timeout=30) as client:

        async def call(operation: str, kwargs: dict[str, Any]) -> httpx.Response:
            method, path = operation.split(" ", 1)
            return await client.request(method, kwargs.pop("url", path), **kwargs)

        answers = await asyncio.gather(*(call(op, dict(kw)) for op, kw in calls.items()))
    return dict(zip(calls, answers, strict=True))


def wait_for_status(client: httpx.Client, path: str, status: int, seconds: float) -> float:
    """Poll `path` until it answers `status`; the seconds it took."""
    started = time.monotonic()
    while (answer := client.get(path).status_code) != status:
        assert time.monotonic() - started < seconds, f"{path} still answers {answer}"
        time.sleep(0.2)
    return time.monotonic() - started


def test_a_database_outage_is_503_and_passes(
    installed_project: Install, database: str, tmp_path: Any
) -> None:
    with relay_to(*target_of(ADMIN_DATABASE_URL)) as relay:
        project = installed_project("default")
        through_relay = relayed_url(database_url(database), relay)
        service = serve(project, tmp_path, database, DATABASE_URL=through_relay)
        try:
            with service.client() as client:
                known = accounts(client, database)
                calls = call_kwargs(known)
                assert sorted(calls) == api_operations(client), "a call per operation"
                pid = service.process.pid

                relay.cut()
                time.sleep(READINESS_MAX_AGE_SECONDS)  # an answer from before the cut expires
                started = time.monotonic()
                readiness = client.get("/health")
                assert readiness.status_code == 503
                assert readiness.json()["database"] == "unreachable"
                assert time.monotonic() - started < CONNECT_TIMEOUT + 1
                started = time.monotonic()
                answers = asyncio.run(call_all(service, calls))
                elapsed = time.monotonic() - started
                for operation, answer in answers.items():
                    assert answer.status_code == 503, (operation, answer.text)
                    assert answer.headers["content-type"] == "application/problem+json"
                    assert int(answer.headers["retry-after"]) > 0, operation
                assert elapsed < 2 * CONNECT_TIMEOUT + 5, f"answers took {elapsed:.1f} s"
                assert client.get("/health/live").status_code == 200
                print(f"outage: {len(answers)} operations answered 503 in {elapsed:.1f} s")

                relay.restore()
                recovered = wait_for_status(client, "/health", 200, RECOVERY_SECONDS)
                me = {"Authorization": f"Bearer {known.user_token}"}
                assert client.get("/api/v1/users/me", headers=me).status_code == 200
                assert (
                    client.get(
                        "/api/v1/users", headers={"Authorization": f"Bearer {known.admin_token}"}
                    ).status_code
                    == 200
                )
                assert service.process.poll() is None and service.process.pid == pid
                print(f"outage: serving again {recovered:.1f} s after the database returned")
        finally:
            stop(service.process)


def test_connections_killed_by_the_server_are_replaced(
    installed_project: Install, database: str, tmp_path: Any
) -> None:
    """A database restart or failover ends every session: the next requests still succeed."""
    service = serve(installed_project("default"), tmp_path, database)
    try:
        with service.client() as client:
            email, _ = sign_up(client)
            tokens = log_in(client, email)
            me = {"Authorization": f"Bearer {tokens['access_token']}"}
            for _ in range(3):
                assert client.get("/api/v1/users/me", headers=me).status_code == 200
            killed = psql(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                f"WHERE datname = '{database}' AND pid <> pg_backend_pid()"
            )
            assert int(killed) >= 1, "the service held no connection to kill"
            statuses = [client.get("/api/v1/users/me", headers=me).status_code for _ in range(20)]
            statuses.append(log_in(client, email) and 200)
            assert statuses == [200] * len(statuses)
            print(f"terminated {int(killed)} server sessions; {len(statuses)} requests, no 5xx")
    finally:
        stop(service.process)


def test_a_redis_outage_is_503_on_limited_routes_only(
    installed_project: Install, database: str, tmp_path: Any
) -> None:
    with relay_to(*target_of(REDIS_URL)) as relay:
        project = installed_project("everything")
        service = serve(
            project,
            tmp_path,
            database,
            RATE_LIMIT_STORE="redis",
            REDIS_URL=relayed_url(REDIS_URL, relay),
            RATE_LIMIT_KEY_PREFIX=f"faults-{os.getpid()}",
        )
        try:
            with service.client() as client:
                known = accounts(client, database)
                calls = call_kwargs(known)
                limited = {
                    "POST /api/v1/auth/token",
                    "POST /api/v1/auth/refresh",
                    "POST /api/v1/auth/logout",
                    "POST /api/v1/users",
                    "PUT /api/v1/users/me/password",
                    "PUT /api/v1/users/me/email",
                    "POST /api/v1/auth/password-reset",
                    "POST /api/v1/auth/password-reset/confirm",
                    "POST /api/v1/auth/verify-email",
                    "POST /api/v1/auth/verify-email/resend",
                    "POST /api/v1/auth/email-change/confirm",
                    "GET /api/v1/users/me/sessions",
                    "DELETE /api/v1/users/me/sessions/{session_id}",
                    "DELETE /api/v1/users/me/sessions",
                }
                relay.cut()
                time.sleep(READINESS_MAX_AGE_SECONDS)  # an answer from before the cut expires
                readiness = client.get("/health")
                # Reported, not fatal: an orchestrator keeps every replica in rotation.
                assert readiness.status_code == 200, readiness.text
                assert readiness.json() == {
                    "status": "degraded",
                    "database": "ok",
                    "redis": "unreachable",
                }
                answers = asyncio.run(call_all(service, calls))
                for operation, answer in answers.items():
                    if operation in limited:
                        assert answer.status_code == 503, (operation, answer.text)
                        assert int(answer.headers["retry-after"]) > 0, operation
                    else:
                        assert answer.status_code < 500, (operation, answer.text)
                relay.restore()
                started = time.monotonic()
                while client.get("/health").json()["redis"] != "ok":
                    assert time.monotonic() - started < RECOVERY_SECONDS, "Redis still unreachable"
                    time.sleep(0.2)
                recovered = time.monotonic() - started
                email, _ = sign_up(client)
                assert log_in(client, email)["access_token"]
                print(
                    f"redis outage: {len(limited)} limited operations 503, "
                    f"{len(answers) - len(limited)} others served; back in {recovered:.1f} s"
                )
        finally:
            stop(service.process)


def test_sigterm_lets_requests_in_flight_finish(
    installed_project: Install, database: str, tmp_path: Any
) -> None:
    """Logins (a bcrypt hash each) are running when SIGTERM comes: they all complete, new
    connections are refused, and the process exits 0 within the graceful timeout."""
    service = serve(installed_project("default"), tmp_path, database)
    port = int(service.url.rsplit(":", 1)[1])
    with service.client() as client:
        email, _ = sign_up(client)
    form = {"username": email, "password": "Fault-test passphrase 9"}

    async def logins_during_sigterm() -> tuple[list[int], bool, float]:
        async with httpx.AsyncClient(base_url=service.url, timeout=30) as client:
            in_flight = [
                asyncio.create_task(client.post("/api/v1/auth/token", data=form)) for _ in range(6)
            ]
            await asyncio.sleep(0.3)  # sent, and hashing
            os.kill(service.process.pid, signal.SIGTERM)  # to start.sh, as docker stop does
            await asyncio.sleep(0.3)
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=2):
                    refused = False
            except ConnectionRefusedError:
                refused = True
            started = time.monotonic()
            answers = await asyncio.gather(*in_flight)
            return [answer.status_code for answer in answers], refused, started

    statuses, refused, signalled = asyncio.run(logins_during_sigterm())
    try:
        exit_code = service.process.wait(timeout=25)
    finally:
        stop(service.process)
    assert statuses == [200] * 6, service.log.read_text()
    assert refused, "a new connection was accepted after SIGTERM"
    assert exit_code == 0, service.log.read_text()
    print(
        f"SIGTERM: 6 logins in flight completed, exit 0 after {time.monotonic() - signalled:.1f} s"
    )
