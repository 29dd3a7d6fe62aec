"""The connection pool's queue: waiting requests are served in the order they came."""

import asyncio

import pytest
from sqlalchemy.util import greenlet_spawn
from sqlalchemy.util.queue import Empty

from app.core.config import Settings
from app.db.pool import FairQueue, FairQueuePool
from app.db.session import create_engine


async def test_a_connection_given_back_goes_to_the_oldest_waiter() -> None:
    queue: FairQueue[str] = FairQueue(maxsize=1)
    served: list[str] = []

    async def wait(name: str) -> None:
        served.append(f"{name}:{await greenlet_spawn(queue.get, True, 5)}")

    first = asyncio.create_task(wait("first"))
    await asyncio.sleep(0)
    second = asyncio.create_task(wait("second"))
    await asyncio.sleep(0)

    queue.put("connection-1", False)
    # A request arriving now, before the first waiter has run, must not take it.
    with pytest.raises(Empty):
        queue.get(block=False)
    queue.put("connection-2", False)
    await asyncio.gather(first, second)

    assert served == ["first:connection-1", "second:connection-2"]
    assert queue.qsize() == 0


async def test_a_waiter_that_times_out_loses_nothing() -> None:
    queue: FairQueue[str] = FairQueue(maxsize=1)
    with pytest.raises(Empty):
        await greenlet_spawn(queue.get, True, 0.01)

    queue.put("connection", False)  # nobody waits any more: it is kept, not lost

    assert queue.qsize() == 1
    assert await greenlet_spawn(queue.get, True, 1) == "connection"


async def test_idle_connections_are_taken_without_waiting() -> None:
    queue: FairQueue[str] = FairQueue(maxsize=2)
    queue.put("a", False)
    queue.put("b", False)
    assert queue.full()
    assert [queue.get(block=False), queue.get(block=False)] == ["a", "b"]
    assert queue.empty()


def test_the_service_pools_with_it(settings: Settings) -> None:
    if settings.is_sqlite:
        pytest.skip("SQLite opens a connection per use (no pool)")
    engine = create_engine(settings)
    assert isinstance(engine.pool, FairQueuePool)
