"""Per-request and per-job context, readable from any layer (logs, error bodies)."""

from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
# Set by the current-user dependencies (app/api/dependencies.py) once the request is
# authenticated, so its log lines name the user.
user_id_var: ContextVar[str | None] = ContextVar("user_id", default=None)
# Set by the worker (app/worker/runner.py) while it runs a job; its request_id is then the
# id of the request that enqueued the job.
job_id_var: ContextVar[str | None] = ContextVar("job_id", default=None)
