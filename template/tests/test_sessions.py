"""A user's sessions: listed with what they are, ended one by one or all at once, and an
ended session's access tokens refused at once."""

from httpx import AsyncClient

from tests.assertions import assert_problem
from tests.conftest import AppClient
from tests.factories import DEFAULT_PASSWORD, SignedInUser, UserFactory

SESSIONS = "/api/v1/users/me/sessions"
ME = "/api/v1/users/me"


async def log_in(client: AsyncClient, email: str, agent: str) -> dict[str, str]:
    response = await client.post(
        "/api/v1/auth/token",
        data={"username": email, "password": DEFAULT_PASSWORD},
        headers={"User-Agent": agent},
    )
    assert response.status_code == 200, response.text
    tokens: dict[str, str] = response.json()
    return tokens


def bearer(tokens: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def test_the_list_shows_each_login_and_which_is_current(
    app_client: AppClient, users: UserFactory
) -> None:
    user = await users.create()
    async with app_client(peer="198.51.100.1") as laptop:
        first = await log_in(laptop, user.email, "Laptop Browser/1.0")
    async with app_client(peer="198.51.100.2") as phone:
        second = await log_in(phone, user.email, "Phone App/2.0")
        listed = await phone.get(SESSIONS, headers=bearer(second))
        assert listed.status_code == 200, listed.text
        sessions = listed.json()
        assert [(s["client_address"], s["user_agent"], s["current"]) for s in sessions] == [
            ("198.51.100.2", "Phone App/2.0", True),
            ("198.51.100.1", "Laptop Browser/1.0", False),
        ]
        assert all(s["created_at"] == s["last_used_at"] for s in sessions)
    async with app_client(peer="198.51.100.3") as laptop_elsewhere:
        refreshed = await laptop_elsewhere.post(
            "/api/v1/auth/refresh",
            json={"refresh_token": first["refresh_token"]},
            headers={"User-Agent": "Laptop Browser/1.1"},
        )
        assert refreshed.status_code == 200
        listed_again = (await laptop_elsewhere.get(SESSIONS, headers=bearer(second))).json()
        laptop_session = next(s for s in listed_again if not s["current"])
    # A refresh is a use: it moves the last use on, not the session's start.
    assert laptop_session["client_address"] == "198.51.100.3"
    assert laptop_session["user_agent"] == "Laptop Browser/1.1"
    assert laptop_session["last_used_at"] > laptop_session["created_at"]


async def test_ending_a_session_kills_its_tokens_at_once(
    client: AsyncClient, users: UserFactory
) -> None:
    mine = await users.account()
    other_tokens = await users.login(mine.user.email)
    sessions = (await client.get(SESSIONS, headers=mine.headers)).json()
    other = next(s["id"] for s in sessions if not s["current"])
    assert (await client.delete(f"{SESSIONS}/{other}", headers=mine.headers)).status_code == 204
    assert_problem(await client.get(ME, headers=bearer(other_tokens)), 401)
    refreshed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": other_tokens["refresh_token"]}
    )
    assert_problem(refreshed, 401)
    assert (await client.get(ME, headers=mine.headers)).status_code == 200
    assert [s["current"] for s in (await client.get(SESSIONS, headers=mine.headers)).json()] == [
        True
    ]
    # Gone now, like an id that never was.
    assert_problem(await client.delete(f"{SESSIONS}/{other}", headers=mine.headers), 404)


async def test_no_one_ends_another_users_session(client: AsyncClient, users: UserFactory) -> None:
    mine = await users.account()
    theirs = await users.account()
    assert_problem(
        await client.delete(f"{SESSIONS}/{theirs.session_id}", headers=mine.headers), 404
    )
    assert (await client.get(ME, headers=theirs.headers)).status_code == 200


async def test_logging_out_everywhere_ends_this_session_too(
    client: AsyncClient, users: UserFactory
) -> None:
    mine: SignedInUser = await users.account()
    elsewhere = await users.login(mine.user.email)
    assert (await client.delete(SESSIONS, headers=mine.headers)).status_code == 204
    for headers in (mine.headers, bearer(elsewhere)):
        assert_problem(await client.get(ME, headers=headers), 401)
    await users.login(mine.user.email)  # the password still works
