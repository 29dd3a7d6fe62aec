"""Pure ASGI middleware: each request's duration and the requests in flight, per route template."""

import re
import time

from fastapi.routing import iter_route_contexts
from starlette._utils import get_route_path
from starlette.routing import Router, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.metrics import HttpMetrics

# Every path no route answers shares one label, so random paths cannot add series.
UNMATCHED_ROUTE = "<unmatched>"
# Methods are chosen by the client too: any other shares one label.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "OTHER"


class RouteTemplates:
    """The template of the route that will answer a request, known before the request runs.

    Starlette and FastAPI leave the matched route in `scope["route"]`, but only once the
    router has run, which is too late for the in-flight gauge; and since FastAPI 0.137 a
    route of an included router is stored there without the include prefixes (its `path`
    reads `/users/{user_id}` for `/api/v1/users/{user_id}`). So the templates come from
    FastAPI's flattened view of the routes, matched in the router's order: a full match
    first, else the first route whose path matches (the router answers 405 for it).
    """

    def __init__(self, router: Router) -> None:
        self.router = router
        self._table: list[tuple[re.Pattern[str], frozenset[str], str]] | None = None

    def _build(self) -> list[tuple[re.Pattern[str], frozenset[str], str]]:
        table = []
        for route in iter_route_contexts(self.router.routes):
            # Mounted apps and websocket routes have no methods; their requests go unmatched.
            if route.path is not None and route.methods is not None:
                regex, template, _convertors = compile_path(route.path)
                table.append((regex, frozenset(route.methods), template))
        return table

    def template(self, scope: Scope) -> str:
        if self._table is None:  # built on first use, when every route has been added
            self._table = self._build()
        path = get_route_path(scope)  # the path the router matches, without root_path
        partial = None
        for regex, methods, template in self._table:
            if regex.match(path):
                if scope["method"] in methods:
                    return template
                partial = partial or template
        return partial or UNMATCHED_ROUTE


class MetricsMiddleware:
    """Times every request and counts those in flight, except those of `unmeasured_route`."""

    def __init__(
        self, app: ASGIApp, *, metrics: HttpMetrics, routes: RouteTemplates, unmeasured_route: str
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

        in_progress = self.metrics.requests_in_progress.labels(method, route)
        in_progress.inc()
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_status)
        finally:
            in_progress.dec()
            self.metrics.request_duration.labels(method, route, str(status_code)).observe(
                time.perf_counter() - started
            )
