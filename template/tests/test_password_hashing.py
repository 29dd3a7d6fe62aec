"""bcrypt runs off the event loop, in threads of its own; old hashes are upgraded."""

import asyncio
import threading
import uuid

import bcrypt
from httpx import AsyncClient

from app.core import security
from app.core.config import Settings
from app.db.session import Database
from app.models import User
from tests.factories import DEFAULT_PASSWORD, UserFactory


async def test_hashes_run_in_their_own_threads() -> None:
    name = await security._off_the_loop(lambda: threading.current_thread().name)
    assert name.startswith("bcrypt")


async def test_a_hash_leaves_the_event_loop_free() -> None:
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.005)

    ticker = asyncio.create_task(tick())
    hashed = await security.hash_password("correct horse battery", 10)
    ticker.cancel()
    assert await security.verify_password("correct horse battery", hashed)
    assert ticks >= 3  # the loop ran while the hash (tens of milliseconds) did


async def stored_hash(database: Database, user_id: uuid.UUID, new: str | None = None) -> str:
    """The user's stored hash, after setting it to `new` when given."""
    async with database.sessions() as session:
        user = await session.get(User, user_id)
        assert user is not None
        if new is not None:
            user.hashed_password = new
            await session.commit()
        return user.hashed_password


async def test_a_hash_of_another_format_or_cost_is_upgraded_at_login(
    client: AsyncClient, users: UserFactory, database: Database, settings: Settings
) -> None:
    """A legacy hash (plain bcrypt, no pre-hash) and a hash of another cost are replaced
    at the next successful login by one of the current format and cost; a failed login
    changes nothing."""
    user = await users.create()
    current_cost = f"${settings.bcrypt_rounds:02d}$"
    legacy = bcrypt.hashpw(DEFAULT_PASSWORD.encode(), bcrypt.gensalt(5)).decode()
    other_cost = await security.hash_password(DEFAULT_PASSWORD, settings.bcrypt_rounds + 1)
    for old in (legacy, other_cost):
        await stored_hash(database, user.id, old)
        wrong = {"username": user.email, "password": "not the password"}
        assert (await client.post("/api/v1/auth/token", data=wrong)).status_code == 400
        assert await stored_hash(database, user.id) == old
        await users.login(user.email)
        upgraded = await stored_hash(database, user.id)
        assert upgraded.startswith(security.PREHASHED_PREFIX + "$2b" + current_cost), upgraded
        assert not security.needs_rehash(upgraded, settings.bcrypt_rounds)
        await users.login(user.email)  # the new hash checks the same password
