"""Per-request context, readable from any layer (logs, error bodies)."""

from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
# Set by the current-user dependencies (app/api/dependencies.py) once the request is
# authenticated, so its log lines name the user.
user_id_var: ContextVar[str | None] = ContextVar("user_id", default=None)
