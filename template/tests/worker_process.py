"""The worker as its platform runs it: `python -m app.worker` in a process of its own, on a
database whose units of work commit for real, sending to a real SMTP server on loopback."""

import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from app.core.config import Settings
from app.jobs.queue import SEND_EMAIL
from tests.conftest import PROJECT_ROOT
from tests.processes import process_env
from tests.smtp_sink import LOOPBACK, free_port

# A worker's first answer, and a message's way through it, take well under this.
PATIENCE_SECONDS = 15


@dataclass
class WorkerProcess:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def lines(self) -> list[dict[str, object]]:
        return [
            json.loads(line) for line in self.log.read_text().splitlines() if line.startswith("{")
        ]

    def count(self, outcome: str, entrypoint: str = SEND_EMAIL) -> float:
        metrics = httpx.get(f"{self.url}/metrics", timeout=5).text
        labels = f'entrypoint="{entrypoint}",outcome="{outcome}"'
        sample = "worker_jobs_total{" + labels + "} "
        found = re.search("^" + re.escape(sample) + r"(\S+)$", metrics, re.MULTILINE)
        return float(found[1]) if found else 0.0


@contextmanager
def worker(
    settings: Settings, tmp_path: Path, smtp_port: int, **variables: str
) -> Iterator[WorkerProcess]:
    """`python -m app.worker` on the test database, sending to `smtp_port` on loopback;
    stopped with SIGTERM at the end, which it must obey within 15 s."""
    port = free_port()
    tmp_path.mkdir(parents=True, exist_ok=True)
    log = tmp_path / "worker.log"
    env = process_env(
        settings,
        LOG_FORMAT="json",
        EMAIL_BACKEND="smtp",
        SMTP_HOST=LOOPBACK,
        SMTP_PORT=str(smtp_port),
        SMTP_TLS="none",
        MAIL_FROM="service@example.com",
        WORKER_HOST=LOOPBACK,
        WORKER_PORT=str(port),
        **variables,
    )
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.worker"],
            cwd=PROJECT_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    running = WorkerProcess(f"http://{LOOPBACK}:{port}", process, log)
    try:
        deadline = time.monotonic() + PATIENCE_SECONDS
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(f"{running.url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                pytest.fail("the worker did not stop within 15 s of SIGTERM")


def wait_until(
    condition: Callable[[], bool], what: str, patience: float = PATIENCE_SECONDS
) -> None:
    deadline = time.monotonic() + patience
    while not condition():
        assert time.monotonic() < deadline, f"not within {patience} s: {what}"
        time.sleep(0.1)
