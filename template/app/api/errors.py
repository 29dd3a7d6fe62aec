"""One handler per error family, all answering the same problem+json body."""

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.api.responses import PROBLEM_MEDIA_TYPE
from app.core.context import request_id_var
from app.core.exceptions import AppError
from app.schemas.problem import Problem


def problem_response(
    status: int,
    detail: str,
    *,
    headers: Mapping[str, str] | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> JSONResponse:
    problem = Problem(
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        request_id=request_id_var.get(),
        errors=errors,
    )
    return JSONResponse(
        problem.model_dump(exclude_none=True),
        status_code=status,
        headers=headers,
        media_type=PROBLEM_MEDIA_TYPE,
    )


def _headers_for(request: Request, headers: Mapping[str, str] | None) -> dict[str, str]:
    """The error's own headers, plus the rate-limit budget when the route has one."""
    return {**getattr(request.state, "rate_limit_headers", {}), **(headers or {})}


async def _app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)  # noqa: S101 - registered for AppError only
    return problem_response(exc.status, exc.detail, headers=_headers_for(request, exc.headers))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101 - registered for it only
    return problem_response(
        exc.status_code, str(exc.detail), headers=_headers_for(request, exc.headers)
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # noqa: S101 - registered for it only
    # The offending input is not echoed back: it may be a password.
    errors = [
        {"loc": list(error["loc"]), "msg": error["msg"], "type": error["type"]}
        for error in exc.errors()
    ]
    headers = _headers_for(request, None)
    return problem_response(422, "The request is not valid.", headers=headers, errors=errors)


def register_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
