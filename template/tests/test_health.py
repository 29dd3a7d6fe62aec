from httpx import ASGITransport, AsyncClient

from app.core.config import Settings
from app.main import create_app


async def test_liveness_needs_no_database(client: AsyncClient) -> None:
    response = await client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readiness_reports_the_database(client: AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["database"] == "ok"


async def test_readiness_is_503_when_the_database_is_unreachable(settings: Settings) -> None:
    # Port 1 on loopback refuses connections at once: a database that is down.
    unreachable = settings.model_copy(
        update={
            "database_url": "postgresql+asyncpg://postgres@127.0.0.1:1/none",
            "db_connect_timeout": 2,
        }
    )
    app = create_app(unreachable)
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client,
    ):
        response = await client.get("/health")
    assert response.status_code == 503
    assert response.json()["status"] == "degraded"
    assert response.json()["database"] == "unreachable"
