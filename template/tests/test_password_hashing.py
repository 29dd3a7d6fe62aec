"""bcrypt runs off the event loop, in threads that yield the CPU to it."""

import asyncio
import os
import threading

import pytest

from app.core import security


def _where_and_how_nice() -> tuple[str, int]:
    return threading.current_thread().name, os.getpriority(
        os.PRIO_PROCESS, threading.get_native_id()
    )


@pytest.mark.skipif(not hasattr(os, "setpriority"), reason="thread priorities are Linux's")
async def test_hashes_run_in_their_own_threads_below_the_event_loop() -> None:
    name, niceness = await security._off_the_loop(_where_and_how_nice)

    assert name.startswith("bcrypt")
    assert niceness >= security.HASHING_NICENESS
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) < niceness  # the loop's


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
