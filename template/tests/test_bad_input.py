"""Bad input is a 4xx problem, never a 500; failed logins all look and cost the same."""

import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import bcrypt
import pytest
from httpx import AsyncClient, Response
from sqlalchemy import update

from app.db.session import Database
from app.models import User
from tests.assertions import assert_problem
from tests.conftest import GENEROUS_LIMIT, AppClient
from tests.factories import DEFAULT_PASSWORD, SignedInUser, UserFactory

USERS = "/api/v1/users"
TOKEN = "/api/v1/auth/token"
ME = "/api/v1/users/me"
MEGABYTE = 1_000_000
# 88 UTF-8 bytes: bcrypt itself would read only the first 72.
LONG_PASSWORD = "é" * 36 + "long tail of the passphrase"


def without_request_id(response: Response) -> tuple[dict[str, Any], dict[str, str]]:
    """The failed login's body and the headers of a response, less what differs per request."""
    body = assert_problem(response, 400)
    del body["request_id"]
    # The request id and the rate-limit budget differ between any two answers by design.
    headers = {
        name: value
        for name, value in response.headers.items()
        if name != "x-request-id" and not name.startswith("x-ratelimit-")
    }
    return body, headers


def sign_up_body(**changes: str) -> dict[str, str]:
    return {"email": "new.user@example.com", "password": DEFAULT_PASSWORD, **changes}


# Each kind of failed login is timed this many times; the medians are compared.
TIMED_TRIES = 20


async def test_unknown_email_and_wrong_password_look_and_cost_the_same(
    app_client: AppClient, database: Database
) -> None:
    """A failed login looks the same and takes the same time (medians within 25%) for an
    unknown e-mail, a wrong password, and a wrong password against a legacy hash (plain
    bcrypt of the password, before pre-hashing), one of over 72 bytes included, which
    cannot match such a hash but is checked all the same."""
    # At cost 10 a bcrypt check takes tens of milliseconds, far above the request's own time.
    async with app_client(bcrypt_rounds=10, rate_limit_login_account=GENEROUS_LIMIT) as client:
        for email in ("timing@example.com", "legacy@example.com"):
            user = {"email": email, "password": DEFAULT_PASSWORD}
            assert (await client.post(USERS, json=user)).status_code == 201
        legacy = bcrypt.hashpw(DEFAULT_PASSWORD.encode(), bcrypt.gensalt(10)).decode()
        async with database.sessions() as session:
            await session.execute(
                update(User)
                .where(User.email == "legacy@example.com")
                .values(hashed_password=legacy)
            )
            await session.commit()

        async def attempt(email: str, password: str) -> tuple[float, Response]:
            form = {"username": email, "password": password}
            started = time.perf_counter()
            response = await client.post(TOKEN, data=form)
            return time.perf_counter() - started, response

        kinds = {
            "unknown e-mail": ("nobody@example.com", "not the password"),
            "wrong password": ("timing@example.com", "not the password"),
            "legacy hash": ("legacy@example.com", "not the password"),
            "legacy hash, over 72 bytes": ("legacy@example.com", LONG_PASSWORD),
        }
        # Warm up once each: the dummy hash is computed on first use, then cached.
        for email, password in kinds.values():
            await attempt(email, password)
        # Interleaved, so that a slow moment of the machine falls on every kind alike.
        timed: dict[str, list[tuple[float, Response]]] = {kind: [] for kind in kinds}
        for _ in range(TIMED_TRIES):
            for kind, (email, password) in kinds.items():
                timed[kind].append(await attempt(email, password))

    answers = [without_request_id(tries[0][1]) for tries in timed.values()]
    assert all(answer == answers[0] for answer in answers), answers
    medians = {kind: statistics.median(s for s, _ in tries) for kind, tries in timed.items()}
    assert max(medians.values()) <= 1.25 * min(medians.values()), medians


async def test_a_password_over_72_bytes_counts_whole_and_is_never_a_500(
    client: AsyncClient, users: UserFactory, database: Database
) -> None:
    """bcrypt reads 72 bytes; passwords are pre-hashed, so every byte after those counts too.
    A hash stored before pre-hashing (plain bcrypt) still logs in, and a password over 72
    bytes against it is a failed login, never a 500 (bcrypt 5 raises on such input)."""
    user = await users.create(password=LONG_PASSWORD)
    assert len(LONG_PASSWORD.encode()) > 72
    await users.login(user.email, LONG_PASSWORD)
    same_first_72_bytes = LONG_PASSWORD[:-1] + "X"
    response = await client.post(
        TOKEN, data={"username": user.email, "password": same_first_72_bytes}
    )
    assert assert_problem(response, 400)["error"] == "invalid_grant"

    plain_hash = bcrypt.hashpw(DEFAULT_PASSWORD.encode(), bcrypt.gensalt(4)).decode()
    async with database.sessions() as session:
        stored = await session.get(User, user.id)
        assert stored is not None
        stored.hashed_password = plain_hash
        await session.commit()
    await users.login(user.email, DEFAULT_PASSWORD)
    response = await client.post(TOKEN, data={"username": user.email, "password": LONG_PASSWORD})
    assert assert_problem(response, 400)["error"] == "invalid_grant"


async def test_a_password_change_to_over_72_bytes_counts_whole(users: UserFactory) -> None:
    account = await users.account()
    assert (await users.change_password(account, LONG_PASSWORD)).status_code == 204
    await users.login(account.user.email, LONG_PASSWORD)


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"password": "x" * MEGABYTE}, id="password"),
        pytest.param({"email": "x" * MEGABYTE + "@example.com"}, id="email"),
    ],
)
async def test_a_megabyte_in_sign_up_is_422(client: AsyncClient, changes: dict[str, str]) -> None:
    """Length caps in the schema refuse huge values before any hashing."""
    assert_problem(await client.post(USERS, json=sign_up_body(**changes)), 422)


async def test_a_megabyte_password_in_the_login_form_is_400(client: AsyncClient) -> None:
    """The login form caps the password length too (an OAuth2 invalid_request)."""
    form = {"username": "someone@example.com", "password": "x" * MEGABYTE}
    assert assert_problem(await client.post(TOKEN, data=form), 400)["error"] == "invalid_request"


async def test_a_corrupt_stored_hash_is_a_failed_login_and_logged(
    client: AsyncClient, users: UserFactory, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """A stored hash bcrypt cannot read fails the login and logs an error; it is not a 500."""
    user = await users.create()
    async with database.sessions() as session:
        stored = await session.get(User, user.id)
        assert stored is not None
        stored.hashed_password = "not-a-bcrypt-hash"
        await session.commit()
    response = await client.post(TOKEN, data={"username": user.email, "password": DEFAULT_PASSWORD})
    assert_problem(response, 400)
    assert any(
        record.name == "app.core.security" and record.levelname == "ERROR"
        for record in caplog.records
    )


# A request made by a client on behalf of a superuser's account.
Request = Callable[[AsyncClient, SignedInUser], Awaitable[Response]]


def nul_in_json(field: str) -> Request:
    return lambda client, account: client.post(USERS, json=sign_up_body(**{field: "a\x00b"}))


def nul_in_current_password(client: AsyncClient, account: SignedInUser) -> Awaitable[Response]:
    body = {"current_password": "pass\x00word", "new_password": "a new password"}
    return client.put(f"{ME}/password", headers=account.headers, json=body)


def nul_in_form(field: str) -> Request:
    form = {"username": "someone@example.com", "password": "a password", field: "a\x00b"}
    return lambda client, account: client.post(TOKEN, data=form)


def nul_in_query(client: AsyncClient, account: SignedInUser) -> Awaitable[Response]:
    return client.get(f"{USERS}?limit=%00", headers=account.headers)


def nul_in_path(client: AsyncClient, account: SignedInUser) -> Awaitable[Response]:
    return client.get(f"{USERS}/abc%00def", headers=account.headers)


@pytest.mark.parametrize(
    ("send", "status"),
    [
        pytest.param(nul_in_json("email"), 422, id="json-email"),
        pytest.param(nul_in_json("full_name"), 422, id="json-full_name"),
        pytest.param(nul_in_json("password"), 422, id="json-password"),
        pytest.param(nul_in_current_password, 422, id="json-current_password"),
        # The token endpoint answers its invalid requests as OAuth2 says: 400.
        pytest.param(nul_in_form("username"), 400, id="form-username"),
        pytest.param(nul_in_form("password"), 400, id="form-password"),
        pytest.param(nul_in_query, 422, id="query"),
        # Ids are matched as UUIDs: anything else names no user.
        pytest.param(nul_in_path, 404, id="path"),
    ],
)
async def test_a_nul_byte_anywhere_is_refused(
    client: AsyncClient, users: UserFactory, send: Request, status: int
) -> None:
    """PostgreSQL refuses NUL in text: the schema refuses it first, a 4xx problem, never a 500."""
    account = await users.account(superuser=True)
    assert_problem(await send(client, account), status)


@pytest.mark.parametrize("user_id", ["%00", "abc%00def", "not-a-uuid"])
async def test_a_malformed_id_in_the_path_is_404(
    client: AsyncClient, users: UserFactory, user_id: str
) -> None:
    """Ids are matched as UUIDs: anything else, a NUL byte included, names no user."""
    admin = await users.account(superuser=True)
    assert_problem(await client.get(f"{USERS}/{user_id}", headers=admin.headers), 404)


@pytest.mark.parametrize(
    "query",
    ["limit=-1", "limit=0", "limit=101", f"limit={10**30}", "after=1", "after=not-an-id"],
)
async def test_out_of_range_paging_is_422(
    client: AsyncClient, users: UserFactory, query: str
) -> None:
    """A limit outside its range or an `after` that is no id is refused before the database."""
    admin = await users.account(superuser=True)
    assert_problem(await client.get(f"{USERS}?{query}", headers=admin.headers), 422)


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        pytest.param(b'{"email": "a@example.com",', "application/json", id="malformed-json"),
        pytest.param(b"\xff\xfe{", "application/json", id="not-utf8"),
        # Valid sign-up JSON, but the content type decides how a body is read.
        pytest.param(
            b'{"email": "plain@example.com", "password": "correct horse battery"}',
            "text/plain",
            id="wrong-content-type",
        ),
        pytest.param(
            b'{"full_name": "' + b"x" * 10 * MEGABYTE + b'"}',
            "application/json",
            id="ten-megabytes",
        ),
    ],
)
async def test_a_malformed_body_is_a_4xx_problem(
    client: AsyncClient, content: bytes, content_type: str
) -> None:
    """A body that cannot be read is a client error, and the answer does not echo it back."""
    response = await client.post(USERS, content=content, headers={"content-type": content_type})
    assert_problem(response)
    assert len(response.content) < 2_000
