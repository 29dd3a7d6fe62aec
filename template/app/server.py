"""The HTTP server's protocol: uvicorn's httptools parser, with limits on request headers.

uvicorn's default parser takes headers of any number and size, holding each in memory,
so one request could carry gigabytes before the app sees it. This protocol refuses a
request with more than MAX_HEADERS headers, or more than MAX_HEADER_BYTES of request
line and headers, with a 431 problem, and closes the connection. scripts/start.sh and
`make dev` serve with it: `uvicorn --http app.server:HttpProtocol`.
"""

from http import HTTPStatus

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.api.middleware.request_context import new_request_id
from app.api.middleware.security_headers import SECURITY_HEADERS
from app.api.problems import PROBLEM_MEDIA_TYPE, Problem

# A 10 KB Authorization header still gets through to be answered 401; nothing legitimate
# for this API comes near the limits.
MAX_HEADER_BYTES = 32 * 1024
MAX_HEADERS = 100


class HeaderLimitExceeded(Exception):
    """Raised from a parser callback to stop parsing the request."""


class HttpProtocol(HttpToolsProtocol):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._header_count = 0
        self._header_bytes = 0
        # Raw bytes received since the last request ended, its headers not yet complete:
        # the parser holds a header being received in full, so this bounds its size.
        self._pending_bytes = 0
        self._headers_complete = False
        self._refusal: str | None = None

    def data_received(self, data: bytes) -> None:
        if not self._headers_complete:
            self._pending_bytes += len(data)
        super().data_received(data)
        still_in_headers = self._refusal is None and not self._headers_complete
        if still_in_headers and self._pending_bytes > MAX_HEADER_BYTES:
            self._refuse(f"The request headers are larger than {MAX_HEADER_BYTES} bytes.")

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        if self._header_count > MAX_HEADERS:
            self._refusal = f"A request may carry at most {MAX_HEADERS} headers."
            raise HeaderLimitExceeded
        self._count(len(name) + len(value) + 4)  # ": " and the line's CRLF
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._headers_complete = True
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._header_count = self._header_bytes = self._pending_bytes = 0
        self._headers_complete = False

    def send_400_response(self, msg: str) -> None:
        # uvicorn answers every parser error with a 400; a limit this class raised is a 431.
        if self._refusal is None:
            super().send_400_response(msg)
        else:
            self._send_431(self._refusal)

    def _count(self, size: int) -> None:
        self._header_bytes += size
        if self._header_bytes > MAX_HEADER_BYTES:
            self._refusal = f"The request headers are larger than {MAX_HEADER_BYTES} bytes."
            raise HeaderLimitExceeded

    def _refuse(self, detail: str) -> None:
        self._refusal = detail
        self._send_431(detail)

    def _send_431(self, detail: str) -> None:
        status = HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
        request_id = new_request_id()  # the app never saw this request: a fresh id
        problem = Problem(
            title=status.phrase, status=status.value, detail=detail, request_id=request_id
        )
        body = problem.model_dump_json(exclude_none=True).encode()
        headers = {
            **SECURITY_HEADERS,
            "Content-Type": PROBLEM_MEDIA_TYPE,
            "Content-Length": str(len(body)),
            "X-Request-ID": request_id,
            "Connection": "close",
        }
        head = f"HTTP/1.1 {status.value} {status.phrase}\r\n" + "".join(
            f"{name}: {value}\r\n" for name, value in headers.items()
        )
        self.transport.write(head.encode("latin-1") + b"\r\n" + body)
        self.transport.close()
