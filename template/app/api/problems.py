"""The problem+json contract (RFC 9457): the body of every error, the handlers that answer
it, and the OpenAPI declarations that promise it.

A route declares the problems of its own logic (`responses=declared_problems(404, 409)`);
the problems that come with a dependency are declared once, where the dependency is
(`@declares(401)`), and app/api/openapi.py adds them to every route that uses it.
"""

from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any, Literal, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.context import request_id_var
from app.core.exceptions import AppError

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_SCHEMA = "Problem"
OAUTH_PROBLEM_SCHEMA = "OAuthProblem"
VALIDATION_DETAIL = "The request is not valid."


class Problem(BaseModel):
    """An RFC 9457 problem detail: the one body of every error response."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    request_id: str | None = None
    errors: list[dict[str, Any]] | None = Field(
        default=None, description="Validation errors, each with loc, msg and type"
    )


OAuthErrorCode = Literal["invalid_request", "invalid_grant", "unsupported_grant_type"]


class OAuthProblem(Problem):
    """A problem that OAuth2 clients can read too: the token endpoint's errors (RFC 6749 5.2)."""

    error: OAuthErrorCode
    error_description: str


# Answering.


def problem_response(
    status: int,
    detail: str,
    *,
    headers: Mapping[str, str] | None = None,
    errors: list[dict[str, Any]] | None = None,
    members: Mapping[str, Any] | None = None,
) -> JSONResponse:
    """The error response itself: a problem body with the request's id."""
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


def register_problem_handlers(app: FastAPI) -> None:
    """Every error, whoever raises it, answers a problem."""
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)


# Declaring, in the OpenAPI document.

# A typical detail for each status, shown in the document's examples.
EXAMPLE_DETAILS = {
    400: "There was an error parsing the body",
    401: "Not authenticated.",
    403: "Only superusers may do this.",
    404: "No user with this id.",
    409: "A user with this e-mail address already exists.",
    413: "The request body is larger than 1048576 bytes.",
    422: VALIDATION_DETAIL,
    429: "Too many requests; retry later.",
    500: "An unexpected error occurred.",
    503: "The database is unreachable right now; try again shortly.",
}
EXAMPLE_REQUEST_ID = "0b5e2ac4-6a47-4a4f-9a51-4bb3d1a2c0de"
EXAMPLE_VALIDATION_ERRORS = [
    {
        "loc": ["body", "email"],
        "msg": "value is not a valid email address: An email address must have an @-sign.",
        "type": "value_error",
    }
]


def problem_example(status: int, detail: str | None = None) -> dict[str, Any]:
    example: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail or EXAMPLE_DETAILS.get(status, HTTPStatus(status).description),
        "request_id": EXAMPLE_REQUEST_ID,
    }
    if status == 422:
        example["errors"] = EXAMPLE_VALIDATION_ERRORS
    return example


def declared_problem(
    status: int, *, schema: str = PROBLEM_SCHEMA, example: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One `responses=` entry: the status as a problem+json body, with an example."""
    return {
        "description": HTTPStatus(status).phrase,
        "content": {
            PROBLEM_MEDIA_TYPE: {
                "schema": {"$ref": f"#/components/schemas/{schema}"},
                "example": example or problem_example(status),
            }
        },
    }


def declared_problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries declaring each status as a problem+json body."""
    return {status: declared_problem(status) for status in statuses}


DependencyT = TypeVar("DependencyT", bound=Callable[..., Any])
_DEPENDENCY_PROBLEMS: dict[Callable[..., Any], frozenset[int]] = {}


def declares(*statuses: int) -> Callable[[DependencyT], DependencyT]:
    """Record that a dependency can answer these statuses, for every route that uses it."""

    def register(dependency: DependencyT) -> DependencyT:
        _DEPENDENCY_PROBLEMS[dependency] = frozenset(statuses)
        return dependency

    return register


def problems_of(dependency: Callable[..., Any] | None) -> frozenset[int]:
    return _DEPENDENCY_PROBLEMS.get(dependency, frozenset()) if dependency else frozenset()
