"""Bad input is a 4xx problem, never a 500; failed logins all look and cost the same."""

import statistics
import time
from typing import Any

import bcrypt
import pytest
from httpx import AsyncClient, Response

from app.db.session import Database
from app.models import User
from tests.conftest import AppClient
from tests.factories import DEFAULT_PASSWORD, UserFactory

USERS = "/api/v1/users"
TOKEN = "/api/v1/auth/token"
ME = "/api/v1/users/me"
MEGABYTE = 1_000_000
# 88 UTF-8 bytes: bcrypt itself would read only the first 72.
LONG_PASSWORD = "é" * 36 + "long tail of the passphrase"


def assert_problem(response: Response, status: int | None = None) -> dict[str, Any]:
    """The response is the service's problem body, with the given status or any 4xx."""
    if status is None:
        assert 400 <= response.status_code < 500, response.text
    else:
        assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == response.status_code
    assert body["request_id"] == response.headers["x-request-id"]
    return body


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


async def test_unknown_email_and_wrong_password_look_and_cost_the_same(
    app_client: AppClient,
) -> None:
    """Unknown e-mail and wrong password: same answer, and the unknown one still checks a hash."""
    # At cost 10 a bcrypt check takes tens of milliseconds, far above the request's own time.
    async with app_client(bcrypt_rounds=10) as client:
        user = {"email": "timing@example.com", "password": DEFAULT_PASSWORD}
        assert (await client.post(USERS, json=user)).status_code == 201

        async def attempt(email: str) -> tuple[float, Response]:
            form = {"username": email, "password": "not the password"}
            started = time.perf_counter()
            response = await client.post(TOKEN, data=form)
            return time.perf_counter() - started, response

        # Warm up once each: the dummy hash is computed on first use, then cached.
        await attempt("nobody@example.com")
        await attempt(user["email"])
        unknown = [await attempt("nobody@example.com") for _ in range(5)]
        wrong = [await attempt(user["email"]) for _ in range(5)]

    assert without_request_id(unknown[0][1]) == without_request_id(wrong[0][1])
    unknown_median = statistics.median(seconds for seconds, _ in unknown)
    wrong_median = statistics.median(seconds for seconds, _ in wrong)
    assert unknown_median >= wrong_median / 2, (unknown_median, wrong_median)


async def test_a_password_over_72_bytes_counts_to_its_last_byte(
    client: AsyncClient, users: UserFactory
) -> None:
    """bcrypt reads 72 bytes; passwords are pre-hashed, so every byte after those counts too."""
    user = await users.create(password=LONG_PASSWORD)
    assert len(LONG_PASSWORD.encode()) > 72
    await users.login(user.email, LONG_PASSWORD)
    same_first_72_bytes = LONG_PASSWORD[:-1] + "X"
    response = await client.post(
        TOKEN, data={"username": user.email, "password": same_first_72_bytes}
    )
    assert assert_problem(response, 400)["error"] == "invalid_grant"


async def test_a_password_change_to_over_72_bytes_counts_whole(users: UserFactory) -> None:
    account = await users.account()
    assert (await users.change_password(account, LONG_PASSWORD)).status_code == 204
    await users.login(account.user.email, LONG_PASSWORD)


async def test_a_hash_stored_before_pre_hashing_still_logs_in(
    client: AsyncClient, users: UserFactory, database: Database
) -> None:
    """Hashes of plain bcrypt, as releases before pre-hashing stored them, keep working; a
    password over 72 bytes against one is a failed login, never a 500 (bcrypt 5 raises)."""
    user = await users.create()
    plain_hash = bcrypt.hashpw(DEFAULT_PASSWORD.encode(), bcrypt.gensalt(4)).decode()
    async with database.sessions() as session:
        stored = await session.get(User, user.id)
        assert stored is not None
        stored.hashed_password = plain_hash
        await session.commit()
    await users.login(user.email, DEFAULT_PASSWORD)
    response = await client.post(TOKEN, data={"username": user.email, "password": LONG_PASSWORD})
    assert assert_problem(response, 400)["error"] == "invalid_grant"


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


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"email": "nul\x00@example.com"}, id="email"),
        pytest.param({"full_name": "Ada\x00Lovelace"}, id="full_name"),
        pytest.param({"password": "correct\x00horse battery"}, id="password"),
    ],
)
async def test_nul_in_json_is_422(client: AsyncClient, changes: dict[str, str]) -> None:
    """PostgreSQL refuses NUL in text: the schema refuses it first, so it is a 422, not a 500."""
    assert_problem(await client.post(USERS, json=sign_up_body(**changes)), 422)


async def test_nul_in_the_current_password_is_422(client: AsyncClient, users: UserFactory) -> None:
    """A NUL byte is refused in every string field, the current password included."""
    account = await users.account()
    response = await client.put(
        f"{ME}/password",
        headers=account.headers,
        json={"current_password": "pass\x00word", "new_password": "a new password"},
    )
    assert_problem(response, 422)


@pytest.mark.parametrize(
    "form",
    [
        pytest.param({"username": "nul\x00@example.com", "password": "a password"}, id="username"),
        pytest.param(
            {"username": "someone@example.com", "password": "a\x00password"}, id="password"
        ),
    ],
)
async def test_nul_in_the_login_form_is_400(client: AsyncClient, form: dict[str, str]) -> None:
    """A NUL byte in a form field is refused (the token endpoint's invalid_request)."""
    assert assert_problem(await client.post(TOKEN, data=form), 400)["error"] == "invalid_request"


async def test_nul_in_a_query_parameter_is_422(client: AsyncClient, users: UserFactory) -> None:
    admin = await users.account(superuser=True)
    assert_problem(await client.get(f"{USERS}?limit=%00", headers=admin.headers), 422)


@pytest.mark.parametrize("user_id", ["%00", "abc%00def", "not-a-uuid"])
async def test_a_malformed_id_in_the_path_is_404(
    client: AsyncClient, users: UserFactory, user_id: str
) -> None:
    """Ids are matched as UUIDs: anything else, a NUL byte included, names no user."""
    admin = await users.account(superuser=True)
    assert_problem(await client.get(f"{USERS}/{user_id}", headers=admin.headers), 404)


@pytest.mark.parametrize(
    "query",
    ["limit=-1", "limit=0", "limit=101", f"limit={10**30}", "offset=-1", f"offset={10**30}"],
)
async def test_out_of_range_paging_is_422(
    client: AsyncClient, users: UserFactory, query: str
) -> None:
    """limit and offset outside their ranges are refused before they reach the database."""
    admin = await users.account(superuser=True)
    assert_problem(await client.get(f"{USERS}?{query}", headers=admin.headers), 422)


async def test_malformed_json_is_4xx(client: AsyncClient) -> None:
    """A body that is not valid JSON is a client error."""
    response = await client.post(
        USERS, content=b'{"email": "a@example.com",', headers={"content-type": "application/json"}
    )
    assert_problem(response)


async def test_a_wrong_content_type_is_4xx(client: AsyncClient) -> None:
    """Valid sign-up JSON sent as text/plain is refused: the content type decides how to read it."""
    response = await client.post(
        USERS,
        content=b'{"email": "plain@example.com", "password": "correct horse battery"}',
        headers={"content-type": "text/plain"},
    )
    assert_problem(response)


async def test_a_ten_megabyte_body_is_4xx(client: AsyncClient) -> None:
    """A 10 MB JSON body is a client error, and the answer does not echo it back."""
    response = await client.post(USERS, json=sign_up_body(full_name="x" * 10 * MEGABYTE))
    assert_problem(response)
    assert len(response.content) < 2_000
