"""Three replicas of the Redis variant, each started by the real start command, sharing one
PostgreSQL database and one Redis: what one replica does, the others must honour."""

import re
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.api_calls import PASSWORD, log_in, sign_up
from tests.support.databases import REDIS_URL
from tests.support.environment import InstalledProject
from tests.support.service_processes import (
    METRICS_TOKEN,
    Service,
    random_secret_key,
    start_production,
    stop,
    wait_until_live,
)

pytestmark = pytest.mark.deep

REPLICAS = 3
LOGIN_LIMIT = 6  # per client address and minute, for the whole deployment
TOKEN = "/api/v1/auth/token"
REFRESH = "/api/v1/auth/refresh"


@pytest.fixture
def replicas(
    installed_project: Callable[[str], InstalledProject],
    fresh_database: str,
    tmp_path: Path,
) -> Iterator[list[Service]]:
    """Three replicas started at once on one fresh database, with one rate-limit namespace."""
    project = installed_project("everything")
    settings = {
        "REDIS_URL": REDIS_URL,
        "RATE_LIMIT_KEY_PREFIX": f"replicas-{secrets.token_hex(4)}",
        "RATE_LIMIT_LOGIN": f"{LOGIN_LIMIT}/minute",
    }
    secret = random_secret_key()  # one deployment: one signing key
    started: list[Service] = []
    try:
        for number in range(REPLICAS):
            log = tmp_path / f"replica-{number}.log"
            started.append(start_production(project, log, fresh_database, secret, **settings))
        for replica in started:
            wait_until_live(replica)
        yield started
    finally:
        for replica in started:
            stop(replica.process)


def login_count(exposition: str, status: int) -> float:
    """This replica's count of login requests answered `status`, from its /metrics."""
    pattern = (
        r'^http_request_duration_seconds_count\{(?=[^}]*method="POST")'
        rf'(?=[^}}]*route="{TOKEN}")(?=[^}}]*status_code="{status}")[^}}]*\}} (\S+)$'
    )
    return sum(float(value) for value in re.findall(pattern, exposition, re.MULTILINE))


def test_replicas_share_migrations_limits_and_token_families(
    replicas: list[Service], installed_project: Callable[[str], InstalledProject]
) -> None:
    clients = [httpx.Client(base_url=replica.url, timeout=10) for replica in replicas]
    try:
        # Started together, they applied the migrations once between them.
        revisions = list(
            (installed_project("everything").path / "migrations/versions").glob("rev_*.py")
        )
        upgrades = [replica.log.read_text().count("Running upgrade") for replica in replicas]
        assert sum(upgrades) == len(revisions), upgrades

        # A refresh token rotated on one replica and replayed on another: the family dies.
        email, _ = sign_up(clients[0])
        first = log_in(clients[0], email)
        rotated = clients[1].post(REFRESH, json={"refresh_token": first["refresh_token"]})
        assert rotated.status_code == 200, rotated.text
        replayed = clients[2].post(REFRESH, json={"refresh_token": first["refresh_token"]})
        assert replayed.status_code == 401, replayed.text
        survivor = rotated.json()["refresh_token"]
        revoked = clients[0].post(REFRESH, json={"refresh_token": survivor})
        assert revoked.status_code == 401, "the rotated token outlived its family's replay"

        # One login limit for the deployment: wrong passwords sent round the replicas from one
        # address are refused once the limit is spent, whichever replica counts them.
        wrong = {"username": email, "password": f"not {PASSWORD}"}
        statuses = [clients[n % REPLICAS].post(TOKEN, data=wrong).status_code for n in range(9)]
        # The successful login above counted too.
        allowed = LOGIN_LIMIT - 1
        assert statuses == [400] * allowed + [429] * (9 - allowed), statuses

        # Each replica's /metrics counts its own requests; together they count them all.
        bearer = {"Authorization": f"Bearer {METRICS_TOKEN}"}
        expositions = [client.get("/metrics", headers=bearer) for client in clients]
        assert [exposition.status_code for exposition in expositions] == [200] * REPLICAS
        refused = [login_count(exposition.text, 429) for exposition in expositions]
        assert all(count > 0 for count in refused), refused  # every replica refused some
        assert sum(refused) == statuses.count(429)
        assert sum(login_count(e.text, 400) for e in expositions) == statuses.count(400)
        print(
            f"{REPLICAS} replicas: migrations applied by replica "
            f"{[n for n, count in enumerate(upgrades) if count]} only; refusals per replica "
            f"{refused}; replayed refresh token revoked its family across replicas"
        )
    finally:
        for client in clients:
            client.close()
