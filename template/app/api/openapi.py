"""The OpenAPI document, completed so that it declares every status a route can answer."""

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts

from app.api.problems import (
    OAUTH_PROBLEM_SCHEMA,
    PROBLEM_MEDIA_TYPE,
    PROBLEM_SCHEMA,
    OAuthProblem,
    Problem,
    declared_problem,
    problems_of,
)

# Any request may carry a body over MAX_REQUEST_BODY_BYTES, and any route may fail.
EVERY_ROUTE = frozenset({413, 500})
# A body that is not JSON (or not a form) at all, and one that breaks the schema.
WITH_BODY = frozenset({400, 422})
WITH_PARAMETERS = frozenset({422})


def install_openapi(app: FastAPI) -> None:
    """Make `app.openapi()` build FastAPI's document, then complete it (once, cached)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(FastAPI.openapi(app), app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete(document: dict[str, Any], app: FastAPI) -> dict[str, Any]:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for model, name in ((Problem, PROBLEM_SCHEMA), (OAuthProblem, OAUTH_PROBLEM_SCHEMA)):
        schemas[name] = model.model_json_schema(ref_template="#/components/schemas/{model}")
    # FastAPI's own 422 body, replaced by the problem below, leaves these unused.
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    # The routes as FastAPI sees them once included: full paths, every dependency.
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, APIRoute) and route.include_in_schema:
            for method in route.methods or ():
                operation = document["paths"][route.path_format].get(method.lower())
                if operation is not None:
                    _declare_problems(operation, route)
    return document


def statuses(route: RouteContext) -> frozenset[int]:
    """The error statuses `route` can answer, from its inputs and its dependencies."""
    found = set(EVERY_ROUTE)
    if route.body_field is not None:
        found |= WITH_BODY
    if any(_parameters(route.dependant)):
        found |= WITH_PARAMETERS
    for dependant in _walk(route.dependant):
        found |= problems_of(dependant.call)
    # A route that answers its own validation errors otherwise (the OAuth2 token
    # endpoint answers 400) says so with `validation_error_status`.
    validation_status = getattr(route.original_route, "validation_error_status", 422)
    if validation_status != 422 and 422 in found:
        found = (found - {422}) | {validation_status}
    return frozenset(found)


def _declare_problems(operation: dict[str, Any], route: RouteContext) -> None:
    responses = operation.setdefault("responses", {})
    answered = statuses(route)
    if 422 not in answered:
        responses.pop("422", None)  # FastAPI's own, for a route that answers 400 instead
    for status in answered:
        declared = responses.get(str(status), {})
        # Missing, or FastAPI's own 422 (a JSON body of another shape): the problem instead.
        if PROBLEM_MEDIA_TYPE not in declared.get("content", {}):
            responses[str(status)] = declared_problem(status)
    for status, declared in responses.items():
        content = declared.get("content", {})
        if status.startswith(("4", "5")) and PROBLEM_MEDIA_TYPE in content:
            # An error is problem+json only, whatever else FastAPI listed beside it.
            declared["content"] = {PROBLEM_MEDIA_TYPE: content[PROBLEM_MEDIA_TYPE]}


def _walk(dependant: Dependant) -> Iterator[Dependant]:
    for dependency in dependant.dependencies:
        yield dependency
        yield from _walk(dependency)


def _parameters(dependant: Dependant) -> Iterator[object]:
    for candidate in (dependant, *_walk(dependant)):
        yield from candidate.path_params
        yield from candidate.query_params
        yield from candidate.header_params
        yield from candidate.cookie_params
