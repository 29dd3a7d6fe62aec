"""Access tokens: anything but a valid, current token of an active user is a 401."""

import base64
import hmac
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from httpx import AsyncClient
from jose import jwt

from app.core.config import Settings
from tests.assertions import assert_problem
from tests.factories import SignedInUser, UserFactory

ME = "/api/v1/users/me"
NEW_PASSWORD = "a brand new passphrase"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims_for(account: SignedInUser, settings: Settings, **changes: Any) -> dict[str, Any]:
    """The claims of a valid access token of `account`'s session, with `changes` applied."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": str(account.user.id),
        "sid": str(account.session_id),
        "iat": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
        "type": "access",
        "iss": settings.token_issuer,
        "aud": settings.token_audience,
    }
    claims.update(changes)
    return claims


def sign(claims: dict[str, Any], settings: Settings, *, key: str = "", algorithm: str = "") -> str:
    secret = key or settings.secret_key.get_secret_value()
    return jwt.encode(claims, secret, algorithm=algorithm or settings.algorithm)


def sign_by_hand(header_json: str, claims: dict[str, Any], settings: Settings) -> str:
    """A JWT with this exact header text, signed with the service's key and algorithm."""
    signing_input = f"{b64url(header_json.encode())}.{b64url(json.dumps(claims).encode())}"
    digest = "sha" + settings.algorithm.removeprefix("HS")  # HS256 -> sha256
    key = settings.secret_key.get_secret_value().encode()
    signature = hmac.new(key, signing_input.encode(), digest).digest()
    return f"{signing_input}.{b64url(signature)}"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def assert_refused(client: AsyncClient, token: str) -> None:
    """GET /users/me with this bearer token answers a 401 problem asking for a bearer token."""
    response = await client.get(ME, headers=bearer(token))
    assert_problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"


async def test_a_token_with_the_right_claims_works(
    client: AsyncClient, users: UserFactory, settings: Settings
) -> None:
    """Positive control: the tokens the tests below spoil are accepted when left intact."""
    user = await users.account()
    header = json.dumps({"alg": settings.algorithm, "typ": "JWT"})
    for token in (
        sign(claims_for(user, settings), settings),
        sign_by_hand(header, claims_for(user, settings), settings),
    ):
        response = await client.get(ME, headers=bearer(token))
        assert response.status_code == 200, response.text
        assert response.json()["id"] == str(user.user.id)


# A forger makes a token from a user of the service, another user, and the settings.
Forger = Callable[[SignedInUser, SignedInUser, Settings], str]


def unsigned(user: SignedInUser, _other: SignedInUser, settings: Settings) -> str:
    header = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{b64url(json.dumps(claims_for(user, settings)).encode())}."


def other_algorithm(user: SignedInUser, _other: SignedInUser, settings: Settings) -> str:
    assert settings.algorithm == "HS256"
    return sign(claims_for(user, settings), settings, algorithm="HS512")  # the right key, though


def tampered(user: SignedInUser, other: SignedInUser, settings: Settings) -> str:
    """A genuine token of `user` whose payload is swapped for one naming `other`."""
    header, _payload, signature = sign(claims_for(user, settings), settings).split(".")
    return f"{header}.{b64url(json.dumps(claims_for(other, settings)).encode())}.{signature}"


def other_key(user: SignedInUser, _other: SignedInUser, settings: Settings) -> str:
    return sign(claims_for(user, settings), settings, key="another-key-" + "x" * 40)


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(unsigned, id="alg-none"),
        pytest.param(other_algorithm, id="other-algorithm"),
        pytest.param(tampered, id="tampered-payload"),
        pytest.param(other_key, id="other-key"),
    ],
)
async def test_a_forged_token_is_refused(
    client: AsyncClient, users: UserFactory, settings: Settings, forge: Forger
) -> None:
    """Decoding pins the algorithm and the key: no token the service did not sign passes."""
    token = forge(await users.account(), await users.account(), settings)
    await assert_refused(client, token)


@pytest.mark.parametrize("claim", ["exp", "sub", "sid", "type", "iat", "jti", "iss", "aud"])
async def test_a_signed_token_missing_a_required_claim_is_refused(
    client: AsyncClient, users: UserFactory, settings: Settings, claim: str
) -> None:
    """Required claims are enforced, not assumed: a token without one is refused."""
    claims = claims_for(await users.account(), settings)
    del claims[claim]
    await assert_refused(client, sign(claims, settings))


@pytest.mark.parametrize(
    "changes",
    [
        # iat stays valid, so expiry is the only fault.
        pytest.param({"exp": int(time.time()) - 60}, id="expired"),
        pytest.param({"nbf": int(time.time()) + 60}, id="not-yet-valid"),
        # Beyond the one second of clock skew allowed.
        pytest.param({"iat": int(time.time()) + 60}, id="issued-in-the-future"),
    ],
)
async def test_a_token_outside_its_lifetime_is_refused(
    client: AsyncClient, users: UserFactory, settings: Settings, changes: dict[str, Any]
) -> None:
    claims = claims_for(await users.account(), settings, **changes)
    await assert_refused(client, sign(claims, settings))


async def test_a_token_of_one_kind_is_refused_as_the_other(
    client: AsyncClient, users: UserFactory, settings: Settings
) -> None:
    """A refresh token is no bearer token, an access token no refresh token, and a token the
    key signed with another `type` claim is neither."""
    account = await users.account()
    await assert_refused(client, account.refresh_token)
    await assert_refused(client, sign(claims_for(account, settings, type="refresh"), settings))
    response = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": account.access_token}
    )
    # 401, or 422 when the token exceeds the refresh token's length cap.
    assert response.status_code in (401, 422), response.text
    assert_problem(response, response.status_code)


def nested_header(user: SignedInUser, _other: SignedInUser, settings: Settings) -> str:
    """Properly signed, with a header whose JSON nests a thousand levels deep."""
    nested = "[" * 1000 + "]" * 1000
    header = f'{{"alg":"{settings.algorithm}","typ":"JWT","x":{nested}}}'
    return sign_by_hand(header, claims_for(user, settings), settings)


def oversized(user: SignedInUser, _other: SignedInUser, settings: Settings) -> str:
    """Correctly signed, but 10 KB: refused by its size, before any decoding."""
    return sign(claims_for(user, settings, padding="x" * 10_240), settings)


def literal(token: str) -> Forger:
    return lambda _user, _other, _settings: token


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(literal(""), id="empty"),
        pytest.param(literal("a.b.c"), id="three-dots"),
        pytest.param(literal("%%%.$$$.***"), id="not-base64"),
        # httpx hands the NUL byte to the app unchanged (no HTTP/1.1 parser in between).
        pytest.param(literal("eyJhbGciOiJIUzI1NiJ9.\x00.c2ln"), id="nul-byte"),
        pytest.param(literal("a" * 10_240), id="10kb-garbage"),
        pytest.param(oversized, id="10kb-signed"),
        pytest.param(nested_header, id="nested-header"),
    ],
)
async def test_garbage_is_refused(
    client: AsyncClient, users: UserFactory, settings: Settings, forge: Forger
) -> None:
    """Whatever the Authorization header holds, a malformed token is a 401, never a 500."""
    user = await users.account()
    await assert_refused(client, forge(user, user, settings))


async def delete(client: AsyncClient, admin: SignedInUser, account: SignedInUser) -> None:
    response = await client.delete(f"/api/v1/users/{account.user.id}", headers=admin.headers)
    assert response.status_code == 204, response.text


async def deactivate(client: AsyncClient, admin: SignedInUser, account: SignedInUser) -> None:
    response = await client.patch(
        f"/api/v1/users/{account.user.id}", headers=admin.headers, json={"is_active": False}
    )
    assert response.status_code == 200, response.text


async def change_password(client: AsyncClient, admin: SignedInUser, account: SignedInUser) -> None:
    response = await client.put(
        "/api/v1/users/me/password",
        headers=account.headers,
        json={"current_password": account.password, "new_password": NEW_PASSWORD},
    )
    assert response.status_code == 204, response.text


@pytest.mark.parametrize("end", [delete, deactivate, change_password])
async def test_the_token_of_a_gone_user_or_an_old_password_is_refused(
    client: AsyncClient,
    users: UserFactory,
    settings: Settings,
    end: Callable[[AsyncClient, SignedInUser, SignedInUser], Awaitable[None]],
) -> None:
    """Deleting or deactivating a user, or a password change, ends the access tokens issued
    before, without waiting for them to expire (their sessions end)."""
    admin, account = await users.account(superuser=True), await users.account()
    await end(client, admin, account)
    await assert_refused(client, account.access_token)
    if end is deactivate:  # is_active itself is checked: a newer token is refused too
        await assert_refused(client, sign(claims_for(account, settings), settings))


@pytest.mark.parametrize(
    "claim",
    [
        pytest.param({"iss": "another-service"}, id="issuer"),
        pytest.param({"aud": "x:staging"}, id="audience"),
    ],
)
async def test_a_token_of_another_issuer_or_audience_is_refused(
    client: AsyncClient, users: UserFactory, settings: Settings, claim: dict[str, str]
) -> None:
    """A token signed with the same key for another service or environment (a staging
    token in production) is refused: `iss` and `aud` are checked, not only present."""
    assert settings.token_audience == f"{settings.token_issuer}:{settings.env}"
    claims = claims_for(await users.account(), settings, **claim)
    await assert_refused(client, sign(claims, settings))


async def log_out(client: AsyncClient, _admin: SignedInUser, account: SignedInUser) -> None:
    response = await client.post(
        "/api/v1/auth/logout", json={"refresh_token": account.refresh_token}
    )
    assert response.status_code == 204, response.text


async def replay(client: AsyncClient, _admin: SignedInUser, account: SignedInUser) -> None:
    """The refresh token is used twice: the second use is a thief's, and ends the session."""
    for expected in (200, 401):
        response = await client.post(
            "/api/v1/auth/refresh", json={"refresh_token": account.refresh_token}
        )
        assert response.status_code == expected, response.text


@pytest.mark.parametrize("end", [log_out, replay, change_password, deactivate, delete])
async def test_every_access_token_of_an_ended_session_is_refused_at_once(
    client: AsyncClient,
    users: UserFactory,
    end: Callable[[AsyncClient, SignedInUser, SignedInUser], Awaitable[None]],
) -> None:
    """However a session ends, its access tokens answer 401 at once, long before they
    expire: the one issued at login and the ones issued by its refreshes. A logout or a
    replay ends that session only; the user's other session keeps working."""
    admin, account = await users.account(superuser=True), await users.account()
    other_session = await users.login(account.user.email, account.password)
    refreshed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": other_session["refresh_token"]}
    )
    assert refreshed.status_code == 200, refreshed.text
    for token in (account.access_token, refreshed.json()["access_token"]):
        assert (await client.get(ME, headers=bearer(token))).status_code == 200

    await end(client, admin, account)

    await assert_refused(client, account.access_token)
    other = await client.get(ME, headers=bearer(refreshed.json()["access_token"]))
    assert other.status_code == (200 if end in (log_out, replay) else 401), other.text


async def test_a_password_change_ends_older_tokens_only(
    client: AsyncClient, users: UserFactory
) -> None:
    """A token from a login after the change works."""
    account = await users.account()
    response = await users.change_password(account, NEW_PASSWORD)
    assert response.status_code == 204, response.text
    tokens = await users.login(account.user.email, NEW_PASSWORD)
    response = await client.get(ME, headers=bearer(tokens["access_token"]))
    assert response.status_code == 200, response.text
