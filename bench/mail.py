"""The bench's e-mail phase: password resets through the job queue to an SMTP sink.

The bench owns the sink (bench/smtp_sink.py, on loopback) and starts one worker of the
rendered project (`python -m app.worker`, the API's settings with SMTP pointed at the
sink) only while it needs one. Every job names one of the bench's users, so each is one
e-mail. Three measurements, one after the other:

- POST /auth/password-reset at 32 connections, no worker running: the requests alone,
  their jobs left queued;
- e-mails a second of one worker on a full queue (those jobs, topped up with the same
  jobs by bench/reset_jobs.py, so that it never runs dry), against as many sent straight
  by aiosmtplib from one process (bench/baselines/smtp_straight.py), in pairs as the
  other comparisons run: what the queue costs over raw SMTP;
- with one worker running on an empty queue, the time from a reset's 202 (sent once its
  job is committed) to the sink's acceptance of its e-mail: for bursts of 32 requests at
  once, each once the last is delivered (the figure the goal is stated for), then for 32
  connections asking without pause. In the second, if the API queues resets faster than
  the worker sends them, the queue grows and the delays with it, the longer the run the
  more: the resets/s beside the e-mails/s meanwhile tell whether it kept up.
"""

import asyncio
import bisect
import itertools
import math
import statistics
import subprocess
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from bench.load import Result, Target, median_result, row
from tests.support.environment import InstalledProject
from tests.support.service_processes import STARTUP_TIMEOUT, Service, free_port, start, stop

if TYPE_CHECKING:
    from bench.harness import Bench

BENCH = Path(__file__).resolve().parent
RESET = "/api/v1/auth/password-reset"
CONNECTIONS = 32
# E-mails not accepted this long after the last was due are a failure, not a figure.
DELIVERY_TIMEOUT = 30.0
# Jobs queued before each worker run: more than one worker sends in the bench's seconds
# (raw SMTP alone, a connection a message, sends a few hundred a second here).
FULL_QUEUE_PER_SECOND = 1000


@dataclass(frozen=True)
class Arrival:
    """A message the sink accepted: when (the machine's monotonic clock) and for whom."""

    at: float
    recipients: tuple[str, ...]


@dataclass(frozen=True)
class Nonstop:
    requests_per_second: float
    emails_per_second: float  # while the requests ran
    delays: list[float]  # seconds, one per e-mail


@dataclass(frozen=True)
class MailFigures:
    requests: Result
    worker_rate: float
    straight_rate: float
    burst_delays: list[float]  # seconds, one per e-mail
    nonstop: Nonstop


class Sink:
    """bench/smtp_sink.py, run by the rendered project's Python; what it accepts, as it goes."""

    def __init__(self, project: InstalledProject, log: Path) -> None:
        self.port = free_port()
        self.log = log
        # In the order the sink accepted them, so in the order of their times.
        self.arrivals: list[Arrival] = []
        self._times: list[float] = []
        self._changed = threading.Condition()
        self._ready = False
        self._ended = False
        with log.open("wb") as errors:
            self.process = subprocess.Popen(
                [
                    str(project.path / ".venv/bin/python"),
                    str(BENCH / "smtp_sink.py"),
                    str(self.port),
                ],
                env=project.env(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=errors,
                start_new_session=True,
            )
        threading.Thread(target=self._read, daemon=True).start()
        if not self._wait(lambda: self._ready, STARTUP_TIMEOUT):
            self.stop()
            raise RuntimeError(f"the SMTP sink did not start:\n{log.read_text()}")

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            words = line.decode().split()
            with self._changed:
                if words == ["ready"]:
                    self._ready = True
                else:
                    self.arrivals.append(Arrival(float(words[0]), tuple(words[1:])))
                    self._times.append(float(words[0]))
                self._changed.notify_all()
        with self._changed:
            self._ended = True
            self._changed.notify_all()

    def _wait(self, condition: Callable[[], bool], timeout: float) -> bool:
        with self._changed:
            self._changed.wait_for(lambda: self._ended or condition(), timeout)
            return condition()

    def _first_since(self, moment: float) -> int:
        return bisect.bisect_left(self._times, moment)

    def since(self, moment: float) -> list[Arrival]:
        with self._changed:
            return self.arrivals[self._first_since(moment) :]

    def wait_for_count(self, count: int, since: float, timeout: float) -> list[Arrival]:
        """The first `count` messages accepted at or after `since`, once they are in."""
        if not self._wait(lambda: len(self._times) - self._first_since(since) >= count, timeout):
            got = len(self.since(since))
            raise RuntimeError(f"the sink accepted {got} of {count} e-mails in {timeout:g} s")
        return self.since(since)[:count]

    def stop(self) -> None:
        stop(self.process)


def percentile(values: list[float], percent: float) -> float:
    """The nearest-rank percentile: a value that was measured."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(percent / 100 * len(ordered)) - 1)]


def rate(arrivals: list[Arrival]) -> float:
    """Messages a second from the first acceptance to the last."""
    if len(arrivals) < 2:
        raise RuntimeError(f"{len(arrivals)} e-mails: too few for a rate")
    return (len(arrivals) - 1) / (arrivals[-1].at - arrivals[0].at)


def start_worker(
    project: InstalledProject, settings: dict[str, str], log: Path
) -> subprocess.Popen[bytes]:
    """One worker, once its /health says it has read the queue."""
    port = free_port()
    process = start(
        project,
        log,
        ("python", "-m", "app.worker"),
        **settings,
        WORKER_HOST="127.0.0.1",
        WORKER_PORT=str(port),
    )
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline and process.poll() is None:
        try:
            health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
            if health.status_code == 200 and health.json()["queue"] == "reachable":
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    stop(process)
    raise RuntimeError(f"the worker did not read the queue:\n{log.read_text()}")


def stop_worker(process: subprocess.Popen[bytes], log: Path) -> None:
    """SIGTERM: the worker takes no new job, finishes those in hand and exits 0."""
    stop(process)
    if process.returncode != 0:
        raise RuntimeError(f"the worker exited {process.returncode} on SIGTERM:\n{log.read_text()}")


def measure(
    bench: "Bench",
    project: InstalledProject,
    ours: Service,
    settings: dict[str, str],
    users: int,
) -> MailFigures:
    """The phase, with `settings` the API's own and the bench's `users` as recipients."""
    say = bench.say
    say("E-mail (password resets, one worker, an SMTP sink on loopback)")
    addresses = [f"bench-{number}@example.com" for number in range(1, users + 1)]
    sink = Sink(project, bench.folder / "smtp-sink.log")
    try:
        worker_settings = {
            **settings,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(sink.port),
            "SMTP_TLS": "none",
        }
        bodies = bench.folder / "reset-bodies.txt"
        bodies.write_text("".join(f'{{"email": "{address}"}}\n' for address in addresses))
        target = Target(RESET, method="POST", bodies=bodies)
        requests = median_result(
            [bench.measure(ours, target, CONNECTIONS, "reset") for _ in bench.each]
        )
        say(row(f"POST /auth/password-reset, {CONNECTIONS} connections", requests))
        queued = reset_jobs(project, settings, "fill", "0", str(users))
        say(f"  {'':<44} {queued:,} jobs queued, no worker running")

        worker_rate, straight_rate = sending_rates(bench, project, worker_settings, sink, users)
        left = reset_jobs(project, settings, "clear")  # they would be sent to no purpose
        say(f"  {'':<44} {left:,} jobs left in the queue, dropped")

        log = bench.folder / "worker-delays.log"
        worker = start_worker(project, worker_settings, log)
        try:
            seconds = bench.rounds * bench.seconds
            in_bursts = asyncio.run(bursts(ours.url, sink, addresses, seconds))
            nonstop = asyncio.run(without_pause(ours.url, sink, addresses, seconds))
        finally:
            stop_worker(worker, log)
    finally:
        sink.stop()
    say(
        f"  {f'202 to acceptance, bursts of {CONNECTIONS}':<44}"
        f" p50 {percentile(in_bursts, 50) * 1000:>7.1f} ms"
        f"  p99 {percentile(in_bursts, 99) * 1000:>7.1f} ms  ({len(in_bursts)} e-mails)"
    )
    say(
        f"  {f'202 to acceptance, {CONNECTIONS} connections nonstop':<44}"
        f" p50 {percentile(nonstop.delays, 50) * 1000:>7.1f} ms"
        f"  p99 {percentile(nonstop.delays, 99) * 1000:>7.1f} ms  ({len(nonstop.delays)} e-mails;"
        f" resets {nonstop.requests_per_second:.0f}/s, e-mails {nonstop.emails_per_second:.0f}/s)"
    )
    return MailFigures(requests, worker_rate, straight_rate, in_bursts, nonstop)


def in_project(
    project: InstalledProject, script: str, *arguments: str, settings: dict[str, str]
) -> str:
    """A script of bench/ run by the rendered project's Python, its app importable; its
    output."""
    return project.run(
        str(project.path / ".venv/bin/python"),
        str(BENCH / script),
        *arguments,
        PYTHONPATH=str(project.path),
        **settings,
    ).stdout


def reset_jobs(project: InstalledProject, settings: dict[str, str], *arguments: str) -> int:
    """bench/reset_jobs.py: fill the queue, or clear it; how many jobs it held then."""
    return int(in_project(project, "reset_jobs.py", *arguments, settings=settings))


def sending_rates(
    bench: "Bench", project: InstalledProject, settings: dict[str, str], sink: Sink, users: int
) -> tuple[float, float]:
    """One worker on a full queue, then as many e-mails straight, in pairs taken in turn
    worker-first and straight-first; the median rates. The first worker sends for the
    bench's seconds, and what it sent is the count of every later run, on either side."""
    count = 0  # until the first worker has sent
    worker_rates: list[float] = []
    straight_rates: list[float] = []
    for turn in range(bench.rounds):
        worker_first = turn % 2 == 0
        if not worker_first:
            straight_rates.append(rate(send_straight(project, settings, sink, count, users)))
        sent = worker_run(bench, project, settings, sink, users, f"worker-{turn}", count)
        count = count or len(sent)
        worker_rates.append(rate(sent))
        if worker_first:
            straight_rates.append(rate(send_straight(project, settings, sink, count, users)))
    ratios = [mine / theirs for mine, theirs in zip(worker_rates, straight_rates, strict=True)]
    worker_rate, straight_rate = statistics.median(worker_rates), statistics.median(straight_rates)
    bench.say(
        f"  {f'e-mails/s, one worker, {count:,} from a full queue':<44} {worker_rate:>9.0f}/s"
    )
    bench.say(f"  {'e-mails/s, as many straight by aiosmtplib':<44} {straight_rate:>9.0f}/s")
    bench.say(
        f"  {'':<44} ratio {statistics.median(ratios):.2f}x e-mails/s"
        f" (median of {len(ratios)} pairs)"
    )
    return worker_rate, straight_rate


def worker_run(
    bench: "Bench",
    project: InstalledProject,
    settings: dict[str, str],
    sink: Sink,
    users: int,
    name: str,
    count: int,
) -> list[Arrival]:
    """A worker started on a full queue, then stopped: its first `count` e-mails, or with
    no count, those it sent in the bench's seconds from its first."""
    full = max(count, FULL_QUEUE_PER_SECOND * math.ceil(bench.seconds))
    reset_jobs(project, settings, "fill", str(full), str(users))
    log = bench.folder / f"{name}.log"
    started = time.monotonic()
    worker = start_worker(project, settings, log)
    try:
        if count:
            return sink.wait_for_count(count, started, STARTUP_TIMEOUT + 10 * bench.seconds)
        first = sink.wait_for_count(1, started, STARTUP_TIMEOUT)[0]
        end = first.at + bench.seconds
        time.sleep(max(0.0, end - time.monotonic()))
        return [arrival for arrival in sink.since(started) if arrival.at <= end]
    finally:
        stop_worker(worker, log)


def send_straight(
    project: InstalledProject, settings: dict[str, str], sink: Sink, count: int, users: int
) -> list[Arrival]:
    """`count` e-mails sent by bench/baselines/smtp_straight.py; what the sink accepted."""
    started = time.monotonic()
    in_project(project, "baselines/smtp_straight.py", str(count), str(users), settings=settings)
    return sink.wait_for_count(count, started, DELIVERY_TIMEOUT)


def delays(answered: dict[str, list[float]], arrivals: list[Arrival]) -> list[float]:
    """For each e-mail, the seconds from its request's 202 to its acceptance: the k-th
    e-mail to an address answers the k-th request for it (the addresses come in turn, so
    two requests for one address are hundreds of jobs apart)."""
    accepted: dict[str, list[float]] = defaultdict(list)
    for arrival in arrivals:
        for recipient in arrival.recipients:
            accepted[recipient].append(arrival.at)
    return [
        at - answer
        for address, answers in answered.items()
        for answer, at in zip(answers, accepted[address], strict=True)
    ]


async def reset(client: httpx.AsyncClient, address: str, answered: dict[str, list[float]]) -> None:
    """Ask for a reset of `address` and note when its 202 came."""
    response = await client.post(RESET, json={"email": address})
    if response.status_code != 202:
        raise RuntimeError(f"reset: {response.status_code} {response.text}")
    answered[address].append(time.monotonic())


def client(url: str) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
    return httpx.AsyncClient(base_url=url, limits=limits, timeout=10)


async def bursts(url: str, sink: Sink, addresses: list[str], seconds: float) -> list[float]:
    """Bursts of 32 resets at once, each once the sink has every e-mail of the last, for
    `seconds` (one burst at least): the delays of their e-mails."""
    recipients = itertools.cycle(addresses)
    measured: list[float] = []
    deadline = time.monotonic() + seconds
    async with client(url) as http:
        while not measured or time.monotonic() < deadline:
            answered: dict[str, list[float]] = defaultdict(list)
            sent = time.monotonic()
            await asyncio.gather(
                *(reset(http, next(recipients), answered) for _ in range(CONNECTIONS))
            )
            arrivals = await asyncio.to_thread(
                sink.wait_for_count, CONNECTIONS, sent, DELIVERY_TIMEOUT
            )
            measured.extend(delays(answered, arrivals))
    return measured


async def without_pause(url: str, sink: Sink, addresses: list[str], seconds: float) -> Nonstop:
    """32 connections asking for resets for `seconds`, each as soon as its last was
    answered, while a worker sends: the rates, and the delays of every e-mail."""
    recipients = itertools.cycle(addresses)
    answered: dict[str, list[float]] = defaultdict(list)
    started = time.monotonic()
    deadline = started + seconds

    async with client(url) as http:

        async def ask() -> None:
            while time.monotonic() < deadline:
                await reset(http, next(recipients), answered)

        await asyncio.gather(*(ask() for _ in range(CONNECTIONS)))
    ended = time.monotonic()
    requests = sum(len(times) for times in answered.values())
    # A worker that fell behind sends the rest after the requests stop: it may take as long.
    arrivals = await asyncio.to_thread(
        sink.wait_for_count, requests, started, DELIVERY_TIMEOUT + 2 * seconds
    )
    meanwhile = sum(1 for arrival in arrivals if arrival.at <= ended)
    return Nonstop(
        requests_per_second=requests / (ended - started),
        emails_per_second=meanwhile / (ended - started),
        delays=delays(answered, arrivals),
    )
