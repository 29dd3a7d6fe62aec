"""OpenAPI declarations of the problem responses a route can answer."""

from http import HTTPStatus
from typing import Any

from app.schemas.problem import Problem

PROBLEM_MEDIA_TYPE = "application/problem+json"


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries documenting each status as a problem+json body."""
    return {
        status: {
            "model": Problem,
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }
