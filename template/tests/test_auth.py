"""Login, refresh-token rotation, replay detection and logout."""

import asyncio
import base64
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import timedelta

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.clock import utc_now
from app.core.config import Settings
from app.core.security import refresh_token_digest
from app.db.session import Database, create_session_factory
from app.main import create_app
from app.models import RefreshToken, User
from tests.assertions import assert_problem
from tests.conftest import AppClient
from tests.factories import SignedInUser, UserFactory

TOKEN = "/api/v1/auth/token"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/users/me"


async def test_token_responses_are_never_cached(
    client: AsyncClient, users: UserFactory, settings: Settings
) -> None:
    """Every answer that carries tokens, and every failure of the token endpoint, says
    `Cache-Control: no-store` (RFC 6749 5.1)."""
    user = await users.create()
    form = {"username": user.email, "password": "correct horse battery"}
    login = await client.post(TOKEN, data=form)
    assert login.status_code == 200
    body = login.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == settings.access_token_expire_minutes * 60
    assert body["access_token"] != body["refresh_token"]
    refresh = await client.post(REFRESH, json={"refresh_token": body["refresh_token"]})
    assert refresh.status_code == 200
    failed = await client.post(TOKEN, data=form | {"password": "not the password"})
    assert failed.status_code == 400
    for response in (login, refresh, failed):
        assert response.headers["cache-control"] == "no-store", response.request.url
    me = await client.get(ME, headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200


async def test_login_accepts_any_case_of_the_email(client: AsyncClient, users: UserFactory) -> None:
    user = await users.create(email="mixed@example.com")
    tokens = await users.login("MiXeD@Example.COM")
    assert tokens["access_token"]
    assert user.email == "mixed@example.com"


async def test_refresh_rotates_and_consumes_the_old_token(
    client: AsyncClient, users: UserFactory
) -> None:
    account = await users.account()
    response = await client.post(REFRESH, json={"refresh_token": account.refresh_token})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    pair = response.json()
    assert pair["refresh_token"] != account.refresh_token
    me = await client.get(ME, headers={"Authorization": f"Bearer {pair['access_token']}"})
    assert me.status_code == 200
    # The next rotation works from the new token.
    again = await client.post(REFRESH, json={"refresh_token": pair["refresh_token"]})
    assert again.status_code == 200


async def test_replay_revokes_the_whole_family(
    client: AsyncClient, users: UserFactory, caplog: pytest.LogCaptureFixture
) -> None:
    account = await users.account()
    rotated = (await client.post(REFRESH, json={"refresh_token": account.refresh_token})).json()
    replay = await client.post(REFRESH, json={"refresh_token": account.refresh_token})
    assert replay.status_code == 401
    assert "refresh token reuse detected" in caplog.text
    # The attacker's (or victim's) newer token died with the family.
    newer = await client.post(REFRESH, json={"refresh_token": rotated["refresh_token"]})
    assert newer.status_code == 401
    # Other logins of the same user are other families and live on.
    other_login = await users.login(account.user.email)
    assert (
        await client.post(REFRESH, json={"refresh_token": other_login["refresh_token"]})
    ).status_code == 200


async def test_unknown_refresh_token_is_401(client: AsyncClient) -> None:
    response = await client.post(REFRESH, json={"refresh_token": "not-a-token-we-issued"})
    assert_problem(response, 401)


async def test_odd_refresh_tokens_are_refused_before_any_lookup(client: AsyncClient) -> None:
    for path in (REFRESH, LOGOUT):
        too_long = await client.post(path, json={"refresh_token": "x" * 129})
        assert too_long.status_code == 422, path
        with_nul = await client.post(path, json={"refresh_token": "abc\x00def"})
        assert with_nul.status_code == 422, path
    non_ascii = await client.post(REFRESH, json={"refresh_token": "jeton-privé-ünïcode"})
    assert non_ascii.status_code == 401


async def test_a_refresh_token_past_its_own_expiry_is_401(
    client: AsyncClient, users: UserFactory, database: Database
) -> None:
    account = await users.account()
    past = utc_now() - timedelta(seconds=1)
    await _set_token_times(database, account.refresh_token, expires_at=past)
    response = await client.post(REFRESH, json={"refresh_token": account.refresh_token})
    assert response.status_code == 401


async def outlive_the_family(
    client: AsyncClient, account: SignedInUser, users: UserFactory
) -> None:
    past = utc_now() - timedelta(seconds=1)
    await _set_token_times(users.database, account.refresh_token, family_expires_at=past)


async def log_out(client: AsyncClient, account: SignedInUser, users: UserFactory) -> None:
    assert (await client.post(LOGOUT, json={"refresh_token": account.refresh_token})).is_success


async def change_the_password(
    client: AsyncClient, account: SignedInUser, users: UserFactory
) -> None:
    response = await client.put(
        f"{ME}/password",
        headers=account.headers,
        json={"current_password": account.password, "new_password": "a new passphrase"},
    )
    assert response.status_code == 204


async def deactivate(client: AsyncClient, account: SignedInUser, users: UserFactory) -> None:
    admin = await users.account(superuser=True)
    response = await client.patch(
        f"/api/v1/users/{account.user.id}", headers=admin.headers, json={"is_active": False}
    )
    assert response.status_code == 200


@pytest.mark.parametrize("end", [outlive_the_family, log_out, change_the_password, deactivate])
async def test_a_login_s_tokens_all_die_with_it(
    client: AsyncClient,
    users: UserFactory,
    end: Callable[[AsyncClient, SignedInUser, UserFactory], Awaitable[None]],
) -> None:
    """A family past its absolute lifetime, a logout, a password change, a deactivation:
    each ends every refresh token of the login, those already rotated from it included."""
    account = await users.account()
    rotated = (await client.post(REFRESH, json={"refresh_token": account.refresh_token})).json()
    await end(client, replace(account, refresh_token=rotated["refresh_token"]), users)
    response = await client.post(REFRESH, json={"refresh_token": rotated["refresh_token"]})
    assert response.status_code == 401


async def test_rotation_never_extends_the_family_lifetime(
    client: AsyncClient, users: UserFactory, database: Database
) -> None:
    account = await users.account()
    family_end = utc_now() + timedelta(hours=1)
    await _set_token_times(database, account.refresh_token, family_expires_at=family_end)
    rotated = (await client.post(REFRESH, json={"refresh_token": account.refresh_token})).json()
    async with database.sessions() as session:
        row = await session.scalar(
            select(RefreshToken).where(
                RefreshToken.token_digest == refresh_token_digest(rotated["refresh_token"])
            )
        )
    assert row is not None
    assert row.family_expires_at == family_end
    assert row.expires_at <= family_end


async def test_logout_with_an_unknown_token_is_harmless(client: AsyncClient) -> None:
    response = await client.post(LOGOUT, json={"refresh_token": "never-issued"})
    assert response.status_code == 204


async def test_refresh_tokens_are_stored_only_as_digests(
    users: UserFactory, database: Database
) -> None:
    """Opaque, 256 random bits, stored as a SHA-256 digest with its family, expiries, use and
    revocation: the database alone never yields a usable token."""
    account = await users.account()
    assert len(base64.urlsafe_b64decode(account.refresh_token + "=")) == 32
    async with database.sessions() as session:
        stored = await session.scalar(select(RefreshToken))
    assert stored is not None
    assert stored.token_digest == refresh_token_digest(account.refresh_token)
    assert account.refresh_token not in str(vars(stored))
    assert stored.family_id
    assert (stored.used_at, stored.revoked_at) == (None, None)
    assert utc_now() < stored.expires_at <= stored.family_expires_at


async def _set_token_times(database: Database, raw_token: str, **times: object) -> None:
    async with database.sessions() as session:
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.token_digest == refresh_token_digest(raw_token))
            .values(**times)
        )
        await session.commit()


@pytest.fixture
async def committed_app(settings: Settings, engine: AsyncEngine) -> AsyncIterator[FastAPI]:
    """An app whose requests commit for real, on their own connections (for races)."""
    database = Database(engine=engine, sessions=create_session_factory(engine))
    app = create_app(settings, database)
    async with app.router.lifespan_context(app):
        yield app
    async with database.sessions() as session:
        await session.execute(delete(User).where(User.email == "racer@example.com"))
        await session.commit()


async def test_fifty_parallel_refreshes_with_one_token_yield_one_pair(
    committed_app: FastAPI,
) -> None:
    transport = ASGITransport(app=committed_app)
    async with AsyncClient(transport=transport, base_url="http://test") as client:
        signup = {"email": "racer@example.com", "password": "correct horse battery"}
        assert (await client.post("/api/v1/users", json=signup)).status_code == 201
        login = await client.post(
            TOKEN, data={"username": signup["email"], "password": signup["password"]}
        )
        token = login.json()["refresh_token"]
        responses = await asyncio.gather(
            *(client.post(REFRESH, json={"refresh_token": token}) for _ in range(50))
        )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] + [401] * 49


async def test_a_failed_login_speaks_oauth2_and_problem(
    client: AsyncClient, users: UserFactory
) -> None:
    """RFC 6749 5.2: a 400 with `error` and `error_description`, beside the problem members,
    so OAuth2 clients (the docs' Authorize dialog too) show why."""
    user = await users.create()
    response = await client.post(TOKEN, data={"username": user.email, "password": "wrong one"})
    body = assert_problem(response, 400)
    assert response.headers["cache-control"] == "no-store"
    assert body["error"] == "invalid_grant"
    assert body["error_description"] == body["detail"] == "Incorrect e-mail or password."
    assert body["status"] == 400
    assert body["request_id"]


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"username": "a@example.com"}, "invalid_request"),
        ({"username": "", "password": "x"}, "invalid_request"),
        (
            {"username": "a@example.com", "password": "x", "grant_type": "client_credentials"},
            "unsupported_grant_type",
        ),
    ],
)
async def test_a_malformed_token_request_is_an_oauth2_400(
    client: AsyncClient, form: dict[str, str], error: str
) -> None:
    response = await client.post(TOKEN, data=form)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == error
    assert body["errors"]  # where the request is wrong, as in any validation problem


async def test_the_docs_authorize_dialog_form_is_accepted(
    client: AsyncClient, users: UserFactory
) -> None:
    """Swagger UI sends grant_type, and client_id/client_secret/scope when filled in: the
    e-mail and the password are all that count."""
    user = await users.create()
    form = {
        "grant_type": "password",
        "username": user.email,
        "password": "correct horse battery",
        "client_id": "",
        "client_secret": "",
        "scope": "",
    }
    assert (await client.post(TOKEN, data=form)).status_code == 200


async def test_password_hashing_leaves_the_event_loop_free(app_client: AppClient) -> None:
    """bcrypt runs in a worker thread: while a slow login hashes, other requests are served
    (had it run on the event loop, they would wait for the login to finish)."""
    async with app_client(bcrypt_rounds=14) as client:  # about a second a check
        form = {"username": "nobody@example.com", "password": "a password"}
        login = asyncio.create_task(client.post(TOKEN, data=form))
        await asyncio.sleep(0.1)  # the login is hashing
        for _ in range(5):
            assert (await client.get("/health/live")).status_code == 200
        assert not login.done()
        assert (await login).status_code == 400
