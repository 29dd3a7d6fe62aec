"""make bench-tracing: what the tracing option costs, in one run.

It renders the default variant and the one with tracing=opentelemetry, boots three
services as deployed against one database: the default, the traced render with no
endpoint (tracing installed but off: the promise is that this costs nothing), and the
traced render exporting every span to a receiver on loopback that discards them. wrk
drives them in turn over several rounds; the ratios to the default are the cost. The
receiver runs on the same cores as the service, so the exporting figure also pays for
the collector's side, which a real deployment runs elsewhere.
"""

import argparse
import tempfile
from contextlib import ExitStack
from pathlib import Path

import httpx

from bench import load
from bench.harness import RAISED_LIMIT, Bench, install
from bench.load import Target, median_result, row
from tests.support.databases import create_database, drop_database
from tests.support.environment import InstalledProject
from tests.support.otlp import otlp_receiver
from tests.support.service_processes import (
    Service,
    random_secret_key,
    start_production,
    stop,
    wait_until_live,
)

PASSWORD = "Bench passphrase of the tracing run"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.tracing", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="every step for a second")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10)
    arguments = parser.parse_args()
    if arguments.smoke:
        arguments.rounds, arguments.seconds = 1, 1
    load.ensure_wrk()
    with (
        tempfile.TemporaryDirectory(prefix="bench-tracing-") as folder,
        ExitStack() as cleanup,
    ):
        bench = Bench(Path(folder), arguments.seconds, arguments.rounds)
        run_bench(bench, cleanup, smoke=arguments.smoke)


def run_bench(bench: Bench, cleanup: ExitStack, smoke: bool) -> None:
    say = bench.say
    say(f"Rounds: {bench.rounds} of {bench.seconds:g} s each, the three services in turn")
    plain, _ = install(bench.folder / "plain")
    traced, _ = install(bench.folder / "traced", tracing="opentelemetry")
    database = create_database()
    cleanup.callback(drop_database, database)
    secret = random_secret_key()
    limits = {f"RATE_LIMIT_{name}": RAISED_LIMIT for name in ("LOGIN", "SIGNUP")}
    # Keeps nothing: a run exports hundreds of thousands of spans.
    endpoint = cleanup.enter_context(otlp_receiver(keep=False)).url

    def boot(name: str, project: InstalledProject, **settings: str) -> Service:
        log = bench.folder / f"{name}.log"
        service = start_production(project, log, database, secret, **limits, **settings)
        cleanup.callback(stop, service.process)
        wait_until_live(service)
        return service

    services = {
        "default render": boot("plain", plain),
        "tracing, no endpoint": boot("off", traced),
        "tracing, exporting": boot("on", traced, OTEL_EXPORTER_OTLP_ENDPOINT=endpoint),
    }
    first = services["default render"].url
    email = "bench-tracing@example.com"
    httpx.post(f"{first}/api/v1/users", json={"email": email, "password": PASSWORD}, timeout=30)
    answer = httpx.post(
        f"{first}/api/v1/auth/token", data={"username": email, "password": PASSWORD}, timeout=30
    )
    answer.raise_for_status()
    bearer = (("Authorization", f"Bearer {answer.json()['access_token']}"),)
    targets = {
        "GET /users/me": Target("/api/v1/users/me", headers=bearer),
        "GET /health/live": Target("/health/live"),
    }
    if not smoke:  # warm-up: imports, caches, the pools' connections
        for service in services.values():
            for target in targets.values():
                bench.warm_up(service, target)

    for label, target in targets.items():
        say()
        say(f"{label}, 32 connections")
        results: dict[str, list[load.Result]] = {name: [] for name in services}
        for _ in bench.each:
            for name, service in services.items():
                results[name].append(bench.measure(service, target, 32, name.split(",")[0]))
        medians = {name: median_result(runs) for name, runs in results.items()}
        for name, result in medians.items():
            say(row(name, result))
        base = medians["default render"]
        for name in list(services)[1:]:
            rate = medians[name].requests_per_second / base.requests_per_second
            tail = medians[name].p99_ms / base.p99_ms
            say(f"  {name + ' / default render':<44} {rate:.2f}x requests/s, {tail:.2f}x p99")
    say()
    say(f"Answers that were not 2xx, or failed: {bench.failures()}")


if __name__ == "__main__":
    main()
