"""A TCP relay the tests own: the honest way to take a database or Redis away and back."""

import asyncio
import contextlib
import threading
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

# Bytes read from a socket at a time.
READ_SIZE = 65536


class TcpRelay:
    """Forwards connections on a loopback port to a target, until told to stop.

    `cut()` closes every open connection and holds each new one open without answering,
    as a dead host behind a firewall does: clients wait for their own timeouts.
    `restore()` forwards again. It runs its own event loop in a daemon thread and
    stops with `close()`, so a failing test never leaves it behind.
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.connections_accepted = 0
        self._forwarding = True
        self._writers: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None

    def start(self) -> "TcpRelay":
        self._thread.start()
        self._server = self._call(asyncio.start_server(self._accept, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def cut(self) -> None:
        self._call(self._set_forwarding(False))

    def restore(self) -> None:
        self._call(self._set_forwarding(True))

    def close(self) -> None:
        if self._server is not None:
            self._call(self._shut_down())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the relay's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    async def _set_forwarding(self, forwarding: bool) -> None:
        self._forwarding = forwarding
        if not forwarding:
            self._close_all()

    async def _shut_down(self) -> None:
        assert self._server is not None
        self._server.close()
        self._close_all()
        others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    def _close_all(self) -> None:
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections_accepted += 1
        self._writers.add(writer)
        try:
            if not self._forwarding:
                await self._swallow(reader)
                return
            target_reader, target_writer = await asyncio.open_connection(*self.target)
            self._writers.add(target_writer)
            await asyncio.gather(
                self._pipe(reader, target_writer), self._pipe(target_reader, writer)
            )
        except OSError:
            pass
        finally:
            writer.close()

    async def _swallow(self, reader: asyncio.StreamReader) -> None:
        """Read and drop whatever the client sends, answering nothing, until cut off."""
        while await reader.read(READ_SIZE):
            pass

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(READ_SIZE):
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()
            self._writers.discard(writer)


@contextlib.contextmanager
def relay_to(host: str, port: int) -> Iterator[TcpRelay]:
    relay = TcpRelay(host, port).start()
    try:
        yield relay
    finally:
        relay.close()
