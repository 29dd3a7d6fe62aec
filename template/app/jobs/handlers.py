"""The worker's job handlers: what each entrypoint of app/jobs/queue.py does."""

import logging
from dataclasses import dataclass

from pgqueuer.models import Job, Schedule

from app.core.config import Settings
from app.db.session import Database
from app.jobs.queue import EmailJob
from app.mail.delivery import Mailer
from app.mail.messages import compose
from app.services.purge import purge_tokens

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Handlers:
    settings: Settings
    database: Database
    mailer: Mailer

    async def send_email(self, job: Job) -> None:
        """Compose and send one e-mail. An SMTP error raises: the queue tries again later.
        A message accepted twice (the worker died between the server's answer and the
        job's completion) reaches its recipient twice: delivery is at least once."""
        email = EmailJob.model_validate_json(job.payload or b"")
        await self.mailer.send(compose(email.kind, email.to, self.settings, **email.values))
        logger.info("e-mail sent", extra={"kind": email.kind})

    async def purge_tokens(self, schedule: Schedule) -> None:
        deleted = await purge_tokens(self.database)
        logger.info("purged refresh tokens", extra={"deleted": deleted})
