"""CORS whose refusals are problems like every other error."""

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from app.api.problems import problem_response


class ProblemCORSMiddleware(CORSMiddleware):
    """Starlette's CORS, answering a refused preflight with the problem body, not plain text.

    A request with no Origin (no browser's cross-origin request: most API traffic) only
    gets `Vary: Origin`, as Starlette gives it, without the cost of Starlette's parsing.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or any(name == b"origin" for name, _ in scope["headers"]):
            await super().__call__(scope, receive, send)
            return

        async def send_with_vary(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Vary"] = ", ".join([*headers.getlist("Vary"), "Origin"])
            await send(message)

        await self.app(scope, receive, send_with_vary)

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code >= 400:
            # The refusal says which part failed (origin, method or headers); it needs no
            # CORS headers of its own, since the browser will not send the request anyway.
            detail = bytes(response.body).decode() or "The CORS preflight request is refused."
            return problem_response(response.status_code, detail, headers=None)
        return response
