"""Tracing as deployed: the service, started by its real command, exports its spans over
OTLP/HTTP to a receiver this test runs on loopback."""

import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.api_calls import log_in, sign_up
from tests.support.databases import REDIS_URL
from tests.support.environment import InstalledProject
from tests.support.otlp import Export, Receiver, otlp_receiver
from tests.support.service_processes import (
    random_secret_key,
    start_production,
    stop,
    wait_for_text,
    wait_until_live,
)
from tests.support.variants import answers

# The batch processor's delay, in milliseconds: spans leave within a fraction of a second.
EXPORT_DELAY_MS = "100"
ARRIVAL_SECONDS = 15


def exported(receiver: Receiver, *parts: bytes) -> list[Export]:
    """The exports so far, once their protobuf bodies hold all of `parts` between them
    (strings are raw UTF-8 there; a batch may end before a request's last span)."""
    deadline = time.monotonic() + ARRIVAL_SECONDS
    while time.monotonic() < deadline:
        exports = list(receiver.exports)
        received = b"".join(export.body for export in exports)
        if all(part in received for part in parts):
            return exports
        time.sleep(0.1)
    received = b"".join(export.body for export in receiver.exports)
    pytest.fail(f"{[part for part in parts if part not in received]} not exported in time")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with otlp_receiver() as receiver:
        yield receiver


@pytest.mark.deep
def test_spans_of_requests_sql_and_redis_reach_the_collector(
    installed_project: Callable[[str], InstalledProject],
    fresh_database: str,
    receiver: Receiver,
    tmp_path: Path,
) -> None:
    project = installed_project("everything")  # tracing=opentelemetry, rate limits in Redis
    service = start_production(
        project,
        tmp_path / "service.log",
        fresh_database,
        random_secret_key(),
        REDIS_URL=REDIS_URL,
        RATE_LIMIT_KEY_PREFIX=f"tracing-{secrets.token_hex(4)}",
        OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url,
        OTEL_BSP_SCHEDULE_DELAY=EXPORT_DELAY_MS,
    )
    trace_id = secrets.token_hex(16)
    try:
        wait_until_live(service)
        with service.client() as client:
            email, _ = sign_up(client)
            traceparent = f"00-{trace_id}-{secrets.token_hex(8)}-01"
            client.headers["traceparent"] = traceparent
            log_in(client, email)
        # One request's trace: the caller's trace id (raw bytes in protobuf), the route's
        # span, its statements and its Redis commands, under the service's name.
        exports = exported(
            receiver,
            bytes.fromhex(trace_id),
            b"POST /api/v1/auth/token",
            b"db.statement",
            b"SELECT",
            b"EVALSHA",
            # The service's name: the project's slug unless OTEL_SERVICE_NAME says otherwise.
            answers(project.path)["project_slug"].encode(),
        )
        assert {(export.path, export.content_type) for export in exports} == {
            ("/v1/traces", "application/x-protobuf")
        }
        # The log lines of the login name the same trace (written within FLUSH_SECONDS).
        wait_for_text(service, f'"trace_id": "{trace_id}"', timeout=ARRIVAL_SECONDS)
    finally:
        stop(service.process)
