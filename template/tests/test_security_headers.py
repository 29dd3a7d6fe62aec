"""Security headers on every response, errors included; HSTS outside development only."""

import pytest
from httpx import ASGITransport, AsyncClient

from app.core.config import Settings
from app.db.session import Database
from app.main import create_app
from tests.conftest import PRODUCTION_READY

# Each test counts to a per-minute limit (tests/conftest.py says why).
pytestmark = pytest.mark.usefixtures("one_minute_window")

TOKEN = "/api/v1/auth/token"
WRONG_LOGIN = {"username": "nobody@example.com", "password": "not the password"}
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
HSTS = "max-age=63072000; includeSubDomains"


@pytest.mark.parametrize("env", ["dev", "staging"])
async def test_every_answer_carries_the_security_headers(
    settings: Settings, database: Database, env: str
) -> None:
    """200, 404, 405, 422, a failed login's 400, 429 and 500 alike; Strict-Transport-Security
    everywhere but in development, where it would pin a developer's localhost to HTTPS."""
    strict = {} if env == "dev" else PRODUCTION_READY
    values = settings.model_dump() | {"env": env, "rate_limit_login": "1/minute", **strict}
    app = create_app(Settings(_env_file=None, **values), database)

    async def boom() -> None:
        raise RuntimeError("the route failed")

    app.add_api_route("/boom", boom)
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client,
    ):
        responses = [
            await client.get("/health/live"),
            await client.get("/no/such/page"),
            await client.put("/api/v1/users/me"),
            await client.post("/api/v1/users", json={"email": "not-an-email"}),
            await client.post(TOKEN, data=WRONG_LOGIN),
            await client.post(TOKEN, data=WRONG_LOGIN),
            await client.get("/boom"),
        ]
        await app.state.rate_limiter.reset()
    statuses = [response.status_code for response in responses]
    assert statuses == [200, 404, 405, 422, 400, 429, 500]
    for response in responses:
        for name, value in SECURITY_HEADERS.items():
            assert response.headers[name] == value, (response.status_code, name)
        assert response.headers.get("strict-transport-security") == (None if env == "dev" else HSTS)
