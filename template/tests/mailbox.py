"""The account e-mails of a test, delivered as the worker delivers them: through the job
handlers (app/jobs/handlers.py), over SMTP, to a real server on loopback (smtp_sink.py).

On PostgreSQL a request's jobs wait in the queue table, inside the test's transaction:
`deliver` runs them there, as `python -m app.worker` would run them after a commit (that
process is tested in test_jobs.py). On SQLite they ran in their request already
(app/jobs/in_process.py), through the app's settings, which point at the same server.
"""

import re
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from sqlalchemy import text

from app.db.session import Database
from app.jobs.handlers import Handlers
from app.jobs.queue import QUEUE_TABLE
from tests.smtp_sink import LOOPBACK, Sink

TOKEN_IN_LINK = re.compile(r"#token=([A-Za-z0-9_\-]+)")


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    content: str = part.get_content()
    return content


def token_in(message: EmailMessage) -> str:
    """The token of the message's link (its text part; the HTML part has the same link)."""
    found = TOKEN_IN_LINK.search(text_of(message))
    assert found, text_of(message)
    return found[1]


@dataclass
class Mailbox:
    sink: Sink
    database: Database
    handlers: Handlers

    async def deliver(self) -> None:
        """Run the jobs the requests so far put on the queue, oldest first."""
        if self.database.engine.dialect.name == "sqlite":
            return
        # The test's own connection (tests/conftest.py), which sees its transaction's jobs.
        async with self.database.sessions() as session:
            rows = (
                await session.execute(
                    text(f"DELETE FROM {QUEUE_TABLE} RETURNING id, entrypoint, payload")  # noqa: S608
                )
            ).all()
            await session.commit()
        for _, entrypoint, payload in sorted(rows):
            await self.handlers.run(entrypoint, payload)

    async def messages(self, to: str, subject: str = "") -> list[EmailMessage]:
        """Every message delivered so far to `to` whose subject holds `subject`."""
        await self.deliver()
        return [
            received.message
            for received in self.sink.received
            if received.recipients == [to] and subject in str(received.message["Subject"])
        ]

    async def only(self, to: str, subject: str) -> EmailMessage:
        found = await self.messages(to, subject)
        assert len(found) == 1, [str(message["Subject"]) for message in found]
        return found[0]


def mail_settings(sink: Sink) -> dict[str, Any]:
    return {
        "email_backend": "smtp",
        "smtp_host": LOOPBACK,
        "smtp_port": sink.port,
        "smtp_tls": "none",
        "mail_from": "service@example.com",
        "frontend_url": "https://app.example.com",
    }
