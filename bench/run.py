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
"""

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from copier import run_copy

from bench import data, load, mail, processes
from bench.load import Result, Target, median_result, row
from tests.support.commands import run
from tests.support.databases import (
    ADMIN_DATABASE_URL,
    create_database,
    database_url,
    drop_database,
    psql,
)
from tests.support.environment import TEMPLATE_ROOT, InstalledProject
from tests.support.service_processes import (
    Service,
    production_settings,
    random_secret_key,
    start_production,
    stop,
    wait_until_live,
)

RAISED_LIMIT = "100000000/minute"
POOL_SIZE = 20  # the rendered DB_POOL_SIZE default
USERS = 1000  # bench users with a real cost-12 hash, the refresh tokens spread over them
HASH_CODE = """
import statistics, sys, time
from app.core.security import _hash_password_sync, _verify_password_sync
hashed = _hash_password_sync(sys.argv[1], 12)
times = []
for _ in range(5):
    started = time.perf_counter()
    _verify_password_sync(sys.argv[1], hashed)
    times.append(time.perf_counter() - started)
print(hashed)
print(statistics.median(times))
"""


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

    def check(self, label: str, value: float, relation: str, limit: float) -> None:
        met = value >= limit if relation == ">=" else value <= limit
        mark = "met" if met else "NOT MET"
        self.say(f"  {label:<50} {value:>7.2f}  (target {relation} {limit:g})  {mark}")

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

    project, copy_seconds = install(bench.folder / "service")

    database = create_database()
    cleanup.callback(drop_database, database)
    hashed, hash_seconds = project.run(
        "uv", "run", "python", "-c", HASH_CODE, data.PASSWORD
    ).stdout.split()
    secret = random_secret_key()
    limits = {
        f"RATE_LIMIT_{name}": RAISED_LIMIT
        for name in (
            "LOGIN",
            "LOGIN_ACCOUNT",
            "LOGOUT",
            "REFRESH",
            "SIGNUP",
            "PASSWORD_CHECK",
            "EMAIL_REQUEST",
            "EMAIL_PER_ACCOUNT",
        )
    }
    # Named for both: the raw app checks the same issuer and audience.
    identity = {"JWT_ISSUER": "bench-service", "JWT_AUDIENCE": "bench-service:production"}
    overrides = {**limits, **identity}
    ours = start_production(project, bench.folder / "ours.log", database, secret, **overrides)
    cleanup.callback(stop, ours.process)
    wait_until_live(ours)
    data.add_users(database, USERS, "bench-", hashed)
    data.make_superuser(database, "bench-1@example.com")
    tokens = {}
    for name, email in (("admin", "bench-1@example.com"), ("user", "bench-2@example.com")):
        response = httpx.post(
            f"{ours.url}/api/v1/auth/token",
            data={"username": email, "password": data.PASSWORD},
            timeout=30,
        )
        response.raise_for_status()
        tokens[name] = response.json()["access_token"]
    # The raw app's pool is as large as the service's default DB_POOL_SIZE.
    baseline_settings = {
        "DATABASE_URL": database_url(database),
        "SECRET_KEY": secret,
        "POOL_SIZE": str(POOL_SIZE),
        **identity,
    }
    baselines = {}
    for module, access_log in (("bare", True), ("bare", False), ("raw", True), ("raw", False)):
        name = module if access_log else f"{module}-quiet"
        settings = baseline_settings if module == "raw" else {}
        baselines[name] = processes.start_baseline(
            project, module, bench.folder / f"{name}.log", access_log=access_log, **settings
        )
        cleanup.callback(stop, baselines[name].process)
    bare, raw = baselines["bare"], baselines["raw"]

    me = Target("/api/v1/users/me", headers=(("Authorization", f"Bearer {tokens['user']}"),))
    live = Target("/health/live")
    login_form = f"username=bench-2@example.com&password={data.PASSWORD.replace(' ', '+')}"
    login = Target(
        "/api/v1/auth/token",
        method="POST",
        body=login_form,
        content_type="application/x-www-form-urlencoded",
    )
    admin_list = Target(
        "/api/v1/users?limit=50", headers=(("Authorization", f"Bearer {tokens['admin']}"),)
    )
    worker = processes.server_pid(ours.process)

    if not arguments.smoke:  # warm-up: imports, caches, the pools' connections
        for service, target in ((ours, me), (raw, me), (ours, live), (bare, live)):
            load.run(service.url, target, connections=8, seconds=2, folder=bench.folder, name="w")
    rss_warm = processes.resident_mebibytes(worker)

    say("Small tables (1,000 users)")
    me_ratio = compare(bench, "GET /users/me, 32 connections", ours, raw, me, 32)
    me_quiet = compare(
        bench, "GET /users/me, baseline without a log", ours, baselines["raw-quiet"], me, 32
    )
    live_ratio = compare(bench, "GET /health/live, 32 connections", ours, bare, live, 32)
    live_quiet = compare(
        bench, "GET /health/live, baseline without a log", ours, baselines["bare-quiet"], live, 32
    )
    per_round = max(2_000, int(4_000 * bench.seconds))  # more tokens than a round can refresh

    def refresh_target() -> Target:
        bodies = data.issue_refresh_tokens(database, per_round, "bench-", bench.folder)
        return Target("/api/v1/auth/refresh", method="POST", bodies=bodies)

    refresh_quiet = compare(
        bench,
        "POST /auth/refresh, 32 connections, baseline without a log",
        ours,
        baselines["raw-quiet"],
        refresh_target,
        32,
    )
    if arguments.before:
        # Now and then on equal terms: each on a fresh database with its one user signed up
        # through its API (ours above has a thousand users and the refresh rounds' tokens).
        # Both stop after it: their pools would count against PostgreSQL's max_connections
        # (100 by default) beside the others'.
        before_project, _ = install(bench.folder / "before", ref=arguments.before)
        warm_up = not arguments.smoke
        with ExitStack() as pair:
            now, me_now = start_fresh(bench, project, "now", secret, limits, pair, warm_up)
            before, me_before = start_fresh(
                bench, before_project, "before", secret, limits, pair, warm_up
            )
            # Two services of nearly the same speed: the host's drift is as large as what is
            # measured, so this comparison takes three times the rounds, each a third as long.
            now_and_then = compare(
                bench,
                f"GET /users/me, now and at {arguments.before}",
                now,
                before,
                me_now,
                32,
                me_before,
                finer=3,
            )
    small = solo_figures(bench, ours, me, login, admin_list, database, "small")
    quiet, busy, logins = during_logins(bench, ours, me, login)

    say()
    # The job worker gets the service's own settings; the phase points its SMTP at a sink.
    service_settings = production_settings(database, secret, **overrides)
    mailing = mail.measure(bench, project, ours, service_settings, USERS)

    say()
    say(f"Big tables ({arguments.big:,} more users and refresh tokens, bulk-loaded)")
    loaded = time.monotonic()
    data.add_users(database, arguments.big, "bulk-", hashed)
    data.add_dead_weight_tokens(database, arguments.big, "bulk-")
    psql("VACUUM ANALYZE", database)
    say(f"  loaded in {time.monotonic() - loaded:.1f} s")
    big = solo_figures(bench, ours, me, login, admin_list, database, "big")
    total = data.count_rows(database, "user_account")
    # The last page starts after the 51st id from the end.
    before_last = psql(
        f"SELECT id FROM user_account ORDER BY id OFFSET {max(0, total - 51)} LIMIT 1", database
    ).strip()
    last_page = Target(
        f"/api/v1/users?limit=50&after={before_last}",
        headers=(("Authorization", f"Bearer {tokens['admin']}"),),
    )
    first = median_result([bench.measure(ours, admin_list, 32, "first") for _ in bench.each])
    last = median_result([bench.measure(ours, last_page, 32, "last") for _ in bench.each])
    say(row("admin list, first page", first))
    say(row(f"admin list, last page (after user {total - 51:,})", last))
    rss_end = processes.resident_mebibytes(worker)
    # The rendered suite opens connections of its own: the other services' pools (20 each)
    # give theirs back first, or PostgreSQL's 100 run out.
    for service in [*baselines.values(), *([before] if arguments.before else [])]:
        stop(service.process)

    say()
    say("Memory of the worker")
    say(f"  after warm-up {rss_warm:.1f} MiB, after the run {rss_end:.1f} MiB")
    timings = [f"copier copy {copy_seconds:.1f} s"]
    if not arguments.smoke:
        started = time.monotonic()
        project.run("uv", "run", "pytest", "-q", TEST_DATABASE_URL=ADMIN_DATABASE_URL)
        timings.append(f"rendered suite on PostgreSQL {time.monotonic() - started:.1f} s")
    if arguments.with_ci:
        started = time.monotonic()
        run(["bash", ".ci/run"], cwd=TEMPLATE_ROOT, env=os.environ | {"CI": "true"}, timeout=3600)
        timings.append(f".ci/run {time.monotonic() - started:.0f} s")
    say()
    say("Times")
    say("  " + "; ".join(timings))

    hash_time = float(hash_seconds)
    say()
    say("Targets (ratios from this run)")
    check = bench.check
    check("/users/me requests/s, ours / raw app", me_ratio[0], ">=", 0.6)
    check("/users/me p99, ours / raw app", me_ratio[1], "<=", 1.5)
    check("/users/me requests/s, ours / raw app without a log", me_quiet[0], ">=", 0.6)
    check("/health/live requests/s, ours / bare app", live_ratio[0], ">=", 0.8)
    check("/health/live requests/s, ours / bare app without a log", live_quiet[0], ">=", 0.6)
    check("/auth/refresh requests/s, ours / raw asyncpg, no log", refresh_quiet[0], ">=", 0.5)
    if arguments.before:
        check(f"/users/me requests/s, now / at {arguments.before}", now_and_then[0], ">=", 0.95)
    check("/users/me p50, during 8 logins / quiet", busy.p50_ms / quiet.p50_ms, "<=", 5)
    bound = 0.85 * processes.cores() / hash_time
    say(f"  (one hash takes {hash_time * 1000:.0f} ms: 0.85 x cores / hash = {bound:.1f}/s)")
    alone = small["POST /auth/token"].requests_per_second
    check("logins/s alone / (0.85 x cores / hash time)", alone / bound, ">=", 1)
    check(
        "logins/s beside /users/me / (0.85 x cores / ...)",
        logins.requests_per_second / bound,
        ">=",
        1,
    )
    for name in small:
        ratio = small[name].requests_per_second / big[name].requests_per_second
        check(f"{name} requests/s, small / big tables", ratio, "<=", 1.2)
    check(
        "admin list requests/s, first / last page",
        first.requests_per_second / last.requests_per_second,
        "<=",
        2,
    )
    check("worker memory, after the run / after warm-up", rss_end / rss_warm, "<=", 1.25)
    check(
        "reset e-mail p99 s, 202 to SMTP, bursts (absolute)",
        mail.percentile(mailing.burst_delays, 99),
        "<=",
        mail.GOAL_P99_SECONDS,
    )
    non_2xx = sum(result.non_2xx + result.errors for result in bench.results)
    check("answers that were not 2xx, or failed", non_2xx, "<=", 0)


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
    limits: dict[str, str],
    cleanup: ExitStack,
    warm_up: bool,
) -> tuple[Service, Target]:
    """`project` deployed on a database of its own, with one user signed up and logged in
    through its API (and warmed up, as the others); and that user's /users/me."""
    database = create_database()
    cleanup.callback(drop_database, database)
    service = start_production(project, bench.folder / f"{name}.log", database, secret, **limits)
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
        load.run(service.url, me, connections=8, seconds=2, folder=bench.folder, name=f"w-{name}")
    return service, me


def solo_figures(
    bench: Bench,
    ours: Service,
    me: Target,
    login: Target,
    admin_list: Target,
    database: str,
    size: str,
) -> dict[str, Result]:
    """/users/me, login, refresh and the admin list, ours alone."""
    per_round = max(2_000, int(4_000 * bench.seconds))  # more tokens than a round can refresh
    figures = {}
    for name, connections, make_target in (
        ("GET /users/me", 32, lambda: me),
        ("POST /auth/token", 8, lambda: login),
        (
            "POST /auth/refresh",
            32,
            lambda: Target(
                "/api/v1/auth/refresh",
                method="POST",
                bodies=data.issue_refresh_tokens(database, per_round, "bench-", bench.folder),
            ),
        ),
        ("GET /users?limit=50 (superuser)", 32, lambda: admin_list),
    ):
        results = [
            bench.measure(ours, make_target(), connections, f"{size}-{len(figures)}")
            for _ in bench.each
        ]
        figures[name] = median_result(results)
        bench.say(row(f"{name}, {connections} connections", figures[name]))
    return figures


def during_logins(
    bench: Bench, ours: Service, me: Target, login: Target
) -> tuple[Result, Result, Result]:
    """/users/me at one connection, quiet and while 8 connections log in."""
    quiet = median_result([bench.measure(ours, me, 1, "quiet") for _ in bench.each])
    busy, logins = [], []
    for _ in bench.each:
        logging_in = load.start(
            ours.url,
            login,
            connections=8,
            seconds=bench.seconds,
            folder=bench.folder,
            name="logins",
        )
        busy.append(bench.measure(ours, me, 1, "busy"))
        logins.append(load.finish(logging_in))
    busy_result, login_result = median_result(busy), median_result(logins)
    bench.say(row("GET /users/me, 1 connection, quiet", quiet))
    bench.say(row("GET /users/me, 1 connection, 8 logging in", busy_result))
    bench.say(row("  the logins meanwhile", login_result))
    return quiet, busy_result, login_result


if __name__ == "__main__":
    main()
