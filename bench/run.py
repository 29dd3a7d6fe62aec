"""make bench: the rendered service beside baselines doing the same work, in one run.

It renders the default variant, boots it as deployed (scripts/start.sh, ENV=production,
one worker) against the real PostgreSQL, boots the two baselines of bench/baselines
beside it, each with uvicorn's default access log and without one, drives each with wrk,
alternating ours and the baseline over several rounds (the host's speed drifts), and
prints requests/s, p50, p99 and the ratios the targets of docs/performance.md are stated
in. Its e-mail phase (bench/mail.py) runs the service's job worker against an SMTP sink
on loopback: password resets, e-mails a second beside raw SMTP, and the time from a
reset's answer to its e-mail's acceptance. `--before REF` also boots the template as it
was at REF (a commit, a tag) and prints /users/me now against then, each on a fresh
database with one user. `--smoke` runs every step for a second, to prove the harness
works; its figures mean nothing.

The harness is bench/harness.py, what is deployed bench/deployment.py, the scenarios
bench/scenarios.py and bench/mail.py, and the targets bench/goals.py.
"""

import argparse
import os
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from bench import load, mail, processes, scenarios
from bench.deployment import USERS, deploy
from bench.goals import GOALS
from bench.harness import RAISED_LIMIT, Bench
from tests.support.commands import run
from tests.support.databases import ADMIN_DATABASE_URL
from tests.support.environment import TEMPLATE_ROOT
from tests.support.service_processes import production_settings, stop


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="every step for a second")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--big", type=int, default=1_000_000, help="rows of the big tables")
    parser.add_argument("--with-ci", action="store_true", help="time .ci/run too (16 min)")
    parser.add_argument(
        "--before", metavar="REF", help="compare /users/me with the template at REF"
    )
    arguments = parser.parse_args()
    if arguments.smoke:
        arguments.rounds, arguments.seconds, arguments.big = 1, 1, 2_000
    load.ensure_wrk()
    with tempfile.TemporaryDirectory(prefix="bench-") as folder, ExitStack() as cleanup:
        bench = Bench(Path(folder), arguments.seconds, arguments.rounds)
        run_bench(bench, arguments, cleanup)


def run_bench(bench: Bench, arguments: argparse.Namespace, cleanup: ExitStack) -> None:
    say = bench.say
    say(f"Machine: {processes.cores()} cores, {processes.cpu_model()}")
    say(f"Rounds: {bench.rounds} of {bench.seconds:g} s each, ours and baseline alternating")
    say(f"Rate limits raised for the bench only: RATE_LIMIT_*={RAISED_LIMIT}")
    say()
    deployment = deploy(bench, cleanup)
    ours = deployment.ours
    warm_up = not arguments.smoke
    if warm_up:
        raw, bare = deployment.baselines["raw"], deployment.baselines["bare"]
        for service, target in (
            (ours, deployment.me),
            (raw, deployment.me),
            (ours, deployment.live),
            (bare, deployment.live),
        ):
            bench.warm_up(service, target)
    rss_warm = processes.resident_mebibytes(deployment.worker)

    say(f"Small tables ({USERS:,} users)")
    figures = scenarios.against_baselines(bench, deployment)
    if arguments.before:
        figures |= scenarios.now_and_then(bench, deployment, arguments.before, warm_up)
    small = scenarios.alone(bench, deployment, "small")
    figures |= scenarios.during_logins(bench, deployment, small)

    say()
    # The job worker gets the service's own settings; the phase points its SMTP at a sink.
    service_settings = production_settings(
        deployment.database, deployment.secret, **deployment.settings
    )
    mailing = mail.measure(bench, deployment.project, ours, service_settings, USERS)
    figures["reset_mail"] = mail.percentile(mailing.burst_delays, 99)

    say()
    say(f"Big tables ({arguments.big:,} more users and refresh tokens, bulk-loaded)")
    figures |= scenarios.big_tables(bench, deployment, arguments.big, small)
    rss_end = processes.resident_mebibytes(deployment.worker)
    figures["memory"] = rss_end / rss_warm
    figures["failures"] = bench.failures()
    # The rendered suite opens connections of its own: the baselines' pools (20 each) give
    # theirs back first, or PostgreSQL's 100 run out.
    for service in deployment.baselines.values():
        stop(service.process)

    say()
    say("Memory of the worker")
    say(f"  after warm-up {rss_warm:.1f} MiB, after the run {rss_end:.1f} MiB")
    timings = [f"copier copy {deployment.copy_seconds:.1f} s"]
    if not arguments.smoke:
        started = time.monotonic()
        deployment.project.run("uv", "run", "pytest", "-q", TEST_DATABASE_URL=ADMIN_DATABASE_URL)
        timings.append(f"rendered suite on PostgreSQL {time.monotonic() - started:.1f} s")
    if arguments.with_ci:
        started = time.monotonic()
        run(["bash", ".ci/run"], cwd=TEMPLATE_ROOT, env=os.environ | {"CI": "true"}, timeout=3600)
        timings.append(f".ci/run {time.monotonic() - started:.0f} s")
    say()
    say("Times")
    say("  " + "; ".join(timings))

    say()
    say("Targets (ratios from this run)")
    for key, goal in GOALS.items():
        if key in figures:  # now_and_then only with --before
            bench.check(goal, figures[key])


if __name__ == "__main__":
    main()
