"""OpenAPI declarations of the problem responses a route can answer.

A route declares the problems of its own logic (`responses=problem_responses(404, 409)`);
the problems that come with a dependency are declared once, where the dependency is
(`@declares(401)`), and app/api/openapi.py adds them to every route that uses it.
"""

from collections.abc import Callable
from http import HTTPStatus
from typing import Any, TypeVar

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_SCHEMA = "Problem"
OAUTH_PROBLEM_SCHEMA = "OAuthProblem"

# A typical detail for each status, shown in the document's examples.
EXAMPLE_DETAILS = {
    400: "There was an error parsing the body",
    401: "Not authenticated.",
    403: "Only superusers may do this.",
    404: "No user with this id.",
    409: "A user with this e-mail address already exists.",
    413: "The request body is larger than 1048576 bytes.",
    422: "The request is not valid.",
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


def problem_response(
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


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries documenting each status as a problem+json body."""
    return {status: problem_response(status) for status in statuses}


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
