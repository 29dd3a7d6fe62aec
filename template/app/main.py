"""Assembles the application: settings, database, middleware, handlers and routes.

Served as a factory (`uvicorn --factory app.main:create_app`), so importing this
module reads no settings and opens no connection.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app.api import health
from app.api.errors import register_error_handlers
from app.api.middleware import REQUEST_ID_HEADER, RequestContextMiddleware
from app.api.responses import problem_responses
from app.api.v1.router import api_router
from app.core import defaults
from app.core.config import Settings, get_settings
from app.core.logging import configure_logging
from app.db.session import Database


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    """Build the app; tests pass their own settings and database instead of the environment's."""
    settings = settings or get_settings()
    configure_logging(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = database is None
        app.state.database = database or Database.from_settings(settings)
        try:
            yield
        finally:
            if owned:
                await app.state.database.engine.dispose()

    app = FastAPI(
        title=settings.project_name,
        description=defaults.PROJECT_DESCRIPTION,
        debug=settings.debug,
        lifespan=lifespan,
        responses=problem_responses(500),
    )
    app.state.settings = settings
    register_error_handlers(app)

    # Middleware runs outermost-last-added: the request context wraps everything,
    # so even an error inside CORS handling answers a problem with a request id.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(settings.cors_origins),
        allow_credentials=True,
        allow_methods=["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", REQUEST_ID_HEADER],
        expose_headers=[REQUEST_ID_HEADER],
    )
    app.add_middleware(RequestContextMiddleware)

    app.include_router(health.router)
    app.include_router(api_router)
    return app
