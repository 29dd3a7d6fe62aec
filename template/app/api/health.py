"""Liveness (the process answers) and readiness (its database answers in time)."""

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.api.dependencies import DatabaseDep, SettingsDep
from app.api.rate_limits import RateLimiterDep
from app.schemas.health import Liveness, Readiness

router = APIRouter(prefix="/health", tags=["health"])


@router.get("/live", response_model=Liveness, summary="The process is up (no I/O)")
async def live() -> Liveness:
    return Liveness()


@router.get(
    "",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "A dependency is unreachable"}},
    summary="The service can reach its database",
)
async def ready(
    database: DatabaseDep,
    settings: SettingsDep,
    limiter: RateLimiterDep,
) -> JSONResponse:
    readiness = Readiness(
        status="ok",
        database="ok" if await database.answers(settings.db_connect_timeout) else "unreachable",
    )
    if limiter.is_remote:
        readiness.redis = "ok" if await limiter.is_reachable() else "unreachable"
    if "unreachable" in (readiness.database, readiness.redis):
        readiness.status = "degraded"
    return JSONResponse(
        readiness.model_dump(exclude_none=True),
        status_code=503 if readiness.status == "degraded" else 200,
    )
