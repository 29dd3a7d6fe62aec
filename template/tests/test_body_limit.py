"""Request bodies over MAX_REQUEST_BODY_BYTES: a 413 problem, and never read whole."""

from collections.abc import AsyncIterator

from httpx import AsyncClient, Response

from tests.assertions import assert_problem
from tests.conftest import AppClient

USERS = "/api/v1/users"
LIMIT = 4096
CHUNK = 1024


def assert_413_problem(response: Response) -> None:
    assert str(LIMIT) in assert_problem(response, 413)["detail"]


class CountingBody:
    """A request body that arrives in chunks and counts how many the app asked for."""

    def __init__(self, chunks: int) -> None:
        self.chunks = chunks
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.chunks):
            self.sent += 1
            yield b"x" * CHUNK


async def test_a_declared_length_over_the_limit_is_refused_unread(app_client: AppClient) -> None:
    body = CountingBody(chunks=LIMIT // CHUNK * 4)
    async with app_client(max_request_body_bytes=LIMIT) as client:
        response = await client.post(
            USERS, content=body, headers={"Content-Length": str(LIMIT * 4)}
        )
    assert_413_problem(response)
    assert body.sent <= 1  # the transport may start sending; the app never read


async def test_a_streamed_body_is_cut_off_at_the_limit(app_client: AppClient) -> None:
    """No Content-Length (chunked): counted as it arrives, refused at the first chunk over."""
    body = CountingBody(chunks=LIMIT // CHUNK * 100)
    async with app_client(max_request_body_bytes=LIMIT) as client:
        response = await client.post(USERS, content=body)
    assert_413_problem(response)
    assert body.sent <= LIMIT // CHUNK + 1


async def test_a_lying_content_length_is_cut_off_too(app_client: AppClient) -> None:
    body = CountingBody(chunks=LIMIT // CHUNK * 100)
    async with app_client(max_request_body_bytes=LIMIT) as client:
        response = await client.post(USERS, content=body, headers={"Content-Length": "100"})
    assert_413_problem(response)
    assert body.sent <= LIMIT // CHUNK + 1


async def test_a_body_within_the_limit_is_served(app_client: AppClient) -> None:
    payload = {"email": "small@example.com", "password": "correct horse battery"}
    async with app_client(max_request_body_bytes=LIMIT) as client:
        assert (await client.post(USERS, json=payload)).status_code == 201


async def test_the_default_limit_is_one_mebibyte(client: AsyncClient) -> None:
    response = await client.post(USERS, content=b"x" * (1024 * 1024 + 1))
    assert response.status_code == 413
