"""Pure ASGI middleware: browser-hardening headers on every response, errors included."""

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # An API's URLs (ids, queries) are nobody else's business, not even in part.
    "Referrer-Policy": "no-referrer",
}
# Two years, subdomains included. Not in development: a browser that once saw it would
# refuse plain HTTP to that host (a developer's localhost) for the next two years.
STRICT_TRANSPORT_SECURITY = "max-age=63072000; includeSubDomains"


class SecurityHeadersMiddleware:
    """Adds the security headers to every response; a route that sets one itself keeps its own."""

    def __init__(self, app: ASGIApp, *, strict_transport_security: bool) -> None:
        self.app = app
        self.headers = dict(SECURITY_HEADERS)
        if strict_transport_security:
            self.headers["Strict-Transport-Security"] = STRICT_TRANSPORT_SECURITY

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
