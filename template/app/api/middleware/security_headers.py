"""Pure ASGI middleware: browser-hardening headers on every response, errors included."""

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # An API's URLs (ids, queries) are nobody else's business, not even in part.
    "Referrer-Policy": "no-referrer",
}
# The API's answers carry account data (a profile, tokens, a list of users): no browser
# cache or shared proxy may keep a copy for the next person at the keyboard.
PRIVATE_HEADERS = {"Cache-Control": "no-store"}
# Two years, subdomains included. Not in development: a browser that once saw it would
# refuse plain HTTP to that host (a developer's localhost) for the next two years.
STRICT_TRANSPORT_SECURITY = "max-age=63072000; includeSubDomains"


class SecurityHeadersMiddleware:
    """Adds the security headers to every response, and `Cache-Control: no-store` to every
    answer under `private_prefix` (the API's); a route that sets one itself keeps its own.
    Here rather than in a dependency of the API router: a header costs this layer next to
    nothing, a dependency a measurable share of a fast request."""

    def __init__(
        self, app: ASGIApp, *, strict_transport_security: bool, private_prefix: str
    ) -> None:
        self.app = app
        self.headers = dict(SECURITY_HEADERS)
        if strict_transport_security:
            self.headers["Strict-Transport-Security"] = STRICT_TRANSPORT_SECURITY
        self.private_headers = self.headers | PRIVATE_HEADERS
        self.private_prefix = private_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        private = scope["path"].startswith(self.private_prefix)
        added = self.private_headers if private else self.headers

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in added.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
