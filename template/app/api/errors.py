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

VALIDATION_DETAIL = "The request is not valid."


def problem_response(
    status: int,
    detail: str,
    *,
    headers: Mapping[str, str] | None = None,
    errors: list[dict[str, Any]] | None = None,
    members: Mapping[str, Any] | None = None,
) -> JSONResponse:
    problem = Problem(
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        request_id=request_id_var.get(),
        errors=errors,
    )
    return JSONResponse(
        {**problem.model_dump(exclude_none=True), **(members or {})},
        status_code=status,
        headers=headers,
        media_type=PROBLEM_MEDIA_TYPE,
    )


def validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Where and why the request is invalid; the offending input is not echoed back: it
    may be a password."""
    return [
        {"loc": list(error["loc"]), "msg": error["msg"], "type": error["type"]}
        for error in exc.errors()
    ]


def _headers_for(request: Request, headers: Mapping[str, str] | None) -> dict[str, str]:
    """The error's own headers, plus the rate-limit budget when the route has one."""
    return {**getattr(request.state, "rate_limit_headers", {}), **(headers or {})}


async def _app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)  # noqa: S101 - registered for AppError only
    headers = _headers_for(request, exc.headers)
    return problem_response(exc.status, exc.detail, headers=headers, members=exc.members())


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101 - registered for it only
    headers = _headers_for(request, exc.headers)
    if exc.status_code == HTTPStatus.METHOD_NOT_ALLOWED:
        # The router names only the methods of the first route matching the path; the
        # path may have others, in other routes (GET and POST /users are two routes).
        headers["Allow"] = ", ".join(request.app.state.route_table.allowed_methods(request.scope))
    return problem_response(exc.status_code, str(exc.detail), headers=headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # noqa: S101 - registered for it only
    errors = validation_errors(exc)
    headers = _headers_for(request, None)
    return problem_response(422, VALIDATION_DETAIL, headers=headers, errors=errors)


def register_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
