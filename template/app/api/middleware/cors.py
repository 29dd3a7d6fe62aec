"""CORS whose refusals are problems like every other error."""

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response

from app.api.errors import problem_response


class ProblemCORSMiddleware(CORSMiddleware):
    """Starlette's CORS, answering a refused preflight with the problem body, not plain text."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code >= 400:
            # The refusal says which part failed (origin, method or headers); it needs no
            # CORS headers of its own, since the browser will not send the request anyway.
            detail = bytes(response.body).decode() or "The CORS preflight request is refused."
            return problem_response(response.status_code, detail, headers=None)
        return response
