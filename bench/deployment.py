"""What `make bench` measures: the rendered service deployed as in production on a database
of a thousand users, beside the baselines of bench/baselines/, and the requests it sends."""

from contextlib import ExitStack
from dataclasses import dataclass

import httpx

from bench import data, processes
from bench.harness import RAISED_LIMIT, Bench, install
from bench.load import Target
from tests.support.databases import create_database, database_url, drop_database
from tests.support.environment import InstalledProject
from tests.support.service_processes import (
    Service,
    random_secret_key,
    start_production,
    stop,
    wait_until_live,
)

POOL_SIZE = 20  # the rendered DB_POOL_SIZE default
USERS = 1000  # bench users with a real cost-12 hash, the refresh tokens spread over them
RATE_LIMITS = (
    "LOGIN",
    "LOGIN_ACCOUNT",
    "LOGOUT",
    "REFRESH",
    "SIGNUP",
    "PASSWORD_CHECK",
    "EMAIL_REQUEST",
    "EMAIL_PER_ACCOUNT",
)
# Named for both: the raw app checks the same issuer and audience.
IDENTITY = {"JWT_ISSUER": "bench-service", "JWT_AUDIENCE": "bench-service:production"}
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
class Deployment:
    project: InstalledProject
    copy_seconds: float
    database: str
    secret: str
    hashed: str  # the bench users' password hash, made by the service's own code
    hash_seconds: float  # the median time of one check of it
    limits: dict[str, str]
    settings: dict[str, str]  # the service's settings the bench sets: limits, identity
    ours: Service
    baselines: dict[str, Service]  # bare, raw, and each -quiet (no access log)
    me: Target
    live: Target
    login: Target
    admin_list: Target
    admin_token: str
    worker: int  # the process id of ours's one uvicorn worker


def deploy(bench: Bench, cleanup: ExitStack) -> Deployment:
    project, copy_seconds = install(bench.folder / "service")
    database = create_database()
    cleanup.callback(drop_database, database)
    hashed, hash_seconds = project.run(
        "uv", "run", "python", "-c", HASH_CODE, data.PASSWORD
    ).stdout.split()
    secret = random_secret_key()
    limits = {f"RATE_LIMIT_{name}": RAISED_LIMIT for name in RATE_LIMITS}
    settings = {**limits, **IDENTITY}
    ours = start_production(project, bench.folder / "ours.log", database, secret, **settings)
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
    raw_settings = {
        "DATABASE_URL": database_url(database),
        "SECRET_KEY": secret,
        "POOL_SIZE": str(POOL_SIZE),
        **IDENTITY,
    }
    baselines = {}
    for module, access_log in (("bare", True), ("bare", False), ("raw", True), ("raw", False)):
        name = module if access_log else f"{module}-quiet"
        baselines[name] = processes.start_baseline(
            project,
            module,
            bench.folder / f"{name}.log",
            access_log=access_log,
            **(raw_settings if module == "raw" else {}),
        )
        cleanup.callback(stop, baselines[name].process)
    login_form = f"username=bench-2@example.com&password={data.PASSWORD.replace(' ', '+')}"
    return Deployment(
        project=project,
        copy_seconds=copy_seconds,
        database=database,
        secret=secret,
        hashed=hashed,
        hash_seconds=float(hash_seconds),
        limits=limits,
        settings=settings,
        ours=ours,
        baselines=baselines,
        me=Target("/api/v1/users/me", headers=(("Authorization", f"Bearer {tokens['user']}"),)),
        live=Target("/health/live"),
        login=Target(
            "/api/v1/auth/token",
            method="POST",
            body=login_form,
            content_type="application/x-www-form-urlencoded",
        ),
        admin_list=Target(
            "/api/v1/users?limit=50", headers=(("Authorization", f"Bearer {tokens['admin']}"),)
        ),
        admin_token=tokens["admin"],
        worker=processes.server_pid(ours.process),
    )
