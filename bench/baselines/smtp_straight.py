"""Baseline: the worker's password-reset e-mails sent straight by aiosmtplib, from one process.

`python smtp_straight.py COUNT USERS`, run by the rendered project's Python with its
folder on PYTHONPATH and the worker's settings: the same message, composed from the
project's own templates with a link made the same way, to bench-1@example.com to
bench-USERS@... in turn, one connection each as the project's mailer opens, as many at
once as a worker runs jobs. What is left out is the queue: no job taken or finished, no
token stored, no transaction.
"""

import asyncio
import sys

import aiosmtplib
from app.core.config import get_settings
from app.core.security import new_account_token
from app.mail.delivery import SMTP_TIMEOUT_SECONDS
from app.mail.messages import compose, link
from app.services.accounts import LINK_PAGES
from app.worker.runner import MAX_CONCURRENT_JOBS


async def send_all(count: int, users: int) -> None:
    settings = get_settings()
    slots = asyncio.Semaphore(MAX_CONCURRENT_JOBS)

    async def send(number: int) -> None:
        async with slots:
            url = link(settings, LINK_PAGES["password-reset"], new_account_token())
            address = f"bench-{number % users + 1}@example.com"
            message = compose("password-reset", address, settings, link=url)
            await aiosmtplib.send(
                message,
                hostname=settings.smtp_host,
                port=settings.smtp_port,
                use_tls=False,
                start_tls=False,
                timeout=SMTP_TIMEOUT_SECONDS,
            )

    await asyncio.gather(*(send(number) for number in range(count)))


if __name__ == "__main__":
    asyncio.run(send_all(int(sys.argv[1]), int(sys.argv[2])))
