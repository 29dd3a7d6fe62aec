"""Pure ASGI middleware: request ids and the last line of defence against unhandled errors."""

import logging
import random
import re
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.problems import problem_response
from app.core.context import request_id_var, user_id_var

logger = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-ID"
# An incoming id is kept only if it cannot forge log lines or bloat them. Matched whole
# (fullmatch): with "^...$", a trailing newline would pass, since "$" matches before it.
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def new_request_id() -> str:
    """A random UUID (version 4) from the process's own generator: a request id must be
    unique, not secret, and os.urandom's system call per request is measurable."""
    return str(uuid.UUID(int=random.getrandbits(128), version=4))


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            return candidate if SAFE_REQUEST_ID.fullmatch(candidate) else None
    return None


class RequestContextMiddleware:
    """Gives every request an id, echoes it, and turns an unhandled error into a 500 problem.

    It sits outside the app's own exception handling, so even a crash in a route
    or another middleware answers with the one problem body and its request id.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or new_request_id()
        request_id_token = request_id_var.set(request_id)
        # The current-user dependencies name the user once authenticated; no request
        # inherits another's.
        user_id_token = user_id_var.set(None)
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            logger.exception("unhandled error")
            if not response_started:
                response = problem_response(500, "An unexpected error occurred.")
                await response(scope, receive, send_with_id)
        finally:
            user_id_var.reset(user_id_token)
            request_id_var.reset(request_id_token)
