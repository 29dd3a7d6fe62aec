"""Assembles the application: settings, database, middleware, handlers and routes.

Served as a factory (`uvicorn --factory app.main:create_app`), so importing this
module reads no settings and opens no connection.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.api import health, prometheus
from app.api.docs import install_docs
from app.api.health import ReadinessCheck
from app.api.middleware import install_middleware
from app.api.openapi import install_openapi
from app.api.problems import register_problem_handlers
from app.api.route_table import RouteTable
from app.api.v1.router import api_router
from app.core import answers, garbage
from app.core.config import Settings, get_settings
from app.core.http_metrics import HttpMetrics
from app.core.logging import configure_logging
from app.db.session import Database
from app.jobs.handlers import Handlers
from app.mail.delivery import mailer


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    """Build the app; tests pass their own settings and database instead of the environment's."""
    settings = settings or get_settings()
    configure_logging(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = database is None
        app.state.database = database or Database.from_settings(settings)
        open_store = answers.RATE_LIMIT_STORES[settings.rate_limit_store]
        app.state.rate_limiter = open_store(settings.redis_url, settings.rate_limit_key_prefix)
        app.state.readiness = ReadinessCheck(
            app.state.database,
            app.state.rate_limiter,
            settings.db_connect_timeout,
            app.state.metrics,
        )
        if settings.is_sqlite:  # no queue: jobs run in the request (app/jobs/in_process.py)
            app.state.handlers = Handlers(settings, app.state.database, mailer(settings))
        if owned:  # the server's app, not a test's (tests bring their database)
            garbage.settle()
        try:
            yield
        finally:
            await app.state.rate_limiter.close()
            if owned:
                await app.state.database.engine.dispose()

    app = FastAPI(
        title=settings.project_name,
        description=answers.PROJECT_DESCRIPTION,
        debug=settings.debug,
        lifespan=lifespan,
        # The docs pages are our own (app/api/docs.py); the document goes with them.
        openapi_url="/openapi.json" if settings.serves_docs else None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.metrics = HttpMetrics() if settings.metrics_enabled else None
    app.state.route_table = RouteTable(app.router)
    register_problem_handlers(app)
    install_middleware(app, settings)

    app.include_router(health.router)
    if settings.metrics_enabled:
        app.include_router(prometheus.router)
    app.include_router(api_router)
    if settings.serves_docs:
        install_docs(app)
    install_openapi(app)
    for instrument in answers.INSTRUMENTATIONS:  # tracing, in a project rendered with it
        instrument(app)
    return app
