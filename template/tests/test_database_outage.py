"""A database that cannot be reached: 503 problems with Retry-After, never a 500 or a hang."""

import uuid
from collections.abc import AsyncIterator

import pytest
from httpx import ASGITransport, AsyncClient

from app.core.config import Settings
from app.core.security import create_access_token
from app.db.types import utc_now
from app.main import create_app

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
    token = create_access_token(uuid.uuid4(), settings, utc_now())
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
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) > 0
    assert response.json()["detail"] == "The database is unreachable right now; try again shortly."


async def test_liveness_stays_200(client: AsyncClient) -> None:
    assert (await client.get("/health/live")).status_code == 200
