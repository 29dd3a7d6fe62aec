"""The scenarios of `make bench`, in the order it runs them. Each measures the deployment
(bench/deployment.py) and returns its figures by the key of their goal (bench/goals.py)."""

import time
from contextlib import ExitStack

from bench import data, load, processes
from bench.deployment import Deployment
from bench.harness import Bench, compare, install, start_fresh
from bench.load import Result, Target, median_result, row
from tests.support.databases import psql

Figures = dict[str, float]


def refresh_tokens(bench: Bench, deployment: Deployment) -> Target:
    """Refreshes with tokens of their own: more than one round can use up."""
    per_round = max(2_000, int(4_000 * bench.seconds))
    bodies = data.issue_refresh_tokens(deployment.database, per_round, "bench-", bench.folder)
    return Target("/api/v1/auth/refresh", method="POST", bodies=bodies)


def against_baselines(bench: Bench, deployment: Deployment) -> Figures:
    """Ours beside the baseline doing the same work, with and without its access log."""
    ours, baselines = deployment.ours, deployment.baselines
    me, live = deployment.me, deployment.live
    me_ratio = compare(bench, "GET /users/me, 32 connections", ours, baselines["raw"], me, 32)
    me_quiet = compare(
        bench, "GET /users/me, baseline without a log", ours, baselines["raw-quiet"], me, 32
    )
    live_ratio = compare(
        bench, "GET /health/live, 32 connections", ours, baselines["bare"], live, 32
    )
    live_quiet = compare(
        bench, "GET /health/live, baseline without a log", ours, baselines["bare-quiet"], live, 32
    )
    refresh_quiet = compare(
        bench,
        "POST /auth/refresh, 32 connections, baseline without a log",
        ours,
        baselines["raw-quiet"],
        lambda: refresh_tokens(bench, deployment),
        32,
    )
    return {
        "me": me_ratio[0],
        "me_p99": me_ratio[1],
        "me_quiet": me_quiet[0],
        "live": live_ratio[0],
        "live_quiet": live_quiet[0],
        "refresh_quiet": refresh_quiet[0],
    }


def now_and_then(bench: Bench, deployment: Deployment, ref: str, warm_up: bool) -> Figures:
    """/users/me now and with the template at `ref`, on equal terms: each on a fresh
    database with its one user signed up through its API (ours of the other scenarios has a
    thousand users and the refresh rounds' tokens). Both stop after it: their pools would
    count against PostgreSQL's max_connections (100 by default) beside the others'."""
    before_project, _ = install(bench.folder / "before", ref=ref)
    secret, limits = deployment.secret, deployment.limits
    with ExitStack() as pair:
        now, me_now = start_fresh(bench, deployment.project, "now", secret, limits, pair, warm_up)
        before, me_before = start_fresh(
            bench, before_project, "before", secret, limits, pair, warm_up
        )
        # Two services of nearly the same speed: the host's drift is as large as what is
        # measured, so this comparison takes three times the rounds, each a third as long.
        ratio = compare(
            bench, f"GET /users/me, now and at {ref}", now, before, me_now, 32, me_before, finer=3
        )
    return {"now_and_then": ratio[0]}


def alone(bench: Bench, deployment: Deployment, size: str) -> dict[str, Result]:
    """/users/me, login, refresh and the admin list, ours alone."""
    figures = {}
    for name, connections, make_target in (
        ("GET /users/me", 32, lambda: deployment.me),
        ("POST /auth/token", 8, lambda: deployment.login),
        ("POST /auth/refresh", 32, lambda: refresh_tokens(bench, deployment)),
        ("GET /users?limit=50 (superuser)", 32, lambda: deployment.admin_list),
    ):
        results = [
            bench.measure(deployment.ours, make_target(), connections, f"{size}-{len(figures)}")
            for _ in bench.each
        ]
        figures[name] = median_result(results)
        bench.say(row(f"{name}, {connections} connections", figures[name]))
    return figures


def login_bound(deployment: Deployment) -> float:
    """Logins a second the cores allow: bcrypt threads on each, less the event loop's share."""
    return 0.85 * processes.cores() / deployment.hash_seconds


def during_logins(bench: Bench, deployment: Deployment, small: dict[str, Result]) -> Figures:
    """/users/me at one connection, quiet and while 8 connections log in; the logins alone
    (of `small`) and meanwhile, against what the cores allow."""
    ours, me = deployment.ours, deployment.me
    quiet = median_result([bench.measure(ours, me, 1, "quiet") for _ in bench.each])
    busy, logins = [], []
    for _ in bench.each:
        logging_in = load.start(
            ours.url,
            deployment.login,
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
    bound = login_bound(deployment)
    bench.say(
        f"  (one hash takes {deployment.hash_seconds * 1000:.0f} ms:"
        f" 0.85 x cores / hash = {bound:.1f}/s)"
    )
    return {
        "busy": busy_result.p50_ms / quiet.p50_ms,
        "logins": small["POST /auth/token"].requests_per_second / bound,
        "logins_busy": login_result.requests_per_second / bound,
    }


def big_tables(
    bench: Bench, deployment: Deployment, rows: int, small: dict[str, Result]
) -> Figures:
    """The same routes once the tables hold `rows` more users and refresh tokens, and the
    admin list's last page against its first."""
    database = deployment.database
    loaded = time.monotonic()
    data.add_users(database, rows, "bulk-", deployment.hashed)
    data.add_dead_weight_tokens(database, rows, "bulk-")
    psql("VACUUM ANALYZE", database)
    bench.say(f"  loaded in {time.monotonic() - loaded:.1f} s")
    big = alone(bench, deployment, "big")
    worst = 0.0
    for name in small:
        ratio = small[name].requests_per_second / big[name].requests_per_second
        bench.say(f"  {name + ', small / big tables':<44} {ratio:.2f}x requests/s")
        worst = max(worst, ratio)
    total = data.count_rows(database, "user_account")
    # The last page starts after the 51st id from the end.
    before_last = psql(
        f"SELECT id FROM user_account ORDER BY id OFFSET {max(0, total - 51)} LIMIT 1", database
    ).strip()
    last_page = Target(
        f"/api/v1/users?limit=50&after={before_last}",
        headers=(("Authorization", f"Bearer {deployment.admin_token}"),),
    )
    ours = deployment.ours
    first = median_result(
        [bench.measure(ours, deployment.admin_list, 32, "first") for _ in bench.each]
    )
    last = median_result([bench.measure(ours, last_page, 32, "last") for _ in bench.each])
    bench.say(row("admin list, first page", first))
    bench.say(row(f"admin list, last page (after user {total - 51:,})", last))
    return {
        "big_tables": worst,
        "last_page": first.requests_per_second / last.requests_per_second,
    }
