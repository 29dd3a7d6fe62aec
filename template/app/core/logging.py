"""Log lines for every logger, server included: JSON, or readable text in development."""

import contextlib
import logging.config
import threading
from typing import Any, TextIO

from app.core.config import Settings
from app.core.context import job_id_var, request_id_var, user_id_var

# What every record has; anything else was passed as `extra=` and is worth showing
# (request_id leads the line; uvicorn's color_message repeats the message in colour).
NOT_EXTRA_FIELDS = frozenset(
    [*vars(logging.makeLogRecord({})), "message", "asctime", "request_id", "color_message"]
)


class RequestContextFilter(logging.Filter):
    """Stamps each record with the request's id and user (and the job, in the worker),
    unless the record names its own."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, variable in (("request_id", request_id_var), ("user_id", user_id_var)):
            if not hasattr(record, name):
                setattr(record, name, variable.get())
        # Only the worker's lines name a job; the API's lines carry no empty field for it.
        if (job_id := job_id_var.get()) is not None and not hasattr(record, "job_id"):
            record.job_id = job_id
        return True


class WithoutQueryString(logging.Filter):
    """Cuts the query string off the path of the server's access lines: it may carry a token
    or a password (`?access_token=...`), and logs are kept longer and read by more people
    than any request."""

    def filter(self, record: logging.LogRecord) -> bool:
        # uvicorn's access record: (client, method, path with query, HTTP version, status).
        arguments = record.args
        if isinstance(arguments, tuple) and len(arguments) == 5:
            path = arguments[2]
            if isinstance(path, str) and "?" in path:
                record.args = (*arguments[:2], path.partition("?")[0], *arguments[3:])
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


class BatchedStreamHandler(logging.StreamHandler[TextIO]):
    """Writes lines to the stream in batches: one write for many access-log lines.

    A write to stdout is a system call, and one per request is a measurable part of a
    fast request. Lines below WARNING wait at most FLUSH_SECONDS (or MAX_PENDING lines)
    and go out together; a WARNING or worse goes out at once, with every line before it,
    and so does everything at exit. A process killed outright loses at most the last
    FLUSH_SECONDS of INFO lines.
    """

    FLUSH_SECONDS = 0.2
    MAX_PENDING = 256

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream)
        self._pending: list[str] = []
        self._stopping = threading.Event()
        threading.Thread(target=self._flush_often, name="log-flush", daemon=True).start()

    def emit(self, record: logging.LogRecord) -> None:
        # Handler.handle holds the handler's lock around emit.
        try:
            self._pending.append(self.format(record) + self.terminator)
            if record.levelno >= logging.WARNING or len(self._pending) >= self.MAX_PENDING:
                self._write()
        except Exception:
            self.handleError(record)

    def _write(self) -> None:
        if self._pending:
            lines, self._pending = "".join(self._pending), []
            self.stream.write(lines)
        self.stream.flush()

    def flush(self) -> None:
        with self.lock:  # type: ignore[union-attr]  # created by Handler.__init__
            self._write()

    def _flush_often(self) -> None:
        while not self._stopping.wait(self.FLUSH_SECONDS):
            try:
                self.flush()
            except (OSError, ValueError):  # the stream closed under us; nothing to do
                return

    def close(self) -> None:
        self._stopping.set()
        with contextlib.suppress(OSError, ValueError):  # the stream may be closed already
            self.flush()
        super().close()


def _formatter(settings: Settings) -> str:
    if settings.log_format == "auto":
        return "console" if settings.env == "dev" else "json"
    return settings.log_format


def logging_config(settings: Settings) -> dict[str, Any]:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_context": {"()": RequestContextFilter},
            "without_query_string": {"()": WithoutQueryString},
        },
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
                "()": BatchedStreamHandler,
                "formatter": _formatter(settings),
                "filters": ["request_context"],
                "stream": "ext://sys.stdout",
            }
        },
        "root": {"handlers": ["stdout"], "level": "DEBUG" if settings.debug else "INFO"},
        "loggers": {
            # The server's loggers go through the root handler, in the same format.
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {
                "handlers": [],
                "propagate": True,
                "filters": ["without_query_string"],
            },
        },
    }


def configure_logging(settings: Settings) -> None:
    # No format here shows the thread or the process: a record need not look them up
    # (a measurable part of writing the access log).
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    logging.config.dictConfig(logging_config(settings))
