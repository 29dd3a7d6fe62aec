"""Liveness (the process answers) and readiness (its database answers in time)."""

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.api.dependencies import DatabaseDep, SettingsDep
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
async def ready(database: DatabaseDep, settings: SettingsDep) -> JSONResponse:
    try:
        async with asyncio.timeout(settings.db_connect_timeout):
            async with database.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    except Exception:  # any failure to answer in time means "not ready"
        body = Readiness(status="degraded", database="unreachable")
        return JSONResponse(body.model_dump(), status_code=503)
    return JSONResponse(Readiness(status="ok", database="ok").model_dump())
