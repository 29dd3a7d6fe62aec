"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for the tests.

aiosmtpd's Controller serves from a thread with an event loop of its own, so a test's
own loop can send to it and wait for what it received.
"""

import email.policy
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage


@dataclass
class Sink:
    host: str
    port: int
    received: list[Received] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)
    _arrived: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        message = BytesParser(policy=email.policy.default).parsebytes(envelope.content)
        assert isinstance(message, EmailMessage)
        with self._arrived:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float = 10) -> list[Received]:
        """Block until `count` messages have arrived; fail after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"{len(self.received)} of {count} messages after {timeout} s"
                self._arrived.wait(left)
            return list(self.received)


@contextmanager
def smtp_sink(
    credentials: tuple[str, str] | None = None, port: int | None = None
) -> Iterator[Sink]:
    """A server on loopback, on `port` or a free one; with `credentials`, it offers AUTH
    and accepts that login only."""
    sink = Sink(LOOPBACK, port or free_port())
    options: dict[str, Any] = {}
    if credentials is not None:

        def authenticate(
            server: Any, session: Any, envelope: Any, mechanism: str, data: Any
        ) -> AuthResult:
            assert isinstance(data, LoginPassword)
            login = (data.login.decode(), data.password.decode())
            sink.logins.append(login)
            # handled=False: aiosmtpd answers the client itself (235, or 535 on failure).
            return AuthResult(success=login == credentials, handled=False)

        # AUTH offered without TLS (loopback, the tests' own login); not required, since
        # aiosmtpd warns of that per connection, in its own thread.
        options = {"authenticator": authenticate, "auth_require_tls": False}
    controller = Controller(sink, hostname=LOOPBACK, port=sink.port, **options)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()
