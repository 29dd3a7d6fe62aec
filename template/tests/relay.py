"""A TCP relay in the test's own event loop: the database taken away and given back."""

import asyncio
import contextlib

READ_SIZE = 65536


class Relay:
    """Forwards a loopback port to a server. `cut()` closes every connection and holds new
    ones open without an answer, as a dead host does; `restore()` forwards again."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self._forwarding = True
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None

    async def start(self) -> "Relay":
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def cut(self) -> None:
        self._forwarding = False
        for writer in list(self._writers):
            writer.close()

    def restore(self) -> None:
        self._forwarding = True

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        self.cut()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        try:
            if not self._forwarding:
                while await reader.read(READ_SIZE):  # swallowed, never answered
                    pass
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
            self._tasks.discard(task)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(READ_SIZE):
                writer.write(data)
                await writer.drain()
        writer.close()
        self._writers.discard(writer)
