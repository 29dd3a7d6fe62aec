"""Reading what the service says about itself: metric series and JSON log lines."""

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

Series = tuple[str, frozenset[tuple[str, str]]]


def metric_series(exposition: str) -> dict[Series, float]:
    """Each series of a Prometheus exposition (sample name and labels) with its value."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }


def series(name: str, **labels: str) -> Series:
    return name, frozenset(labels.items())


class CapturedLogs:
    def __init__(self) -> None:
        self.stream = io.StringIO()

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    @property
    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text.splitlines()]


@contextmanager
def captured_logs() -> Iterator[CapturedLogs]:
    """What the service's own log handler (the last configure_logging's) writes meanwhile."""
    handler = next(h for h in logging.getLogger().handlers if h.name == "stdout")
    assert isinstance(handler, logging.StreamHandler)
    captured = CapturedLogs()
    previous = handler.setStream(captured.stream)
    try:
        yield captured
    finally:
        handler.setStream(previous)
