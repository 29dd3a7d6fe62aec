"""The Prometheus scrape endpoint, behind a bearer token when METRICS_TOKEN is set."""

import secrets
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import SecretStr

from app.api.dependencies import SettingsDep
from app.core.exceptions import Unauthorized
from app.core.http_metrics import HttpMetrics

METRICS_PATH = "/metrics"

router = APIRouter(tags=["metrics"])


def presents_token(authorization: str | None, token: SecretStr) -> bool:
    """Whether `authorization` is `Bearer <token>`; the worker's /metrics uses it too."""
    scheme, _, presented = (authorization or "").partition(" ")
    expected = token.get_secret_value()
    # Constant time: the comparison must not reveal how much of a guess was right.
    return scheme.lower() == "bearer" and secrets.compare_digest(
        presented.encode(), expected.encode()
    )


# Not in the OpenAPI document: it is for Prometheus, not for API clients. A plain
# function, so reading the worker processes' files happens off the event loop.
@router.get(METRICS_PATH, include_in_schema=False)
def metrics(
    request: Request,
    settings: SettingsDep,
    authorization: Annotated[str | None, Header()] = None,
) -> Response:
    token = settings.metrics_token
    if token is not None and not presents_token(authorization, token):
        raise Unauthorized("A valid metrics token is required.")
    http_metrics: HttpMetrics = request.app.state.metrics
    return Response(http_metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
