"""CORS answers the configured origins only, with credentials."""

from httpx import AsyncClient

from app.core import defaults
from app.core.config import Settings


def preflight_headers(origin: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Authorization, Content-Type",
    }


async def test_the_rendered_origins_are_the_default(settings: Settings) -> None:
    assert settings.cors_origins == defaults.CORS_ORIGINS


async def test_a_configured_origin_passes_the_preflight(
    client: AsyncClient, settings: Settings
) -> None:
    for origin in settings.cors_origins:
        response = await client.options("/api/v1/users", headers=preflight_headers(origin))
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == origin
        assert response.headers["access-control-allow-credentials"] == "true"


async def test_another_origin_is_refused(client: AsyncClient) -> None:
    response = await client.options(
        "/api/v1/users", headers=preflight_headers("https://evil.example.net")
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["request_id"] == response.headers["x-request-id"]
    assert "access-control-allow-origin" not in response.headers
