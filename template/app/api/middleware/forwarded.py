"""Pure ASGI middleware: the client's address and scheme, as the trusted proxies report them."""

from collections.abc import Sequence

from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.networks import Network, trust_check


class ForwardedHeadersMiddleware:
    """Replaces the peer address by the client's, and the scheme by the client's, if proxied.

    Each proxy appends the address it received the request from to X-Forwarded-For, so
    the list is read from the right: every entry added by a trusted proxy is skipped, and
    the first untrusted one is the client. Entries further left were written by that
    client and are ignored, whatever they say. A request whose peer is not a trusted
    proxy keeps its peer address, and its forwarded headers count for nothing.
    """

    def __init__(self, app: ASGIApp, *, trusted_proxies: Sequence[Network]) -> None:
        self.app = app
        self._is_trusted = trust_check(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            peer = scope.get("client")
            if peer is not None and self._is_trusted(peer[0]):
                self._apply_forwarded_headers(scope)
        await self.app(scope, receive, send)

    def _apply_forwarded_headers(self, scope: Scope) -> None:
        forwarded_for: list[str] = []
        forwarded_proto: list[str] = []
        for name, value in scope["headers"]:
            # A header may repeat: its values add up in order, as if joined by commas.
            if name == b"x-forwarded-for":
                forwarded_for += [_host(entry) for entry in _entries(value)]
            elif name == b"x-forwarded-proto":
                forwarded_proto += _entries(value)
        hops = len(forwarded_for)
        for index in range(hops - 1, -1, -1):
            host = forwarded_for[index]
            if not self._is_trusted(host):
                break
        else:  # every hop is a trusted proxy: the left-most one is the nearest to the client
            index = 0
        if hops:
            scope["client"] = (forwarded_for[index], 0)
        if forwarded_proto:
            # Proxies that append the scheme do so hop by hop, in step with the addresses.
            proto = forwarded_proto[index] if len(forwarded_proto) == hops else forwarded_proto[-1]
            proto = proto.lower()
            if proto in ("http", "https"):
                websocket = scope["type"] == "websocket"
                scope["scheme"] = {"http": "ws", "https": "wss"}[proto] if websocket else proto


def _entries(value: bytes) -> list[str]:
    return [entry.strip() for entry in value.decode("latin-1").split(",") if entry.strip()]


def _host(entry: str) -> str:
    """The address of an entry, without the port some proxies add ("[::1]:80", "1.2.3.4:80")."""
    if entry.startswith("["):
        return entry[1:].partition("]")[0]
    if entry.count(":") == 1:
        return entry.partition(":")[0]
    return entry
