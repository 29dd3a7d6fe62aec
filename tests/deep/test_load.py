"""Races and a mixed load against the service as deployed, on PostgreSQL over loopback.

Bounded in count and time; every request's status is checked, not only the absence of 5xx.
LOAD_SECONDS (default 30) sets the length of the mixed load.
"""

import asyncio
import os
import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.support.api_calls import PASSWORD, log_in, sign_up
from tests.support.databases import create_database, drop_database, psql
from tests.support.environment import InstalledProject
from tests.support.service_processes import Service, serving

pytestmark = pytest.mark.deep

RAISED_LIMIT = "1000000/minute"
CONNECTIONS = 32
LOAD_SECONDS = float(os.environ.get("LOAD_SECONDS", "30"))


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    name = create_database()
    yield name
    drop_database(name)


@pytest.fixture(scope="module")
def service(
    installed_project: Callable[[str], InstalledProject],
    database: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Service]:
    """The default variant as deployed, with rate limits raised and bcrypt at the lowest cost
    production accepts: at cost 12 two cores hash about eight passwords a second, and the
    load would be a hundred hashes instead of a mix of requests. Other tests run at full
    cost."""
    with serving(
        installed_project("default"),
        tmp_path_factory.mktemp("load") / "service.log",
        database,
        RATE_LIMIT_LOGIN=RAISED_LIMIT,
        RATE_LIMIT_LOGIN_ACCOUNT=RAISED_LIMIT,
        RATE_LIMIT_LOGOUT=RAISED_LIMIT,
        RATE_LIMIT_SIGNUP=RAISED_LIMIT,
        RATE_LIMIT_REFRESH=RAISED_LIMIT,
        RATE_LIMIT_EMAIL_REQUEST=RAISED_LIMIT,
        RATE_LIMIT_EMAIL_PER_ACCOUNT=RAISED_LIMIT,
        RATE_LIMIT_TOKEN=RAISED_LIMIT,
        RATE_LIMIT_SESSIONS=RAISED_LIMIT,
        BCRYPT_ROUNDS="10",
    ) as running:
        yield running


def client_for(service: Service) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=CONNECTIONS * 2)
    return httpx.AsyncClient(base_url=service.url, timeout=60, limits=limits)


def test_fifty_parallel_refreshes_with_one_token_yield_one_pair(service: Service) -> None:
    with service.client() as client:
        email, _ = sign_up(client)
        token = log_in(client, email)["refresh_token"]

    async def race() -> list[int]:
        async with client_for(service) as client:
            answers = await asyncio.gather(
                *(
                    client.post("/api/v1/auth/refresh", json={"refresh_token": token})
                    for _ in range(50)
                )
            )
        return sorted(answer.status_code for answer in answers)

    assert asyncio.run(race()) == [200] + [401] * 49


def test_duplicate_sign_ups_in_mixed_case_store_one_user_each(
    service: Service, database: str
) -> None:
    stems = [f"dup-{secrets.token_hex(3)}" for _ in range(20)]
    spellings = [str.lower, str.upper, str.title, str.swapcase, lambda stem: stem]

    async def race() -> list[tuple[str, int]]:
        async with client_for(service) as client:

            async def sign(stem: str, spell: Callable[[str], str]) -> tuple[str, int]:
                email = spell(f"{stem}@Example.com")
                answer = await client.post(
                    "/api/v1/users", json={"email": email, "password": PASSWORD}
                )
                return stem, answer.status_code

            return await asyncio.gather(
                *(sign(stem, spell) for spell in spellings for stem in stems)
            )

    outcomes = asyncio.run(race())
    for stem in stems:
        statuses = sorted(status for name, status in outcomes if name == stem)
        assert statuses == [201] + [409] * (len(spellings) - 1), (stem, statuses)
    stored = psql(
        "SELECT count(*) FROM user_account WHERE email LIKE 'dup-%@example.com'", database
    )
    assert int(stored) == len(stems)
    print(f"duplicate sign-ups: {len(outcomes)} requests, {len(stems)} users stored")


# What each step of a session may answer; anything else fails the test.
EXPECTED = {
    "sign-up": {201},
    "login": {200},
    "me": {200},
    "refresh": {200},
    "admin list": {200},
    "logout": {204},
}


def test_a_mixed_load_answers_as_expected_and_loses_nobody(service: Service, database: str) -> None:
    with service.client() as client:
        admin_email, _ = sign_up(client)
        psql(f"UPDATE user_account SET is_superuser = true WHERE email = '{admin_email}'", database)
        admin = {"Authorization": f"Bearer {log_in(client, admin_email)['access_token']}"}
    counts: Counter[tuple[str, int]] = Counter()
    signed_up: list[str] = []
    deadline = time.monotonic() + LOAD_SECONDS

    async def session(client: httpx.AsyncClient) -> None:
        """Sign up, log in, read the profile, refresh, list as an admin, log out: repeat."""
        while time.monotonic() < deadline:
            email = f"load-{secrets.token_hex(6)}@example.com"
            form = {"username": email, "password": PASSWORD}

            async def step(name: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
                answer = await client.request(method, path, **kwargs)
                counts[(name, answer.status_code)] += 1
                return answer

            created = await step(
                "sign-up", "POST", "/api/v1/users", json={"email": email, "password": PASSWORD}
            )
            if created.status_code != 201:
                continue
            signed_up.append(email)
            tokens = (await step("login", "POST", "/api/v1/auth/token", data=form)).json()
            bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
            for _ in range(5):
                await step("me", "GET", "/api/v1/users/me", headers=bearer)
            refresh = {"refresh_token": tokens["refresh_token"]}
            rotated = (await step("refresh", "POST", "/api/v1/auth/refresh", json=refresh)).json()
            await step("admin list", "GET", "/api/v1/users?limit=20", headers=admin)
            logout = {"refresh_token": rotated["refresh_token"]}
            await step("logout", "POST", "/api/v1/auth/logout", json=logout)

    async def load() -> float:
        started = time.monotonic()
        async with client_for(service) as client:
            await asyncio.gather(*(session(client) for _ in range(CONNECTIONS)))
        return time.monotonic() - started

    elapsed = asyncio.run(load())
    total = sum(counts.values())
    server_errors = sum(count for (_, status), count in counts.items() if status >= 500)
    summary = ", ".join(
        f"{name} {status}: {count}" for (name, status), count in sorted(counts.items())
    )
    print(
        f"mixed load: {total} requests in {elapsed:.1f} s from {CONNECTIONS} connections "
        f"({total / elapsed:.0f}/s), {server_errors} 5xx; {summary}"
    )
    unexpected = {key: count for key, count in counts.items() if key[1] not in EXPECTED[key[0]]}
    assert unexpected == {}, summary
    stored = set(psql("SELECT email FROM user_account WHERE email LIKE 'load-%'", database).split())
    assert stored == set(signed_up), "a user whose sign-up answered 201 is missing"
