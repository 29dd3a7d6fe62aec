"""The app's routes as the router will match them: templates and methods, per path."""

import re
from dataclasses import dataclass

from fastapi.routing import iter_route_contexts
from starlette.routing import Router, compile_path
from starlette.types import Scope

# Every path no route answers shares one label, so random paths cannot add series.
UNMATCHED_ROUTE = "<unmatched>"


def route_path(scope: Scope) -> str:
    """The path the router matches: the request's path without the app's mount point
    (`root_path`, set by a proxy that serves the app under a prefix), per the ASGI spec."""
    path: str = scope["path"]
    root_path: str = scope.get("root_path", "")
    if root_path and path.startswith(root_path) and path[len(root_path) :][:1] in ("", "/"):
        return path[len(root_path) :]
    return path


@dataclass(frozen=True)
class _Entry:
    pattern: re.Pattern[str]
    methods: frozenset[str]
    template: str


class RouteTable:
    """Which routes a request's path matches, known before the router runs.

    Starlette and FastAPI leave the matched route in `scope["route"]`, but only once the
    router has run, which is too late for the in-flight gauge; and since FastAPI 0.137 a
    route of an included router is stored there without the include prefixes (its `path`
    reads `/users/{user_id}` for `/api/v1/users/{user_id}`). So the table comes from
    FastAPI's flattened view of the routes, in the router's order. Built on first use,
    when every route has been added.
    """

    def __init__(self, router: Router) -> None:
        self.router = router
        self._entries: list[_Entry] | None = None
        # The matches of each path that is a route's whole template (no parameter), found
        # once: most requests skip the scan of every pattern. Bounded by the routes.
        self._fixed: dict[str, list[_Entry]] = {}

    def _build(self) -> list[_Entry]:
        entries = []
        for route in iter_route_contexts(self.router.routes):
            # Mounted apps and websocket routes have no methods; their requests go unmatched.
            if route.path is not None and route.methods is not None:
                pattern, template, _convertors = compile_path(route.path)
                entries.append(_Entry(pattern, frozenset(route.methods), template))
        self._fixed = {
            entry.template: self._scan(entries, entry.template)
            for entry in entries
            if "{" not in entry.template
        }
        return entries

    @staticmethod
    def _scan(entries: list[_Entry], path: str) -> list[_Entry]:
        return [entry for entry in entries if entry.pattern.match(path)]

    def _matching(self, scope: Scope) -> list[_Entry]:
        if self._entries is None:
            self._entries = self._build()
        path = route_path(scope)
        fixed = self._fixed.get(path)
        return fixed if fixed is not None else self._scan(self._entries, path)

    def template(self, scope: Scope) -> str:
        """The template of the route that answers: a full match first, else the first route
        whose path matches (the router answers 405 for it), else UNMATCHED_ROUTE."""
        matching = self._matching(scope)
        for entry in matching:
            if scope["method"] in entry.methods:
                return entry.template
        return matching[0].template if matching else UNMATCHED_ROUTE

    def allowed_methods(self, scope: Scope) -> list[str]:
        """Every method some route accepts at this path: a 405's `Allow` header."""
        return sorted({method for entry in self._matching(scope) for method in entry.methods})
