"""A database that cannot be reached: 503 problems with Retry-After, never a 500 or a hang."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy.engine import make_url

from app.api.health import READINESS_MAX_AGE_SECONDS
from app.core.clock import utc_now
from app.core.config import Settings
from app.core.security import create_access_token
from app.main import create_app
from tests.assertions import assert_problem
from tests.relay import Relay

# Every API route that reads or writes, with a request that is valid but for the database.
CALLS = [
    ("POST", "/api/v1/users", {"json": {"email": "a@example.com", "password": "long enough"}}),
    ("POST", "/api/v1/auth/token", {"data": {"username": "a@example.com", "password": "x"}}),
    ("POST", "/api/v1/auth/refresh", {"json": {"refresh_token": "some-token"}}),
    ("POST", "/api/v1/auth/logout", {"json": {"refresh_token": "some-token"}}),
    ("GET", "/api/v1/users/me", {}),
    ("PATCH", "/api/v1/users/me", {"json": {"full_name": "Ada"}}),
    ("GET", "/api/v1/users", {}),
    ("GET", f"/api/v1/users/{uuid.uuid4()}", {}),
]


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[AsyncClient]:
    """An app whose database is down: port 1 on loopback refuses every connection."""
    unreachable = settings.model_copy(
        update={"database_url": "postgresql+asyncpg://postgres@127.0.0.1:1/none"}
    )
    app = create_app(unreachable)
    token = create_access_token(uuid.uuid4(), uuid.uuid4(), settings, utc_now())
    async with (
        app.router.lifespan_context(app),
        AsyncClient(
            transport=ASGITransport(app=app),
            base_url="http://test",
            headers={"Authorization": f"Bearer {token}"},
        ) as client,
    ):
        yield client


@pytest.mark.parametrize(("method", "path", "request_body"), CALLS)
async def test_api_routes_answer_503_with_retry_after(
    client: AsyncClient, method: str, path: str, request_body: dict[str, object]
) -> None:
    response = await client.request(method, path, **request_body)  # type: ignore[arg-type]
    body = assert_problem(response, 503)
    assert int(response.headers["retry-after"]) > 0
    assert body["detail"] == "The database is unreachable right now; try again shortly."


async def test_liveness_stays_200(client: AsyncClient) -> None:
    assert (await client.get("/health/live")).status_code == 200


async def test_an_outage_answers_503_in_time_and_then_passes(settings: Settings) -> None:
    """PostgreSQL behind a relay that is cut, then restored: readiness answers 503 within
    DB_CONNECT_TIMEOUT and a second, the API answers 503 problems without hanging, liveness
    stays 200, and the same app serves again once the database is back."""
    if settings.is_sqlite:
        pytest.skip("PostgreSQL only: a SQLite file cannot become unreachable")
    url = make_url(settings.database_url)
    relay = await Relay(url.host or "127.0.0.1", url.port or 5432).start()
    relayed = url.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False)
    timeout = 1.0
    app = create_app(
        settings.model_copy(update={"database_url": relayed, "db_connect_timeout": timeout})
    )
    # A user never stored: 401.
    token = create_access_token(uuid.uuid4(), uuid.uuid4(), settings, utc_now())
    bearer = {"Authorization": f"Bearer {token}"}
    try:
        async with (
            app.router.lifespan_context(app),
            AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client,
        ):
            assert (await client.get("/health")).status_code == 200
            assert (await client.get("/api/v1/users/me", headers=bearer)).status_code == 401

            relay.cut()
            await asyncio.sleep(READINESS_MAX_AGE_SECONDS)  # the answer before the cut expires
            started = time.monotonic()
            assert (await client.get("/health")).status_code == 503
            assert time.monotonic() - started < timeout + 1
            started = time.monotonic()
            me = await client.get("/api/v1/users/me", headers=bearer)
            assert me.status_code == 503, me.text
            assert int(me.headers["retry-after"]) > 0
            assert time.monotonic() - started < 2 * timeout + 1
            assert (await client.get("/health/live")).status_code == 200

            relay.restore()
            for _ in range(50):
                if (await client.get("/health")).status_code == 200:
                    break
                await asyncio.sleep(0.1)
            else:
                pytest.fail("readiness still 503 five seconds after the database returned")
            assert (await client.get("/api/v1/users/me", headers=bearer)).status_code == 401
    finally:
        await relay.close()
