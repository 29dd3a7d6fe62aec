"""Sign-up, self-service profile changes and user administration."""

import uuid

from httpx import AsyncClient

from tests.assertions import assert_problem
from tests.factories import DEFAULT_PASSWORD, UserFactory

USERS = "/api/v1/users"


async def test_sign_up_returns_the_user_without_secrets(client: AsyncClient) -> None:
    response = await client.post(
        USERS, json={"email": "New@Example.com", "password": DEFAULT_PASSWORD, "full_name": "New"}
    )
    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "new@example.com"
    assert body["is_active"] is True
    assert body["is_superuser"] is False
    assert "hashed_password" not in body
    assert "password" not in body


async def test_duplicate_email_is_409_whatever_its_case(
    client: AsyncClient, users: UserFactory
) -> None:
    await users.create(email="taken@example.com")
    response = await client.post(
        USERS, json={"email": "TAKEN@example.com", "password": DEFAULT_PASSWORD}
    )
    assert_problem(response, 409)


async def test_sign_up_cannot_grant_privileges(client: AsyncClient) -> None:
    response = await client.post(
        USERS,
        json={"email": "sneaky@example.com", "password": DEFAULT_PASSWORD, "is_superuser": True},
    )
    assert response.status_code == 422


async def test_me_returns_the_current_user(client: AsyncClient, users: UserFactory) -> None:
    account = await users.account()
    response = await client.get(f"{USERS}/me", headers=account.headers)
    assert response.status_code == 200
    assert response.json()["id"] == str(account.user.id)


async def test_update_me_changes_the_name(client: AsyncClient, users: UserFactory) -> None:
    account = await users.account()
    response = await client.patch(
        f"{USERS}/me", headers=account.headers, json={"full_name": "Ada Lovelace"}
    )
    assert response.status_code == 200
    assert response.json()["full_name"] == "Ada Lovelace"


async def test_users_cannot_raise_their_privileges_or_skip_the_current_password(
    client: AsyncClient, users: UserFactory
) -> None:
    """PATCH /users/me takes the name only: privileges and credentials are refused (422), and
    the password and e-mail have operations of their own that ask for the current password."""
    account = await users.account()
    for field, value in [
        ("is_superuser", True),
        ("is_active", True),
        ("hashed_password", "x"),
        ("id", str(uuid.uuid4())),
        ("email", "new@example.com"),
        ("password", "a new passphrase"),
        ("current_password", account.password),
    ]:
        response = await client.patch(f"{USERS}/me", headers=account.headers, json={field: value})
        assert response.status_code == 422, field
    promote = await client.patch(
        f"{USERS}/{account.user.id}", headers=account.headers, json={"is_superuser": True}
    )
    assert promote.status_code == 403
    me = await client.get(f"{USERS}/me", headers=account.headers)
    assert me.json()["is_superuser"] is False
    wrong = await client.put(
        f"{USERS}/me/password",
        headers=account.headers,
        json={"current_password": "not the password", "new_password": "a brand new password"},
    )
    assert wrong.status_code == 403
    missing = await client.put(
        f"{USERS}/me/password", headers=account.headers, json={"new_password": "a new password"}
    )
    assert missing.status_code == 422
    await users.login(account.user.email, account.password)  # nothing changed


async def test_password_change_ends_every_session(client: AsyncClient, users: UserFactory) -> None:
    account = await users.account()
    response = await users.change_password(account, "a brand new password")
    assert response.status_code == 204
    # The old refresh token and the old access token are both dead...
    refresh = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": account.refresh_token}
    )
    assert refresh.status_code == 401
    assert (await client.get(f"{USERS}/me", headers=account.headers)).status_code == 401
    # ...the old password no longer works, the new one does.
    old = await client.post(
        "/api/v1/auth/token", data={"username": account.user.email, "password": account.password}
    )
    assert old.status_code == 400
    assert old.json()["error"] == "invalid_grant"
    await users.login(account.user.email, "a brand new password")


async def test_no_token_is_401_and_no_privilege_is_403(
    client: AsyncClient, users: UserFactory
) -> None:
    some_id = uuid.uuid4()
    protected = [
        ("GET", f"{USERS}/me"),
        ("GET", USERS),
        ("GET", f"{USERS}/{some_id}"),
        ("PATCH", f"{USERS}/{some_id}"),
        ("DELETE", f"{USERS}/{some_id}"),
    ]
    for method, path in protected:
        response = await client.request(method, path, json={} if method == "PATCH" else None)
        assert response.status_code == 401, (method, path)
        assert response.headers["www-authenticate"] == "Bearer"
    account = await users.account()
    assert (await client.get(USERS, headers=account.headers)).status_code == 403


async def test_a_user_cannot_read_change_or_delete_another(
    client: AsyncClient, users: UserFactory
) -> None:
    """Only superusers manage other users; anyone else gets a 403, and nothing changes."""
    account = await users.account()
    other = await users.create()
    requests = [
        client.get(f"{USERS}/{other.id}", headers=account.headers),
        client.patch(f"{USERS}/{other.id}", headers=account.headers, json={"full_name": "x"}),
        client.delete(f"{USERS}/{other.id}", headers=account.headers),
    ]
    for request in requests:
        response = await request
        assert response.status_code == 403, response.request.url
    still_there = await users.login(other.email)
    assert still_there["access_token"]


async def test_superuser_walks_every_user_page_by_page(
    client: AsyncClient, users: UserFactory
) -> None:
    admin = await users.account(superuser=True)
    created = [admin.user.id] + [(await users.create()).id for _ in range(4)]
    seen: list[str] = []
    after: str | None = None
    for _ in range(3):  # 5 users, 2 a page: the third page is the last
        params = {"limit": 2} | ({"after": after} if after else {})
        response = await client.get(USERS, headers=admin.headers, params=params)
        assert response.status_code == 200
        page = response.json()
        assert page["limit"] == 2
        seen += [item["id"] for item in page["items"]]
        after = page["next"]
    assert after is None  # the last page says so
    assert seen == sorted(str(user_id) for user_id in created)


async def test_a_page_after_the_last_user_is_empty(client: AsyncClient, users: UserFactory) -> None:
    admin = await users.account(superuser=True)
    params = {"after": "ffffffff-ffff-7fff-bfff-ffffffffffff"}
    response = await client.get(USERS, headers=admin.headers, params=params)
    assert response.status_code == 200
    assert response.json() == {"items": [], "limit": 20, "next": None}


async def test_superuser_reads_updates_and_deletes_a_user(
    client: AsyncClient, users: UserFactory
) -> None:
    admin = await users.account(superuser=True)
    target = await users.create()
    path = f"{USERS}/{target.id}"

    read = await client.get(path, headers=admin.headers)
    assert read.status_code == 200
    assert read.json()["email"] == target.email

    promoted = await client.patch(path, headers=admin.headers, json={"is_superuser": True})
    assert promoted.status_code == 200
    assert promoted.json()["is_superuser"] is True

    deleted = await client.delete(path, headers=admin.headers)
    assert deleted.status_code == 204
    assert (await client.get(path, headers=admin.headers)).status_code == 404


async def test_unknown_user_is_404(client: AsyncClient, users: UserFactory) -> None:
    admin = await users.account(superuser=True)
    missing = f"{USERS}/{uuid.uuid4()}"
    assert (await client.get(missing, headers=admin.headers)).status_code == 404
    assert (await client.patch(missing, headers=admin.headers, json={})).status_code == 404
    assert (await client.delete(missing, headers=admin.headers)).status_code == 404


async def test_deactivation_locks_the_user_out(client: AsyncClient, users: UserFactory) -> None:
    admin = await users.account(superuser=True)
    target = await users.account()
    response = await client.patch(
        f"{USERS}/{target.user.id}", headers=admin.headers, json={"is_active": False}
    )
    assert response.status_code == 200
    assert (await client.get(f"{USERS}/me", headers=target.headers)).status_code == 401
    refresh = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": target.refresh_token}
    )
    assert refresh.status_code == 401
    login = await client.post(
        "/api/v1/auth/token", data={"username": target.user.email, "password": target.password}
    )
    assert login.status_code == 400
    assert login.json()["error"] == "invalid_grant"


async def test_admin_sets_a_password_that_ends_sessions(
    client: AsyncClient, users: UserFactory
) -> None:
    admin = await users.account(superuser=True)
    target = await users.account()
    response = await client.patch(
        f"{USERS}/{target.user.id}", headers=admin.headers, json={"password": "set by the admin"}
    )
    assert response.status_code == 200
    assert (await client.get(f"{USERS}/me", headers=target.headers)).status_code == 401
    await users.login(target.user.email, "set by the admin")


async def test_the_last_superuser_cannot_be_removed(
    client: AsyncClient, users: UserFactory
) -> None:
    admin = await users.account(superuser=True)
    path = f"{USERS}/{admin.user.id}"
    for change in ({"is_superuser": False}, {"is_active": False}):
        response = await client.patch(path, headers=admin.headers, json=change)
        assert response.status_code == 409, change
    assert (await client.delete(path, headers=admin.headers)).status_code == 409
    # With a second superuser, the first may step down.
    await users.create(superuser=True)
    response = await client.patch(path, headers=admin.headers, json={"is_superuser": False})
    assert response.status_code == 200


async def test_superuser_cannot_give_a_taken_email(client: AsyncClient, users: UserFactory) -> None:
    admin = await users.account(superuser=True)
    await users.create(email="owner@example.com")
    target = await users.create()
    response = await client.patch(
        f"{USERS}/{target.id}", headers=admin.headers, json={"email": "OWNER@example.com"}
    )
    assert response.status_code == 409
    unchanged = await client.get(f"{USERS}/{target.id}", headers=admin.headers)
    assert unchanged.json()["email"] == target.email


async def test_a_common_password_is_refused_wherever_one_is_set(
    client: AsyncClient, users: UserFactory
) -> None:
    """Sign-up, a change of one's own password and a superuser's reset all refuse the most
    common passwords, whatever their case and surrounding spaces, and the 422 says why.
    (OWASP ASVS 6.2.12)"""
    admin, account = await users.account(superuser=True), await users.account()
    attempts = [
        ("POST", USERS, None, {"email": "common@example.com", "password": "password1"}),
        ("POST", USERS, None, {"email": "common@example.com", "password": " QwertyUIOP "}),
        (
            "PUT",
            f"{USERS}/me/password",
            account.headers,
            {"current_password": account.password, "new_password": "Jennifer"},
        ),
        ("PATCH", f"{USERS}/{account.user.id}", admin.headers, {"password": "00000000"}),
    ]
    for method, path, headers, body in attempts:
        response = await client.request(method, path, headers=headers, json=body)
        problem = assert_problem(response, 422)
        [error] = problem["errors"]
        assert "most common" in error["msg"], error
    # Nothing changed: the account still signs in with its own password.
    await users.login(account.user.email, account.password)
    uncommon = {"email": "common@example.com", "password": "jennifer in the orchard"}
    assert (await client.post(USERS, json=uncommon)).status_code == 201


async def test_answers_with_account_data_are_never_cached(
    client: AsyncClient, users: UserFactory
) -> None:
    """Every answer of the API says `Cache-Control: no-store`: a shared computer's browser
    or a proxy must not keep someone's profile for the next person."""
    admin, account = await users.account(superuser=True), await users.account()
    answers = [
        await client.post(
            USERS, json={"email": "cached@example.com", "password": DEFAULT_PASSWORD}
        ),
        await client.get(f"{USERS}/me", headers=account.headers),
        await client.patch(f"{USERS}/me", headers=account.headers, json={"full_name": "Ada"}),
        await client.get(USERS, headers=admin.headers),
        await client.get(f"{USERS}/{account.user.id}", headers=admin.headers),
    ]
    for response in answers:
        assert response.status_code in (200, 201), response.text
        assert response.headers["cache-control"] == "no-store", response.request.url
