"""Access tokens: anything but a valid, current token of an active user is a 401."""

import base64
import hmac
import json
import time
import uuid
from typing import Any

import pytest
from httpx import AsyncClient, Response
from jose import jwt

from app.core.config import Settings
from app.models import User
from tests.factories import UserFactory

ME = "/api/v1/users/me"
NEW_PASSWORD = "a brand new passphrase"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims_for(user: User, **changes: Any) -> dict[str, Any]:
    """The claims of a valid access token of `user`, with `changes` applied."""
    now = time.time()
    claims: dict[str, Any] = {
        "sub": str(user.id),
        "iat": now,  # sub-second like the service's own, so it is after the user's creation
        "exp": int(now) + 300,
        "jti": uuid.uuid4().hex,
        "type": "access",
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


def assert_problem(response: Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["request_id"] == response.headers["x-request-id"]


async def assert_refused(client: AsyncClient, token: str) -> None:
    """GET /users/me with this bearer token answers a 401 problem asking for a bearer token."""
    response = await client.get(ME, headers=bearer(token))
    assert_problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"


async def test_a_token_with_the_right_claims_works(
    client: AsyncClient, users: UserFactory, settings: Settings
) -> None:
    """Positive control: the tokens the tests below spoil are accepted when left intact."""
    user = await users.create()
    header = json.dumps({"alg": settings.algorithm, "typ": "JWT"})
    for token in (
        sign(claims_for(user), settings),
        sign_by_hand(header, claims_for(user), settings),
    ):
        response = await client.get(ME, headers=bearer(token))
        assert response.status_code == 200, response.text
        assert response.json()["id"] == str(user.id)


async def test_alg_none_is_refused(
    client: AsyncClient, users: UserFactory, settings: Settings
) -> None:
    """An unsigned token is refused: the accepted algorithms are pinned, not read from the token."""
    header = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = b64url(json.dumps(claims_for(await users.create())).encode())
    await assert_refused(client, f"{header}.{payload}.")


async def test_another_algorithm_is_refused(
    client: AsyncClient, users: UserFactory, settings: Settings
) -> None:
    """A token signed with the right key but HS512, when HS256 is configured, is refused."""
    assert settings.algorithm == "HS256"
    token = sign(claims_for(await users.create()), settings, algorithm="HS512")
    await assert_refused(client, token)


async def test_a_tampered_payload_is_refused(
    client: AsyncClient, users: UserFactory, settings: Settings
) -> None:
    """Swapping the payload of a genuine token (to become another user) breaks its signature."""
    attacker, victim = await users.create(), await users.create()
    header, _payload, signature = sign(claims_for(attacker), settings).split(".")
    forged_payload = b64url(json.dumps(claims_for(victim)).encode())
    await assert_refused(client, f"{header}.{forged_payload}.{signature}")


async def test_a_token_signed_with_another_key_is_refused(
    client: AsyncClient, users: UserFactory, settings: Settings
) -> None:
    """Only the service's own key makes a valid signature."""
    token = sign(claims_for(await users.create()), settings, key="another-key-" + "x" * 40)
    await assert_refused(client, token)


@pytest.mark.parametrize("claim", ["exp", "sub", "type", "iat", "jti"])
async def test_a_signed_token_missing_a_required_claim_is_refused(
    client: AsyncClient, users: UserFactory, settings: Settings, claim: str
) -> None:
    """Required claims are enforced, not assumed: a token without one is refused."""
    claims = claims_for(await users.create())
    del claims[claim]
    await assert_refused(client, sign(claims, settings))


async def test_a_signed_token_of_another_type_is_refused(
    client: AsyncClient, users: UserFactory, settings: Settings
) -> None:
    """The `type` claim keeps access tokens apart from any other token signed with the key."""
    claims = claims_for(await users.create(), type="refresh")
    await assert_refused(client, sign(claims, settings))


async def test_an_expired_token_is_refused(
    client: AsyncClient, users: UserFactory, settings: Settings
) -> None:
    """A token past its `exp` is refused (iat stays valid, so expiry is the only fault)."""
    claims = claims_for(await users.create(), exp=int(time.time()) - 60)
    await assert_refused(client, sign(claims, settings))


async def test_a_token_not_yet_valid_is_refused(
    client: AsyncClient, users: UserFactory, settings: Settings
) -> None:
    """A token whose `nbf` lies in the future is refused."""
    claims = claims_for(await users.create(), nbf=int(time.time()) + 60)
    await assert_refused(client, sign(claims, settings))


async def test_a_token_issued_in_the_future_is_refused(
    client: AsyncClient, users: UserFactory, settings: Settings
) -> None:
    """A token whose `iat` is beyond the one second of allowed clock skew is refused."""
    claims = claims_for(await users.create(), iat=time.time() + 60)
    await assert_refused(client, sign(claims, settings))


async def test_a_refresh_token_is_not_a_bearer_token(
    client: AsyncClient, users: UserFactory
) -> None:
    """The opaque refresh token from login does not authenticate a request."""
    account = await users.account()
    await assert_refused(client, account.refresh_token)


async def test_an_access_token_is_not_a_refresh_token(
    client: AsyncClient, users: UserFactory
) -> None:
    """POST /auth/refresh refuses an access token: 401, or 422 when it exceeds the length cap."""
    account = await users.account()
    response = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": account.access_token}
    )
    assert response.status_code in (401, 422), response.text
    assert_problem(response, response.status_code)


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("", id="empty"),
        pytest.param("a.b.c", id="three-dots"),
        pytest.param("%%%.$$$.***", id="not-base64"),
        # httpx hands the NUL byte to the app unchanged (no HTTP/1.1 parser in between).
        pytest.param("eyJhbGciOiJIUzI1NiJ9.\x00.c2ln", id="nul-byte"),
        pytest.param("a" * 10_240, id="10kb-garbage"),
    ],
)
async def test_garbage_is_refused(client: AsyncClient, token: str) -> None:
    """Whatever the Authorization header holds, a malformed token is a 401, never a 500."""
    await assert_refused(client, token)


async def test_an_oversized_valid_token_is_refused(
    client: AsyncClient, users: UserFactory, settings: Settings
) -> None:
    """A correctly signed 10 KB token is refused by size, before any decoding."""
    claims = claims_for(await users.create(), padding="x" * 10_240)
    await assert_refused(client, sign(claims, settings))


async def test_a_deeply_nested_header_is_refused(
    client: AsyncClient, users: UserFactory, settings: Settings
) -> None:
    """A properly signed token whose header JSON nests 1000 levels deep is a 401, not a 500."""
    nested = "[" * 1000 + "]" * 1000
    header = f'{{"alg":"{settings.algorithm}","typ":"JWT","x":{nested}}}'
    await assert_refused(client, sign_by_hand(header, claims_for(await users.create()), settings))


async def test_the_token_of_a_deleted_user_is_refused(
    client: AsyncClient, users: UserFactory
) -> None:
    """Deleting a user ends their access at once, without waiting for the token to expire."""
    admin, account = await users.account(superuser=True), await users.account()
    response = await client.delete(f"/api/v1/users/{account.user.id}", headers=admin.headers)
    assert response.status_code == 204, response.text
    await assert_refused(client, account.access_token)


async def test_the_token_of_a_deactivated_user_is_refused(
    client: AsyncClient, users: UserFactory, settings: Settings
) -> None:
    """Deactivating a user ends their access at once."""
    admin, account = await users.account(superuser=True), await users.account()
    response = await client.patch(
        f"/api/v1/users/{account.user.id}", headers=admin.headers, json={"is_active": False}
    )
    assert response.status_code == 200, response.text
    await assert_refused(client, account.access_token)
    # A token issued after the deactivation is refused too: is_active itself is checked.
    await assert_refused(client, sign(claims_for(account.user), settings))


async def test_a_password_change_ends_older_tokens_only(
    client: AsyncClient, users: UserFactory
) -> None:
    """A token issued before a password change is refused; one from a later login works."""
    account = await users.account()
    response = await users.change_password(account, NEW_PASSWORD)
    assert response.status_code == 204, response.text
    await assert_refused(client, account.access_token)

    tokens = await users.login(account.user.email, NEW_PASSWORD)
    response = await client.get(ME, headers=bearer(tokens["access_token"]))
    assert response.status_code == 200, response.text
