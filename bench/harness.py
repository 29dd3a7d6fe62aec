"""The bench's harness: a run's settings and results, the template rendered and installed,
services deployed on databases of their own, and ours measured beside a baseline in pairs.
The scenarios (bench/scenarios.py, bench/mail.py) and the tracing bench are built on it."""

import os
import statistics
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from copier import run_copy

from bench import data, load
from bench.goals import Goal
from bench.load import Result, Target, median_result, row
from tests.support.databases import create_database, drop_database
from tests.support.environment import TEMPLATE_ROOT, InstalledProject
from tests.support.service_processes import Service, start_production, stop, wait_until_live

# The rate limits, raised through settings for the bench only (it says so when it starts).
RAISED_LIMIT = "100000000/minute"


@dataclass
class Bench:
    folder: Path
    seconds: float
    rounds: int
    results: list[Result] = field(default_factory=list)

    @property
    def each(self) -> range:
        return range(self.rounds)

    def say(self, line: str = "") -> None:
        print(line, flush=True)

    def check(self, goal: Goal, value: float) -> None:
        mark = "met" if goal.met(value) else "NOT MET"
        self.say(f"  {goal.label:<60} {value:>7.2f}  (target {goal.stated})  {mark}")

    def measure(
        self,
        service: Service,
        target: Target,
        connections: int,
        name: str,
        seconds: float | None = None,
    ) -> Result:
        result = load.run(
            service.url,
            target,
            connections=connections,
            seconds=seconds or self.seconds,
            folder=self.folder,
            name=name,
        )
        self.results.append(result)
        return result

    def warm_up(self, service: Service, target: Target, name: str = "w") -> None:
        """Imports, caches, the pools' connections: 2 s of load, measured by nobody."""
        load.run(service.url, target, connections=8, seconds=2, folder=self.folder, name=name)

    def failures(self) -> int:
        """Answers of every measurement so far that were not 2xx, or failed."""
        return sum(result.non_2xx + result.errors for result in self.results)


def install(destination: Path, ref: str = "HEAD", **answers: str) -> tuple[InstalledProject, float]:
    """The template's working tree (uncommitted changes included), or the template at `ref`,
    rendered with `answers` and synced from its lock; with the seconds `copier copy` took."""
    started = time.monotonic()
    run_copy(
        str(TEMPLATE_ROOT),
        str(destination),
        data=answers,
        defaults=True,
        unsafe=True,
        quiet=True,
        vcs_ref=ref,
    )
    copy_seconds = time.monotonic() - started
    cache = Path(os.environ.get("UV_CACHE_DIR", Path.home() / ".cache/uv"))
    project = InstalledProject(destination, cache)
    project.run("uv", "sync", "--frozen")
    return project, copy_seconds


# A target, or what makes a fresh one for each measurement (tokens that a request uses up).
Targets = Target | Callable[[], Target]


def compare(
    bench: Bench,
    label: str,
    ours: Service,
    baseline: Service,
    target: Targets,
    connections: int,
    baseline_target: Targets | None = None,
    finer: int = 1,
) -> tuple[float, float]:
    """Ours and the baseline in pairs, `finer` times the bench's rounds, each `finer` times
    shorter; the median over the pairs of each pair's ratio of requests/s, and the ratio
    of the median p99s. The pairs run in turn ours-first and baseline-first, and a pair's
    two runs are adjacent in time, so the host's drift cancels instead of landing on one
    side. The baseline gets `baseline_target` when it needs its own (another service's
    token)."""

    def fresh(targets: Targets) -> Target:
        return targets if isinstance(targets, Target) else targets()

    seconds = max(1.0, bench.seconds / finer)
    mine: list[Result] = []
    theirs: list[Result] = []
    sides = [(mine, ours, target, "ours"), (theirs, baseline, baseline_target or target, "base")]
    for turn in range(bench.rounds * finer):
        for results, service, targets, name in sides if turn % 2 == 0 else sides[::-1]:
            results.append(bench.measure(service, fresh(targets), connections, name, seconds))
    ours_result, base_result = median_result(mine), median_result(theirs)
    bench.say(row(f"{label}, ours", ours_result))
    bench.say(row(f"{label}, baseline", base_result))
    rate = statistics.median(
        m.requests_per_second / t.requests_per_second for m, t in zip(mine, theirs, strict=True)
    )
    tail = ours_result.p99_ms / base_result.p99_ms
    bench.say(
        f"  {'':<44} ratio {rate:.2f}x requests/s (median of {len(mine)} pairs), {tail:.2f}x p99"
    )
    return rate, tail


def start_fresh(
    bench: Bench,
    project: InstalledProject,
    name: str,
    secret: str,
    settings: dict[str, str],
    cleanup: ExitStack,
    warm_up: bool,
) -> tuple[Service, Target]:
    """`project` deployed on a database of its own, with one user signed up and logged in
    through its API (and warmed up, as the others); and that user's /users/me."""
    database = create_database()
    cleanup.callback(drop_database, database)
    service = start_production(project, bench.folder / f"{name}.log", database, secret, **settings)
    cleanup.callback(stop, service.process)
    wait_until_live(service)
    user = {"username": f"{name}@example.com", "password": data.PASSWORD}
    signup = httpx.post(
        f"{service.url}/api/v1/users",
        json={"email": user["username"], "password": user["password"]},
        timeout=30,
    )
    signup.raise_for_status()
    login = httpx.post(f"{service.url}/api/v1/auth/token", data=user, timeout=30)
    login.raise_for_status()
    token = login.json()["access_token"]
    me = Target("/api/v1/users/me", headers=(("Authorization", f"Bearer {token}"),))
    if warm_up:
        bench.warm_up(service, me, f"w-{name}")
    return service, me
