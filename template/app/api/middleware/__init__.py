"""The middleware stack, assembled in one place and in one order."""

from fastapi import FastAPI

from app.api.middleware.body_limit import BodyLimitMiddleware
from app.api.middleware.cors import ProblemCORSMiddleware
from app.api.middleware.forwarded import ForwardedHeadersMiddleware
from app.api.middleware.request_context import REQUEST_ID_HEADER, RequestContextMiddleware
from app.api.middleware.request_metrics import MetricsMiddleware
from app.api.middleware.security_headers import SecurityHeadersMiddleware
from app.api.prometheus import METRICS_PATH
from app.api.v1.router import API_PREFIX
from app.core.config import Settings


def install_middleware(app: FastAPI, settings: Settings) -> None:
    """Add the middleware, innermost first: each one added wraps all those before it.

    A request passes them from the last added to the first, its response the other way:

    - forwarded headers, outermost of these (a traced project's tracing middleware,
      added once the app is built, wraps them all): the client address and scheme come from
      X-Forwarded-For and -Proto only when the peer is in FORWARDED_ALLOW_IPS, before
      anything (rate limits, logs) reads them. The server's own proxy handling is off
      (scripts/start.sh), so this is the one place that decides.
    - metrics: it times and counts every answer, the 500 that the request
      context makes of a crash included. Scrapes of /metrics are not measured, so
      reading the numbers does not change them.
    - security headers (and no-store on the API's answers), also outside the request
      context, so that 500 has them too.
    - request context: the request id, and the 500 problem (logged with its traceback)
      for any error nothing else handled.
    - CORS, inside the request context: an error in CORS handling still answers a
      problem with a request id.
    - body limit, innermost: its 413 carries the CORS headers, so a browser can read it,
      and a body cut off mid-stream fails inside the app, whose handler answers it.
    """
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_request_body_bytes)
    app.add_middleware(
        ProblemCORSMiddleware,
        allow_origins=list(settings.cors_origins),
        allow_credentials=True,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", REQUEST_ID_HEADER],
        expose_headers=[REQUEST_ID_HEADER],
    )
    app.add_middleware(RequestContextMiddleware)
    app.add_middleware(
        SecurityHeadersMiddleware,
        strict_transport_security=settings.env != "dev",
        private_prefix=API_PREFIX,
    )
    if settings.metrics_enabled:
        app.add_middleware(
            MetricsMiddleware,
            metrics=app.state.metrics,
            routes=app.state.route_table,
            unmeasured_route=METRICS_PATH,
        )
    app.add_middleware(ForwardedHeadersMiddleware, trusted_proxies=settings.forwarded_allow_ips)
