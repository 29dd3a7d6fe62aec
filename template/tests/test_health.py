import asyncio

from httpx import ASGITransport, AsyncClient
from limits.aio.storage import MemoryStorage
from sqlalchemy import event

from app.api.health import READINESS_MAX_AGE_SECONDS, ReadinessCheck
from app.core.config import Settings
from app.core.rate_limiter import RateLimiter
from app.db.session import Database
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


async def test_readiness_is_checked_at_most_once_a_second(
    database: Database, settings: Settings
) -> None:
    """A flood of /health costs one database check a second per process: requests within
    the second, or waiting on the check in flight, share its answer."""
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    now = [1000.0]
    check = ReadinessCheck(
        database, RateLimiter(MemoryStorage()), settings.db_connect_timeout, None, lambda: now[0]
    )
    event.listen(database.engine.sync_engine, "before_cursor_execute", count)
    try:
        answers = await asyncio.gather(*(check.readiness() for _ in range(20)))
        now[0] += READINESS_MAX_AGE_SECONDS / 2
        await check.readiness()
        checks_in_the_first_second = statements.count("SELECT 1")
        now[0] += READINESS_MAX_AGE_SECONDS / 2
        await check.readiness()
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", count)
    assert {answer.database for answer in answers} == {"ok"}
    assert checks_in_the_first_second == 1
    assert statements.count("SELECT 1") == 2


async def test_readiness_is_a_metric_too(client: AsyncClient) -> None:
    assert (await client.get("/health")).status_code == 200
    exposition = (await client.get("/metrics")).text
    assert 'service_dependency_up{dependency="database"} 1.0' in exposition
