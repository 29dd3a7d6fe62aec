"""An OTLP/HTTP endpoint on loopback, for the tracing test and the tracing bench.

OTLP over HTTP is a POST of protobuf to /v1/traces; an empty 200 answer is an empty
ExportTraceServiceResponse, which tells the exporter all was accepted.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Export:
    path: str
    content_type: str
    body: bytes


@dataclass
class Receiver:
    url: str
    # Every export, unless the receiver was told to keep nothing.
    exports: list[Export] = field(default_factory=list)


@contextmanager
def otlp_receiver(keep: bool = True) -> Iterator[Receiver]:
    """A receiver that accepts every export; `keep=False` discards them (a long bench run)."""
    receiver = Receiver("")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a collector offers

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if keep:
                content_type = self.headers.get("Content-Type", "")
                receiver.exports.append(Export(self.path, content_type, body))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: object) -> None:  # quiet: the caller reports what matters
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
