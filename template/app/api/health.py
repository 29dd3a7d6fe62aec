"""Liveness (the process answers) and readiness (its database answers in time)."""

import asyncio
import time
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from app.core.http_metrics import HttpMetrics
from app.core.rate_limiter import RateLimiter
from app.db.session import Database
from app.schemas.health import Liveness, Readiness

# A readiness answer is reused for this long: /health is reachable by the orchestrator
# and by anything else that reaches the pods, and each check takes a database connection.
# A flood of /health costs one check a second per process.
READINESS_MAX_AGE_SECONDS = 1.0


class ReadinessCheck:
    """The state of the service's dependencies, checked at most once per
    READINESS_MAX_AGE_SECONDS; requests that arrive meanwhile share the answer."""

    def __init__(
        self,
        database: Database,
        limiter: RateLimiter,
        timeout: float,
        metrics: HttpMetrics | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.database = database
        self.limiter = limiter
        self.timeout = timeout
        self.metrics = metrics
        self.clock = clock
        self._lock = asyncio.Lock()
        self._answer: Readiness | None = None
        self._answered_at = 0.0

    async def readiness(self) -> Readiness:
        async with self._lock:
            if (
                self._answer is None
                or self.clock() - self._answered_at >= READINESS_MAX_AGE_SECONDS
            ):
                self._answer = await self._check()
                self._answered_at = self.clock()
            return self._answer

    async def _check(self) -> Readiness:
        states = {"database": await self.database.answers(self.timeout)}
        if self.limiter.is_remote:
            states["redis"] = await self.limiter.is_reachable()
        if self.metrics is not None:
            for dependency, up in states.items():
                self.metrics.dependency(dependency).set(1 if up else 0)
        return Readiness(
            status="ok" if all(states.values()) else "degraded",
            **{name: "ok" if up else "unreachable" for name, up in states.items()},
        )


async def get_readiness_check(request: Request) -> ReadinessCheck:
    check: ReadinessCheck = request.app.state.readiness
    return check


router = APIRouter(prefix="/health", tags=["health"])


@router.get("/live", response_model=Liveness, summary="The process is up (no I/O)")
async def live() -> Liveness:
    return Liveness()


@router.get(
    "",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "The database is unreachable"}},
    summary="The service can reach its database (Redis's state is reported, not required)",
)
async def ready(check: Annotated[ReadinessCheck, Depends(get_readiness_check)]) -> JSONResponse:
    """503 only when the database is unreachable: without it nothing works. Redis down
    stops the rate-limited routes alone (503 problems), so it is reported, in the body and
    in `service_dependency_up`, but does not take the service out of rotation: on
    Kubernetes every pod would fail readiness at once and the whole API would go dark."""
    readiness = await check.readiness()
    return JSONResponse(
        readiness.model_dump(exclude_none=True),
        status_code=503 if readiness.database == "unreachable" else 200,
    )
