"""The worker's job handlers: what each entrypoint of app/jobs/queue.py does."""

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from pgqueuer.models import Schedule

from app.core.config import Settings
from app.db.session import Database
from app.jobs.queue import SEND_ACCOUNT_EMAIL, SEND_EMAIL, AccountEmail, EmailJob
from app.mail.delivery import Mailer
from app.mail.messages import compose, link
from app.services import wiring
from app.services.accounts import LINK_PAGES
from app.services.purge import purge_tokens

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Handlers:
    settings: Settings
    database: Database
    mailer: Mailer

    @property
    def by_entrypoint(self) -> Mapping[str, Callable[[bytes], Awaitable[None]]]:
        return {SEND_EMAIL: self.send_email, SEND_ACCOUNT_EMAIL: self.send_account_email}

    async def run(self, entrypoint: str, payload: bytes) -> None:
        await self.by_entrypoint[entrypoint](payload)

    async def send_email(self, payload: bytes) -> None:
        """Compose and send one e-mail. An SMTP error raises: the queue tries again later.
        A message accepted twice (the worker died between the server's answer and the
        job's completion) reaches its recipient twice: delivery is at least once."""
        email = EmailJob.model_validate_json(payload)
        await self.mailer.send(compose(email.kind, email.to, self.settings, **email.values))
        logger.info("e-mail sent", extra={"kind": email.kind})

    async def send_account_email(self, payload: bytes) -> None:
        """Make the token of an account e-mail in a transaction of its own, then send the
        e-mail with its link. The token is committed before the e-mail leaves, so its link
        always works; a try that fails after the commit makes a new token on the next try
        (a reset voids the older one: the newest link alone works)."""
        email = AccountEmail.model_validate_json(payload)
        async with self.database.unit_of_work() as session:
            token = await wiring.account_service(session, self.settings).issue_link(email)
        if token is None:
            logger.info("account e-mail not needed", extra={"kind": email.purpose})
            return
        url = link(self.settings, LINK_PAGES[email.purpose], token)
        await self.mailer.send(compose(email.purpose, email.address, self.settings, link=url))
        logger.info("e-mail sent", extra={"kind": email.purpose})

    async def purge_tokens(self, schedule: Schedule) -> None:
        deleted = await purge_tokens(self.database)
        logger.info("purged dead tokens", extra={"deleted": deleted})
