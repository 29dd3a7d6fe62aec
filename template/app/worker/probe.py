"""The worker's own HTTP server on WORKER_PORT: /health for its platform, /metrics for
Prometheus. It answers from the worker's event loop, so a stuck loop fails the probe."""

import contextlib
from collections.abc import Iterator

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.api.prometheus import presents_token
from app.core.config import Settings
from app.worker.metrics import WorkerMetrics
from app.worker.runner import Worker


def probe_app(settings: Settings, worker: Worker, metrics: WorkerMetrics) -> Starlette:
    async def health(request: Request) -> JSONResponse:
        # 200 while the loop answers: a PostgreSQL outage is waited out, not a reason to
        # restart the worker; the body says whether the queue was read lately.
        reachable = worker.queue_reachable()
        return JSONResponse({"status": "ok", "queue": "reachable" if reachable else "unreachable"})

    async def scrape(request: Request) -> Response:
        token = settings.metrics_token
        if token is not None and not presents_token(request.headers.get("authorization"), token):
            return Response(status_code=401)
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    return Starlette(routes=[Route("/health", health), Route("/metrics", scrape)])


class ProbeServer(uvicorn.Server):
    """uvicorn serving the probe app inside the worker's own event loop. The worker
    handles SIGTERM and SIGINT itself (it finishes its jobs first): uvicorn takes none."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield
