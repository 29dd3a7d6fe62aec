"""Pure ASGI middleware: each request's duration and the requests in flight, per route template."""

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.route_table import RouteTable
from app.core.http_metrics import HttpMetrics

# Methods are chosen by the client too: any other shares one label.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "OTHER"


class MetricsMiddleware:
    """Times every request and counts those in flight, except those of `unmeasured_route`."""

    def __init__(
        self, app: ASGIApp, *, metrics: HttpMetrics, routes: RouteTable, unmeasured_route: str
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = routes
        self.unmeasured_route = unmeasured_route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = self.routes.template(scope)
        if route == self.unmeasured_route:
            await self.app(scope, receive, send)
            return
        method = scope["method"] if scope["method"] in KNOWN_METHODS else OTHER_METHOD
        status_code = 500  # what the client gets if no response starts

        async def send_with_status(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
            await send(message)

        in_progress = self.metrics.in_progress(method, route)
        in_progress.inc()
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_status)
        finally:
            in_progress.dec()
            duration = self.metrics.duration(method, route, str(status_code))
            duration.observe(time.perf_counter() - started)
