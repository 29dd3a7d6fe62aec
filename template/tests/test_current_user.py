"""The two ways a route names its user: `CurrentAccount` (a frozen read, what the template's
own routes use) and `CurrentUser` (a `User` of the request's unit of work, for routes that
change it or follow its relationships). Both refuse the same tokens."""

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from app.api.dependencies import CurrentAccount, CurrentUser, SuperUser, SuperuserAccount
from app.core.clock import utc_now
from app.core.config import Settings
from app.core.exceptions import Unauthorized
from app.core.security import create_access_token
from app.db.session import Database
from app.main import create_app
from app.repositories.account import read_account
from app.schemas.user import UserUpdate, UserUpdateMe
from app.services import wiring
from tests.assertions import assert_problem
from tests.factories import UserFactory


@pytest.fixture
async def extended(settings: Settings, database: Database) -> AsyncIterator[AsyncClient]:
    """The app with routes written as a team would write its own."""
    app: FastAPI = create_app(settings, database)

    async def rename(user: CurrentUser) -> dict[str, str]:
        user.full_name = "Renamed Through The Unit Of Work"
        return {"email": user.email}

    async def whoami(account: CurrentAccount) -> dict[str, str]:
        return {"email": account.email}

    async def admin_user(user: SuperUser) -> dict[str, str]:
        return {"email": user.email}

    async def admin_account(account: SuperuserAccount) -> dict[str, str]:
        return {"email": account.email}

    app.add_api_route("/rename", rename, methods=["POST"])
    app.add_api_route("/whoami", whoami)
    app.add_api_route("/admin-user", admin_user)
    app.add_api_route("/admin-account", admin_account)
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client,
    ):
        yield client


async def test_current_user_is_part_of_the_unit_of_work(
    extended: AsyncClient, users: UserFactory
) -> None:
    account = await users.account()

    response = await extended.post("/rename", headers=account.headers)

    assert response.status_code == 200, response.text
    assert response.json() == {"email": account.user.email}
    me = await extended.get("/api/v1/users/me", headers=account.headers)
    assert me.json()["full_name"] == "Renamed Through The Unit Of Work"


@pytest.mark.parametrize(("method", "path"), [("POST", "/rename"), ("GET", "/whoami")])
async def test_both_refuse_a_deactivated_user(
    extended: AsyncClient, users: UserFactory, settings: Settings, method: str, path: str
) -> None:
    admin = await users.account(superuser=True)
    account = await users.account()
    assert (await extended.request(method, path, headers=account.headers)).status_code == 200

    deactivated = await extended.patch(
        f"/api/v1/users/{account.user.id}", headers=admin.headers, json={"is_active": False}
    )
    assert deactivated.status_code == 200
    # Deactivation also ends every session; a token issued after it is refused all the same.
    later = create_access_token(account.user.id, account.session_id, settings, utc_now())
    response = await extended.request(method, path, headers={"Authorization": f"Bearer {later}"})

    assert_problem(response, 401)


@pytest.mark.parametrize("path", ["/admin-user", "/admin-account"])
async def test_both_superuser_forms_admit_only_superusers(
    extended: AsyncClient, users: UserFactory, path: str
) -> None:
    admin = await users.account(superuser=True)
    account = await users.account()

    assert (await extended.get(path, headers=admin.headers)).json() == {"email": admin.user.email}
    assert (await extended.get(path, headers=account.headers)).status_code == 403
    assert (await extended.get(path)).status_code == 401


async def test_a_session_ended_after_authentication_changes_nothing(
    database: Database, settings: Settings, users: UserFactory
) -> None:
    """Authenticated a moment before the password changed, the request still finds, under
    the user's row lock, that its session is over: 401, and the profile stays as it was."""
    account = await users.account()
    user = account.user
    authenticated = await read_account(database, user.id, account.session_id)
    assert authenticated is not None
    async with database.unit_of_work() as session:
        await wiring.user_service(session, settings).update(
            user.id, UserUpdate(password="a password set meanwhile")
        )

    with pytest.raises(Unauthorized):
        async with database.unit_of_work() as session:
            await wiring.user_service(session, settings).update_me(
                authenticated, UserUpdateMe(full_name="Too Late")
            )
    async with database.unit_of_work() as session:
        current = await wiring.user_service(session, settings).get(user.id)
    assert current.full_name != "Too Late"
