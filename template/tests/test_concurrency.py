"""Requests that race: on their own connections, committing for real."""

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.core.config import Settings
from app.db.session import Database, create_session_factory
from app.main import create_app
from app.models import User
from app.repositories.user import UserRepository
from app.schemas.user import UserUpdate
from app.services import wiring

PASSWORD = "correct horse battery"
PREFIX = "racer-"
TOKEN = "/api/v1/auth/token"
USERS = "/api/v1/users"

Serve = Callable[..., AbstractAsyncContextManager[AsyncClient]]


@pytest.fixture
async def serve(settings: Settings, engine: AsyncEngine) -> AsyncIterator[Serve]:
    """Clients of apps whose requests commit for real, each on a connection of its own."""

    @asynccontextmanager
    async def make(
        database_engine: AsyncEngine | None = None, **overrides: Any
    ) -> AsyncIterator[AsyncClient]:
        bind = database_engine or engine
        database = Database(engine=bind, sessions=create_session_factory(bind))
        app = create_app(Settings(_env_file=None, **(settings.model_dump() | overrides)), database)
        async with (
            app.router.lifespan_context(app),
            AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client,
        ):
            yield client

    yield make
    async with engine.begin() as connection:
        await connection.execute(delete(User).where(User.email.startswith(PREFIX)))


async def sign_up(client: AsyncClient, name: str) -> str:
    email = f"{PREFIX}{name}@example.com"
    response = await client.post(USERS, json={"email": email, "password": PASSWORD})
    assert response.status_code == 201, response.text
    return email


async def log_in(client: AsyncClient, email: str) -> dict[str, str]:
    response = await client.post(TOKEN, data={"username": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    tokens: dict[str, str] = response.json()
    return tokens


async def test_logins_hold_no_connection_while_hashing(serve: Serve, settings: Settings) -> None:
    """A burst of logins, each a bcrypt check, through a pool of two connections that waits
    at most half a second: it succeeds only if no login holds a connection while hashing."""
    if settings.is_sqlite:
        pytest.skip("PostgreSQL only: SQLite opens a connection per use, there is no pool")
    small_pool = create_async_engine(
        settings.database_url, pool_size=2, max_overflow=0, pool_timeout=0.5
    )
    try:
        async with serve(small_pool, bcrypt_rounds=11) as client:
            emails = [await sign_up(client, f"pool-{number}") for number in range(12)]
            forms = [{"username": email, "password": PASSWORD} for email in emails]
            responses = await asyncio.gather(*(client.post(TOKEN, data=form) for form in forms))
    finally:
        await small_pool.dispose()
    assert [response.status_code for response in responses] == [200] * len(forms)


async def test_a_login_racing_a_password_change_cannot_outlive_it(
    serve: Serve, engine: AsyncEngine, settings: Settings
) -> None:
    """The password changes while a login checks the old one: that login gets no session."""
    async with serve(bcrypt_rounds=13) as client:  # a check of about half a second
        email = await sign_up(client, "race")
        login = asyncio.create_task(
            client.post(TOKEN, data={"username": email, "password": PASSWORD})
        )
        await asyncio.sleep(0.15)  # the login has read the user and is hashing
        async with create_session_factory(engine)() as session:
            user = await UserRepository(session).get_by_email(email)
            assert user is not None
            fast = settings.model_copy(update={"bcrypt_rounds": 4})
            service = wiring.user_service(session, fast)
            await service.update(user.id, UserUpdate(password="changed meanwhile"))
            await session.commit()
        response = await login
        if response.status_code == 200:  # then nothing it was given may still work
            tokens = response.json()
            refresh = {"refresh_token": tokens["refresh_token"]}
            bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
            assert (await client.post("/api/v1/auth/refresh", json=refresh)).status_code == 401
            assert (await client.get(f"{USERS}/me", headers=bearer)).status_code == 401
        else:
            assert response.status_code == 400, response.text
            assert response.json()["error"] == "invalid_grant"


async def count_active_superusers(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        query = select(func.count()).where(User.is_superuser, User.is_active)
        return await connection.scalar(query) or 0


async def test_two_superusers_demoting_each_other_leave_one(
    serve: Serve, engine: AsyncEngine
) -> None:
    assert await count_active_superusers(engine) == 0  # the rule counts every superuser
    async with serve() as client:
        for attempt in range(5):
            tokens = []
            for name in ("a", "b"):
                email = await sign_up(client, f"admin-{attempt}-{name}")
                async with engine.begin() as connection:
                    await connection.execute(
                        update(User).where(User.email == email).values(is_superuser=True)
                    )
                tokens.append((await log_in(client, email))["access_token"])
            me = [
                (await client.get(f"{USERS}/me", headers={"Authorization": f"Bearer {t}"})).json()
                for t in tokens
            ]
            demotions = [
                client.patch(
                    f"{USERS}/{me[1 - index]['id']}",
                    headers={"Authorization": f"Bearer {token}"},
                    json={"is_superuser": False},
                )
                for index, token in enumerate(tokens)
            ]
            statuses = sorted(response.status_code for response in await asyncio.gather(*demotions))
            assert await count_active_superusers(engine) == 1, (attempt, statuses)
            # The loser is refused as the last superuser (409), or, had it waited for the
            # winner from its first query on (SQLite's writers do), as a superuser no more.
            assert statuses[0] == 200, (attempt, statuses)
            assert statuses[1] in (403, 409), (attempt, statuses)
            async with engine.begin() as connection:  # the next attempt starts from none
                await connection.execute(
                    update(User).where(User.email.startswith(PREFIX)).values(is_superuser=False)
                )
