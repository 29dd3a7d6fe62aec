"""Per-request context, readable from any layer (logs, error bodies)."""

from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
