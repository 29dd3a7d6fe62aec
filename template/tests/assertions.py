"""The one check of an error answer: the service's problem+json body (RFC 9457)."""

from http import HTTPStatus
from typing import Any

from httpx import Response

PROBLEM_MEDIA_TYPE = "application/problem+json"


def assert_problem(response: Response, status: int | None = None) -> dict[str, Any]:
    """The response is a problem with this status (or any 4xx, when none is given) that
    names its request; returns the body for the test's own checks."""
    if status is None:
        assert 400 <= response.status_code < 500, response.text
    else:
        assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body: dict[str, Any] = response.json()
    assert body["type"] == "about:blank"
    assert body["title"] == HTTPStatus(response.status_code).phrase
    assert isinstance(body["detail"], str)
    assert body["detail"]
    assert body["status"] == response.status_code
    assert body["request_id"] == response.headers["x-request-id"]
    return body
