"""CORS answers the configured origins only, with credentials."""

import pytest
from httpx import AsyncClient
from pydantic import ValidationError

from app.core import answers
from app.core.config import Settings
from tests.assertions import assert_problem


def preflight_headers(origin: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Authorization, Content-Type",
    }


async def test_the_rendered_origins_are_the_default(settings: Settings) -> None:
    assert settings.cors_origins == tuple(answers.CORS_ORIGINS)


async def test_only_the_configured_origins_pass_with_credentials(
    client: AsyncClient, settings: Settings
) -> None:
    """Each configured origin passes a real preflight, with credentials; any other is refused
    with a problem; "*" is refused at start-up (and by the template when rendering)."""
    for origin in settings.cors_origins:
        response = await client.options("/api/v1/users", headers=preflight_headers(origin))
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == origin
        assert response.headers["access-control-allow-credentials"] == "true"
    refused = await client.options(
        "/api/v1/users", headers=preflight_headers("https://evil.example.net")
    )
    assert_problem(refused, 400)
    assert "access-control-allow-origin" not in refused.headers
    with pytest.raises(ValidationError, match="not allowed"):
        Settings(_env_file=None, **(settings.model_dump() | {"cors_origins": ("*",)}))


async def test_every_answer_varies_by_origin(client: AsyncClient, settings: Settings) -> None:
    """A shared cache must not hand a browser's answer to another origin, or to a request
    that sent none: each answer says it varies by Origin, with or without one."""
    plain = await client.get("/health/live")
    assert plain.headers["vary"] == "Origin"
    assert not any(name.startswith("access-control-") for name in plain.headers)
    origin = settings.cors_origins[0]
    browser = await client.get("/health/live", headers={"Origin": origin})
    assert "Origin" in browser.headers["vary"]
    assert browser.headers["access-control-allow-origin"] == origin
