"""bcrypt runs off the event loop, in threads of its own."""

import asyncio
import threading

from app.core import security


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
