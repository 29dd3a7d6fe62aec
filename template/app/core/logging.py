"""Log lines for every logger, server included: JSON, or readable text in development."""

import logging.config
from typing import Any

from app.core.config import Settings
from app.core.context import request_id_var, user_id_var

# What every record has; anything else was passed as `extra=` and is worth showing
# (request_id leads the line; uvicorn's color_message repeats the message in colour).
NOT_EXTRA_FIELDS = frozenset(
    [*vars(logging.makeLogRecord({})), "message", "asctime", "request_id", "color_message"]
)


class RequestContextFilter(logging.Filter):
    """Stamps each record with the request's id and user, unless the record names its own."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, variable in (("request_id", request_id_var), ("user_id", user_id_var)):
            if not hasattr(record, name):
                setattr(record, name, variable.get())
        return True


class ConsoleFormatter(logging.Formatter):
    """One readable line per record, its extra fields (user_id included) at the end."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        extras = " ".join(
            f"{name}={value}"
            for name, value in vars(record).items()
            if name not in NOT_EXTRA_FIELDS and value is not None
        )
        line = super().formatMessage(record)
        return f"{line} {extras}" if extras else line


def _formatter(settings: Settings) -> str:
    if settings.log_format == "auto":
        return "console" if settings.env == "dev" else "json"
    return settings.log_format


def logging_config(settings: Settings) -> dict[str, Any]:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_context": {"()": RequestContextFilter}},
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(user_id)s",
                "rename_fields": {"asctime": "timestamp", "levelname": "level", "name": "logger"},
            },
            "console": {"()": ConsoleFormatter},
        },
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "formatter": _formatter(settings),
                "filters": ["request_context"],
                "stream": "ext://sys.stdout",
            }
        },
        "root": {"handlers": ["stdout"], "level": "DEBUG" if settings.debug else "INFO"},
        "loggers": {
            # The server's loggers go through the root handler, in the same format.
            name: {"handlers": [], "propagate": True}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
    }


def configure_logging(settings: Settings) -> None:
    logging.config.dictConfig(logging_config(settings))
