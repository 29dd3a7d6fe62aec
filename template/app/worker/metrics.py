"""The worker's Prometheus metrics, served on WORKER_PORT's /metrics."""

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest


class WorkerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.jobs = Counter(
            "worker_jobs",
            "Jobs run, by entrypoint and outcome: done; retried (it failed and will be "
            "tried again); failed (for good: held in the queue with status 'failed').",
            ["entrypoint", "outcome"],
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "worker_queue_depth",
            "Jobs waiting in the queue, those waiting for a retry included.",
            registry=self.registry,
        )
        self.oldest_job_age = Gauge(
            "worker_oldest_job_age_seconds",
            "How long the oldest job that is due has waited (0 when none is).",
            registry=self.registry,
        )

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
