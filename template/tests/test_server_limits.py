"""Request header limits of the server's protocol (app.server), over a real socket."""

import asyncio
from collections.abc import AsyncIterator

import pytest
import uvicorn
from fastapi import FastAPI
from httpx import Response

from app.server import MAX_HEADER_BYTES, MAX_HEADERS, HttpProtocol
from tests.assertions import assert_problem


@pytest.fixture
async def port(app: FastAPI) -> AsyncIterator[int]:
    """The test's app, served by uvicorn with the service's protocol on a free port."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, http=HttpProtocol, lifespan="off", log_level="warning"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "the server did not start"
        await asyncio.sleep(0.01)
    yield server.servers[0].sockets[0].getsockname()[1]
    server.should_exit = True
    await task


async def exchange(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes, read the answer until the server closes or sends its body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {
            name.lower(): value
            for name, _, value in (line.partition(": ") for line in lines if line)
        }
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        return int(status_line.split()[1]), headers, body
    finally:
        writer.close()


def get(path: str, *headers: str) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: test", *headers, "", ""]
    return "\r\n".join(lines).encode("latin-1")


def assert_431_problem(status: int, headers: dict[str, str], body: bytes) -> None:
    assert_problem(Response(status, headers=headers, content=body), 431)
    assert headers["x-content-type-options"] == "nosniff"


async def test_the_header_count_is_limited(port: int) -> None:
    filler = [f"X-Filler-{number}: x" for number in range(MAX_HEADERS - 1)]  # and Host
    status, _, _ = await exchange(port, get("/health/live", *filler))
    assert status == 200
    assert_431_problem(*await exchange(port, get("/health/live", *filler, "X-One-More: x")))


async def test_the_header_size_is_limited(port: int) -> None:
    status, _, _ = await exchange(port, get("/health/live", f"X-Big: {'a' * 16_000}"))
    assert status == 200
    too_big = f"X-Big: {'a' * MAX_HEADER_BYTES}"
    assert_431_problem(*await exchange(port, get("/health/live", too_big)))


async def test_a_header_that_never_ends_is_cut_off(port: int) -> None:
    """A header still arriving past the limit is refused without waiting for its end."""
    endless = b"GET /health/live HTTP/1.1\r\nHost: test\r\nX-Endless: " + b"a" * (
        MAX_HEADER_BYTES + 1
    )
    assert_431_problem(*await exchange(port, endless))


async def test_a_ten_kilobyte_authorization_header_reaches_the_app(port: int) -> None:
    """Within the limits, an oversized token is the app's to refuse: a 401 problem."""
    status, headers, body = await exchange(
        port, get("/api/v1/users/me", f"Authorization: Bearer {'a' * 10_000}")
    )
    assert_problem(Response(status, headers=headers, content=body), 401)
