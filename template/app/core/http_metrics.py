"""The service's Prometheus metrics, in a registry that belongs to one app."""

import os
from functools import lru_cache

from prometheus_client import CollectorRegistry, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

# Names the directory where each worker process writes its samples, so that a scrape
# answered by any one worker adds up all of them (scripts/start.sh sets and empties it).
# prometheus_client reads it from the process environment when it is imported: it is
# an environment variable, not a setting, because a value in .env would not reach it.
MULTIPROCESS_DIRECTORY_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


class HttpMetrics:
    """Request durations and requests in flight, labelled by method, route template and
    status; and whether each dependency answered the last readiness check."""

    def __init__(self) -> None:
        # Not the global default registry: a test run builds many apps in one process.
        self.registry = CollectorRegistry()
        self.request_duration = Histogram(
            "http_request_duration_seconds",
            "Time from a request's arrival to the end of its response.",
            ["method", "route", "status_code"],
            registry=self.registry,
        )
        self.requests_in_progress = Gauge(
            "http_requests_in_progress",
            "Requests being answered now.",
            ["method", "route"],
            registry=self.registry,
            multiprocess_mode="livesum",  # summed over the worker processes alive now
        )
        self.dependency_up = Gauge(
            "service_dependency_up",
            "1 if the dependency (database, redis) answered the last readiness check, else 0.",
            ["dependency"],
            registry=self.registry,
            multiprocess_mode="livemin",  # up only if every worker alive now found it up
        )
        # `labels()` takes a lock and builds a key on every call: the series of a route,
        # bounded by the route templates, methods and statuses, are looked up once.
        self.in_progress = lru_cache(maxsize=None)(self.requests_in_progress.labels)
        self.duration = lru_cache(maxsize=None)(self.request_duration.labels)
        self.dependency = lru_cache(maxsize=None)(self.dependency_up.labels)

    def exposition(self) -> bytes:
        """Every sample in the Prometheus text format; with several workers, all of theirs."""
        if not os.environ.get(MULTIPROCESS_DIRECTORY_VARIABLE):
            return generate_latest(self.registry)
        # A fresh registry per scrape, holding only the collector that reads the files.
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # not annotated
        return generate_latest(registry)
