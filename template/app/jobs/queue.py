"""What a job is: its entrypoint's name, its payload, and the retry policy it runs under."""

from datetime import timedelta

from pgqueuer.domain.settings import DBSettings
from pydantic import BaseModel, ConfigDict

# pgqueuer's tables (revision 0003), named as pgqueuer names them.
_names = DBSettings()
QUEUE_TABLE = _names.queue_table
JOB_QUEUE_TABLES = frozenset(
    {_names.queue_table, _names.queue_table_log, _names.statistics_table, _names.schedules_table}
)

SEND_EMAIL = "send_email"
PURGE_TOKENS = "purge_tokens"
# Daily at 03:17 UTC: off the hour, when every other cron job of the world starts.
PURGE_TOKENS_SCHEDULE = "17 3 * * *"

# A failing job is tried again after 10 s, 20 s, 40 s ... (capped at 10 minutes), 8 times
# in all over about 40 minutes: an SMTP provider's outage of that long is survived. Then
# the job is held with status 'failed' (docs/operations.md: what to do with failed jobs).
MAX_ATTEMPTS = 8
FIRST_RETRY_DELAY = timedelta(seconds=10)
MAX_RETRY_DELAY = timedelta(minutes=10)

# A job whose worker stopped beating its heart for this long (killed, cut off) is taken
# by another worker, or by the same one after a restart.
HEARTBEAT_TIMEOUT = timedelta(seconds=30)


class EmailJob(BaseModel):
    """An e-mail to compose and send (app/mail): the template's kind, the recipient, and
    the values its template needs. Composed by the worker, so a template fixed after
    enqueueing is the one sent."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str
    to: str
    values: dict[str, str] = {}
