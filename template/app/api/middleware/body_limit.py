"""Pure ASGI middleware: request bodies larger than MAX_REQUEST_BODY_BYTES are refused."""

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.problems import problem_response


class BodyLimitMiddleware:
    """Refuses a body over the limit with a 413 problem, and never holds more of it.

    A Content-Length over the limit is refused before anything is read. A body that
    comes without one (chunked), or with one that lies, is counted as it streams in,
    and the read that crosses the limit fails: the route's body parsing stops there
    and the app's HTTP error handler answers the 413.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.detail = f"The request body is larger than {max_bytes} bytes."

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await problem_response(413, self.detail)(scope, receive, send)
            return
        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise HTTPException(413, self.detail)
            return message

        await self.app(scope, counted_receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            # The server has already refused a Content-Length that is not a number.
            return int(value) if value.isdigit() else None
    return None
