"""Log lines: security events, the request's id and user, and never a secret."""

import asyncio
import io
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from app.api.dependencies import CurrentUser
from app.core.config import Settings
from app.core.context import user_id_var
from app.core.logging import BatchedStreamHandler, ConsoleFormatter, logging_config
from app.db.session import Database
from app.main import create_app
from tests.assertions import assert_problem
from tests.factories import UserFactory
from tests.observability import captured_logs, metric_series, series
from tests.processes import run_module

TOKEN = "/api/v1/auth/token"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"


def json_app(settings: Settings, database: Database) -> FastAPI:
    return create_app(settings.model_copy(update={"log_format": "json"}), database)


async def test_an_unhandled_error_is_answered_measured_and_logged(
    settings: Settings, database: Database, users: UserFactory
) -> None:
    app = json_app(settings, database)

    async def boom(_user: CurrentUser) -> None:
        raise RuntimeError("the route failed")

    app.add_api_route("/boom", boom)
    account = await users.account()
    user, bearer = account.user, account.headers
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client,
    ):
        with captured_logs() as logs:
            response = await client.get("/boom", headers=bearer)
        exposition = (await client.get("/metrics")).text

    assert_problem(response, 500)
    request_id = response.headers["x-request-id"]
    assert "the route failed" not in response.text
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    labels = {"method": "GET", "route": "/boom", "status_code": "500"}
    assert metric_series(exposition)[series("http_request_duration_seconds_count", **labels)] == 1
    [line] = [line for line in logs.lines if line["message"] == "unhandled error"]
    assert line["level"] == "ERROR"
    assert (line["request_id"], line["user_id"]) == (request_id, str(user.id))
    assert "RuntimeError: the route failed" in line["exc_info"]
    assert user_id_var.get() is None  # the request's user did not outlive the request


@asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[AsyncClient]:
    """A client of the app served by uvicorn: its access log lines are the requests' own."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, lifespan="off")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            serving.result()  # raises what stopped the server from starting
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        async with AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            yield client
    finally:
        server.should_exit = True
        await serving


async def test_logs_name_events_never_secrets_and_only_safe_request_ids(
    settings: Settings, database: Database
) -> None:
    """An auth flow's log lines: its events and users, never a password, token, hash,
    Authorization header or query string; an incoming X-Request-ID is kept only when short
    and safe."""
    email, password = "flow@example.com", "a long and secret passphrase"
    app = json_app(settings, database)
    async with app.router.lifespan_context(app), served(app) as client:
        with captured_logs() as logs:
            body = {"email": email, "password": password}
            user_id = (await client.post("/api/v1/users", json=body)).json()["id"]
            form = {"username": email, "password": password}
            login = (await client.post(TOKEN, data=form)).json()
            wrong = {"username": email, "password": f"not {password}"}
            assert (await client.post(TOKEN, data=wrong)).status_code == 400
            unknown = {"username": "nobody@example.com", "password": password}
            assert (await client.post(TOKEN, data=unknown)).status_code == 400
            bearer = {"Authorization": f"Bearer {login['access_token']}"}
            assert (await client.get("/api/v1/users/me", headers=bearer)).status_code == 200
            first_refresh = {"refresh_token": login["refresh_token"]}
            rotated = (await client.post(REFRESH, json=first_refresh)).json()
            assert (await client.post(REFRESH, json=first_refresh)).status_code == 401
            logout = {"refresh_token": rotated["refresh_token"]}
            assert (await client.post(LOGOUT, json=logout)).status_code == 204
            query = "?access_token=query-token-secret&password=query-password-secret"
            assert (await client.get(f"/health/live{query}")).status_code == 200
            kept = await client.get("/health/live", headers={"X-Request-ID": "trace-123"})
            unsafe = "x" * 40 + " level=CRITICAL forged"
            replaced = await client.get("/health/live", headers={"X-Request-ID": unsafe})
        await app.state.rate_limiter.reset()  # as the app fixtures do: no test sees another's

    tokens = [pair[kind] for pair in (login, rotated) for kind in ("access_token", "refresh_token")]
    for secret in [password, "$2b$", "Authorization", "Bearer", *tokens]:
        assert secret not in logs.text, secret
    # The test's own client (httpx) logs the URLs it requests; the service's lines may not.
    service_lines = [str(line) for line in logs.lines if line["logger"] != "httpx"]
    assert not [line for line in service_lines if "query-" in line or "?" in line]
    events = {(line["message"], line.get("reason"), line["user_id"]) for line in logs.lines}
    assert ("login succeeded", None, user_id) in events
    assert ("login failed", "bad_password", user_id) in events
    assert ("login failed", "unknown_email", None) in events
    assert ("refresh token reuse detected; family revoked", None, user_id) in events
    # The server's access line of the authenticated request names the user, and only that one.
    access = [line for line in logs.lines if line["logger"] == "uvicorn.access"]
    named = [line["message"] for line in access if line["user_id"] == user_id]
    assert len(access) == 11
    assert '"GET /health/live HTTP/1.1" 200' in access[-3]["message"]  # the query string cut
    assert len(named) == 1
    assert "GET /api/v1/users/me" in named[0]
    assert all(line["request_id"] for line in access)
    assert kept.headers["x-request-id"] == "trace-123"
    assert access[-2]["request_id"] == "trace-123"
    assert replaced.headers["x-request-id"] != unsafe
    assert access[-1]["request_id"] == replaced.headers["x-request-id"]
    assert "forged" not in logs.text


def test_console_lines_in_development_json_elsewhere(settings: Settings) -> None:
    def formatter(**changes: str) -> str:
        handler = logging_config(settings.model_copy(update=changes))["handlers"]["stdout"]
        formatter_name: str = handler["formatter"]
        return formatter_name

    assert formatter(env="dev") == "console"
    assert formatter(env="staging") == "json"
    assert formatter(env="production") == "json"
    assert formatter(env="dev", log_format="json") == "json"
    assert formatter(env="production", log_format="console") == "console"


def test_console_lines_show_the_extra_fields() -> None:
    record = logging.makeLogRecord(
        {"msg": "login failed", "levelname": "WARNING", "name": "app", "request_id": "abc"}
    )
    record.reason = "bad_password"
    record.user_id = None
    line = ConsoleFormatter().format(record)
    assert line.endswith("WARNING app [abc] login failed reason=bad_password")


def test_log_lines_are_written_in_batches_and_warnings_at_once() -> None:
    stream = io.StringIO()
    handler = BatchedStreamHandler(stream)
    logger = logging.getLogger("tests.batched")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.info("first")
        logger.info("second")
        assert stream.getvalue() == ""  # waiting for the next batch
        logger.warning("trouble")
        assert stream.getvalue() == "first\nsecond\ntrouble\n"  # at once, in order
        logger.info("third")
        deadline = time.monotonic() + 10 * BatchedStreamHandler.FLUSH_SECONDS
        while "third" not in stream.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert stream.getvalue().endswith("third\n")  # the batch went out by itself
        logger.info("last")
    finally:
        logger.removeHandler(handler)
        handler.close()
    assert stream.getvalue().endswith("third\nlast\n")  # closing writes what waits


# A run of one test that logs, with a session fixture that logs as it ends (as the suite's
# SMTP server does), in a session that then takes a while to finish (as the suite's does):
# long enough for the log handler's next flush.
LOGGING_CONFTEST = """
import logging
import time

import pytest

from app.core.logging import BatchedStreamHandler
from tests.log_lines import pytest_runtest_teardown


@pytest.fixture(scope="session", autouse=True)
def a_server():
    yield
    logging.getLogger("app").info("the session's last line")


def pytest_sessionfinish():
    time.sleep(3 * BatchedStreamHandler.FLUSH_SECONDS)
"""
LOGGING_TEST = """
import logging

from app.core.config import Settings
from app.core.logging import configure_logging


def test_that_logs():
    configure_logging(Settings(_env_file=None))
    logging.getLogger("app").info("the test's last line")
"""


def test_a_test_s_log_lines_do_not_follow_pytest_s_summary(
    settings: Settings, tmp_path: Path
) -> None:
    """A test run ends with its summary: the last lines of the last test stay with it."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "conftest.py").write_text(LOGGING_CONFTEST)
    (tmp_path / "test_logs.py").write_text(LOGGING_TEST)
    # Only pytest itself: the suite's plugins (asyncio, schemathesis) are not needed here.
    quiet = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    result = run_module(settings, "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path), **quiet)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "last line" not in result.stdout
    assert "1 passed" in result.stdout.strip().splitlines()[-1]
