"""Delivering a message: over SMTP, into the log, or nowhere (EMAIL_BACKEND).

The e-mails of the account flows are sent by the worker (app/worker), never inside a
request; `python -m app.cli send-test-email` sends one at once, to set a provider up.
"""

import logging
from email.message import EmailMessage
from typing import Protocol

import aiosmtplib

from app.core.config import Settings

logger = logging.getLogger(__name__)

# Connecting, and each SMTP command: a provider that stalls fails the attempt, which the
# queue retries later, rather than holding the worker.
SMTP_TIMEOUT_SECONDS = 10


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


class SmtpMailer:
    """aiosmtplib, one connection per message: a worker sends a few messages a second
    at most, and a connection kept open would need keep-alive and reconnection of its own."""

    def __init__(self, settings: Settings) -> None:
        if settings.smtp_host is None:
            raise ValueError("EMAIL_BACKEND=smtp needs SMTP_HOST")
        self.host = settings.smtp_host
        self.port = settings.smtp_port
        self.user = settings.smtp_user
        self.password = settings.smtp_password
        self.tls = settings.smtp_tls

    async def send(self, message: EmailMessage) -> None:
        await aiosmtplib.send(
            message,
            hostname=self.host,
            port=self.port,
            username=self.user,
            password=self.password.get_secret_value() if self.password else None,
            use_tls=self.tls == "tls",
            # True, not None (aiosmtplib's "if offered"): a server, or a machine in the
            # middle, that offers no STARTTLS fails the attempt instead of reading it.
            start_tls=self.tls == "starttls",
            timeout=SMTP_TIMEOUT_SECONDS,
        )


class ConsoleMailer:
    """Development: the whole message in the log, each part decoded, nothing sent."""

    async def send(self, message: EmailMessage) -> None:
        headers = "".join(f"{name}: {message[name]}\n" for name in ("From", "To", "Subject"))
        parts = [
            f"--- {part.get_content_type()}\n{part.get_content()}"
            for part in message.walk()
            if not part.is_multipart()
        ]
        logger.info("e-mail not sent (EMAIL_BACKEND=console):\n%s%s", headers, "\n".join(parts))


class DisabledMailer:
    """EMAIL_BACKEND=off: nothing sent, and the log says what was not (not to whom)."""

    async def send(self, message: EmailMessage) -> None:
        logger.info("e-mail not sent (EMAIL_BACKEND=off): %s", message["Subject"])


def mailer(settings: Settings) -> Mailer:
    if settings.mail_delivery == "smtp":
        return SmtpMailer(settings)
    if settings.mail_delivery == "console":
        return ConsoleMailer()
    return DisabledMailer()
