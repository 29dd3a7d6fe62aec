"""Rate limits per client address (IPv6 by prefix), per user and per account, whichever
store keeps the counters."""

import pytest
from httpx import AsyncClient, Response
from pydantic import ValidationError

from app.core.config import Settings
from tests.assertions import assert_problem
from tests.conftest import AppClient
from tests.factories import UserFactory

# Each test counts to a per-minute limit (tests/conftest.py says why).
pytestmark = pytest.mark.usefixtures("one_minute_window")

TOKEN = "/api/v1/auth/token"
PASSWORD = "/api/v1/users/me/password"
EMAIL = "/api/v1/users/me/email"
WRONG_LOGIN = {"username": "nobody@example.com", "password": "not the password"}


async def login_attempts(client: AsyncClient, count: int, **headers: str) -> list[Response]:
    return [await client.post(TOKEN, data=WRONG_LOGIN, headers=headers) for _ in range(count)]


async def test_the_login_limit_answers_a_429_problem(app_client: AppClient) -> None:
    async with app_client(rate_limit_login="3/minute") as client:
        allowed = await login_attempts(client, 3)
        refused = await client.post(TOKEN, data=WRONG_LOGIN)
    assert [response.status_code for response in allowed] == [400, 400, 400]
    assert [response.headers["x-ratelimit-remaining"] for response in allowed] == ["2", "1", "0"]
    assert_problem(refused, 429)
    assert 0 < int(refused.headers["retry-after"]) <= 60
    assert refused.headers["x-ratelimit-limit"] == "3"


@pytest.mark.parametrize(
    ("setting", "path", "body"),
    [
        ("rate_limit_refresh", "/api/v1/auth/refresh", {"refresh_token": "unknown"}),
        ("rate_limit_signup", "/api/v1/users", {"email": "not-an-email", "password": "x"}),
        ("rate_limit_logout", "/api/v1/auth/logout", {"refresh_token": "unknown"}),
    ],
)
async def test_refresh_logout_and_sign_up_are_limited(
    app_client: AppClient, setting: str, path: str, body: dict[str, str]
) -> None:
    async with app_client(**{setting: "2/minute"}) as client:
        statuses = [(await client.post(path, json=body)).status_code for _ in range(3)]
    assert statuses[2] == 429
    assert 429 not in statuses[:2]


async def test_each_client_has_its_own_budget(app_client: AppClient) -> None:
    async with app_client(peer="203.0.113.7", rate_limit_login="2/minute") as first:
        assert [r.status_code for r in await login_attempts(first, 3)] == [400, 400, 429]
        async with app_client(peer="203.0.113.8", rate_limit_login="2/minute") as second:
            assert (await second.post(TOKEN, data=WRONG_LOGIN)).status_code == 400


async def test_forwarded_headers_from_an_untrusted_peer_are_ignored(
    app_client: AppClient,
) -> None:
    async with app_client(peer="203.0.113.7", rate_limit_login="2/minute") as client:
        statuses = [
            (
                await client.post(
                    TOKEN, data=WRONG_LOGIN, headers={"X-Forwarded-For": f"198.51.100.{n}"}
                )
            ).status_code
            for n in range(4)
        ]
    assert statuses == [400, 400, 429, 429]


async def test_a_trusted_proxy_is_keyed_on_the_forwarded_client(app_client: AppClient) -> None:
    async with app_client(
        peer="10.0.0.5", forwarded_allow_ips="10.0.0.0/24", rate_limit_login="2/minute"
    ) as proxy:
        first = {"X-Forwarded-For": "198.51.100.1"}
        second = {"X-Forwarded-For": "198.51.100.2"}
        assert [r.status_code for r in await login_attempts(proxy, 3, **first)] == [400, 400, 429]
        assert (await proxy.post(TOKEN, data=WRONG_LOGIN, headers=second)).status_code == 400


async def test_limited_routes_declare_429_and_503(client: AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    limited = [
        ("post", "/api/v1/auth/token"),
        ("post", "/api/v1/auth/refresh"),
        ("post", "/api/v1/auth/logout"),
        ("post", "/api/v1/users"),
        ("put", PASSWORD),
        ("put", EMAIL),
    ]
    for method, path in limited:
        assert {"429", "503"} <= set(paths[path][method]["responses"]), path


def test_the_memory_store_refuses_several_workers(settings: Settings) -> None:
    values = settings.model_dump() | {"rate_limit_store": "memory", "web_concurrency": 2}
    with pytest.raises(ValidationError, match="RATE_LIMIT_STORE=memory keeps counters"):
        Settings(_env_file=None, **values)


def test_a_malformed_limit_is_refused(settings: Settings) -> None:
    with pytest.raises(ValidationError, match="not a rate limit"):
        Settings(_env_file=None, **(settings.model_dump() | {"rate_limit_login": "often"}))


async def test_password_checks_are_limited_per_user(
    app_client: AppClient, users: UserFactory
) -> None:
    """A stolen access token is no password oracle: its user's checks share one budget, from
    whatever address they come."""
    account = await users.account()
    guess = {"current_password": "a guess", "new_password": "a new password"}
    async with app_client(
        peer="10.0.0.5", forwarded_allow_ips="10.0.0.0/24", rate_limit_password_check="2/minute"
    ) as proxy:
        statuses = [
            (
                await proxy.put(
                    PASSWORD,
                    headers={**account.headers, "X-Forwarded-For": f"198.51.100.{number}"},
                    json=guess,
                )
            ).status_code
            for number in range(3)
        ]
    assert statuses == [403, 403, 429]


async def test_password_checks_are_limited_per_address(
    app_client: AppClient, users: UserFactory
) -> None:
    accounts = [await users.account() for _ in range(3)]
    guess = {"email": "new@example.com", "current_password": "a guess"}
    async with app_client(rate_limit_password_check="2/minute") as client:
        statuses = [
            (await client.put(EMAIL, headers=account.headers, json=guess)).status_code
            for account in accounts
        ]
    assert statuses == [403, 403, 429]


# Behind a trusted proxy, each request can come from another client address.
PROXY = {"peer": "10.0.0.5", "forwarded_allow_ips": "10.0.0.0/24"}


def from_address(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


async def logins_from(
    client: AsyncClient, addresses: list[str], form: dict[str, str] = WRONG_LOGIN
) -> list[int]:
    """The status of one login from each address in turn, behind the trusted proxy."""
    return [
        (await client.post(TOKEN, data=form, headers=from_address(address))).status_code
        for address in addresses
    ]


async def test_an_ipv6_client_is_counted_by_its_prefix(app_client: AppClient) -> None:
    """Six addresses of one /64 are one client: a subscriber holds the whole network."""
    async with app_client(**PROXY, rate_limit_login="2/minute") as client:
        statuses = await logins_from(client, [f"2001:db8:1:2::{n}" for n in range(1, 7)])
        neighbour = await logins_from(client, ["2001:db8:1:3::1"])
    assert statuses == [400, 400, 429, 429, 429, 429]
    assert neighbour == [400]  # the next /64 is another client


async def test_the_ipv6_prefix_is_a_setting(app_client: AppClient) -> None:
    async with app_client(
        **PROXY, rate_limit_login="2/minute", rate_limit_ipv6_prefix=128
    ) as client:
        statuses = await logins_from(client, [f"2001:db8::{n}" for n in range(1, 4)])
    assert statuses == [400, 400, 400]


async def test_failed_logins_are_limited_per_account_from_every_address(
    app_client: AppClient, users: UserFactory
) -> None:
    """A guesser with many addresses still gets one budget per account, and while the
    account is throttled even its right password answers 429, so the answer tells the
    guesser nothing. Other accounts are untouched."""
    victim, bystander = await users.account(), await users.account()
    wrong = {"username": victim.user.email, "password": "a wrong guess"}
    right = {"username": victim.user.email, "password": victim.password}
    async with app_client(**PROXY, rate_limit_login_account="3/minute") as client:
        guesses = await logins_from(client, [f"198.51.100.{n}" for n in range(1, 6)], wrong)
        owner = await client.post(TOKEN, data=right, headers=from_address("192.0.2.1"))
        other = await client.post(
            TOKEN,
            data={"username": bystander.user.email, "password": bystander.password},
            headers=from_address("198.51.100.1"),
        )
    assert guesses == [400, 400, 400, 429, 429]
    assert_problem(owner, 429)
    assert 0 < int(owner.headers["retry-after"]) <= 60
    assert other.status_code == 200, other.text


async def test_an_unknown_account_is_throttled_alike(app_client: AppClient) -> None:
    """The throttle says nothing of which accounts exist: unknown ones are counted too."""
    async with app_client(**PROXY, rate_limit_login_account="2/minute") as client:
        statuses = await logins_from(client, [f"198.51.100.{n}" for n in range(1, 4)])
    assert statuses == [400, 400, 429]


async def test_successful_logins_do_not_count_against_the_account(
    app_client: AppClient, users: UserFactory
) -> None:
    account = await users.account()
    right = {"username": account.user.email, "password": account.password}
    async with app_client(rate_limit_login_account="2/minute") as client:
        statuses = [(await client.post(TOKEN, data=right)).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 200]


async def test_a_longer_window_stands_behind_the_short_one(
    app_client: AppClient, users: UserFactory
) -> None:
    """With "10/minute;3/hour", the hour binds: the fourth failure is refused though the
    minute allows ten, so a patient guesser gets a few tries an hour at most."""
    account = await users.account()
    wrong = {"username": account.user.email, "password": "a wrong guess"}
    async with app_client(**PROXY, rate_limit_login_account="10/minute;3/hour") as client:
        statuses = [(await client.post(TOKEN, data=wrong)).status_code for _ in range(3)]
        refused = await client.post(TOKEN, data=wrong)
    assert statuses == [400, 400, 400]
    assert_problem(refused, 429)
    # The sliding window's counters sit in windows aligned to the clock: near the end of
    # an hour, the hour's window says it ends sooner than a minute from now.
    assert 0 < int(refused.headers["retry-after"]) <= 3600
