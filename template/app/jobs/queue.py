"""What a job is: its entrypoint's name, its payload, and the retry policy it runs under."""

from datetime import timedelta

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
