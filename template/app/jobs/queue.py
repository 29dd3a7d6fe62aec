"""What a job is: its entrypoint's name, its payload, and the retry policy it runs under."""

import uuid
from datetime import timedelta
from typing import Literal, get_args

from pgqueuer.domain.settings import db_settings
from pydantic import BaseModel, ConfigDict

# pgqueuer's tables (revision 0003), named as pgqueuer itself names them.
_names = db_settings()
QUEUE_TABLE = _names.queue_table
SCHEDULES_TABLE = _names.schedules_table
JOB_QUEUE_TABLES = frozenset(
    {_names.queue_table, _names.queue_table_log, _names.statistics_table, _names.schedules_table}
)

SEND_EMAIL = "send_email"
SEND_ACCOUNT_EMAIL = "send_account_email"
PURGE_TOKENS = "purge_tokens"
# Daily at 03:17 UTC: off the hour, when every other cron job of the world starts.
PURGE_TOKENS_SCHEDULE = "17 3 * * *"

# The longest wait between two tries of a failing job; the first wait, and how many tries,
# are settings (JOB_RETRY_DELAY_SECONDS, JOB_MAX_ATTEMPTS).
MAX_RETRY_DELAY = timedelta(minutes=10)


class EmailJob(BaseModel):
    """An e-mail to compose and send (app/mail): the template's kind, the recipient, and
    the values its template needs. Composed by the worker, so a template fixed after
    enqueueing is the one sent."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str
    to: str
    values: dict[str, str] = {}


# What a token sent by e-mail may do (app/services/accounts.py).
Purpose = Literal["password-reset", "verify-email", "email-change"]
EVERY_PURPOSE: tuple[Purpose, ...] = get_args(Purpose)


class AccountEmail(BaseModel):
    """An e-mail with a link that carries a token. The worker makes the token when it sends
    the message, so no job (and no queue table) ever holds one; it sends nothing when the
    account no longer qualifies (gone, deactivated, already verified).

    password-reset and verify-email name the account by its address (`address`), so that a
    request for an unknown address enqueues the same job as one for a known address;
    email-change names it by id and `address` is the new address.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    purpose: Purpose
    address: str
    user_id: uuid.UUID | None = None
