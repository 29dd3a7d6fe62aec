"""GET /metrics: route templates as labels, a bounded number of series, an optional token."""

import os
import secrets
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from pydantic import SecretStr, ValidationError

from app.core import answers
from app.core.config import Settings
from app.core.http_metrics import MULTIPROCESS_DIRECTORY_VARIABLE, HttpMetrics
from tests.assertions import assert_problem
from tests.conftest import PROJECT_ROOT, AppClient
from tests.observability import metric_series, series

DURATION_COUNT = "http_request_duration_seconds_count"
# A route label per path or method would add a series for each of these, so a thousand
# requests never sent before show a leak as surely as more would.
RANDOM_PATHS = 1_000


async def scrape(client: AsyncClient) -> str:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


async def test_requests_are_labelled_by_route_template(client: AsyncClient) -> None:
    user_id = uuid.uuid4()
    assert (await client.get(f"/api/v1/users/{user_id}")).status_code == 401
    assert (await client.get("/health/live")).status_code == 200
    exposition = await scrape(client)
    samples = metric_series(exposition)
    template = "/api/v1/users/{user_id}"
    labels = {"method": "GET", "route": template, "status_code": "401"}
    assert samples[series(DURATION_COUNT, **labels)] == 1
    assert samples[series(DURATION_COUNT, method="GET", route="/health/live", status_code="200")]
    assert samples[series("http_requests_in_progress", method="GET", route=template)] == 0
    assert str(user_id) not in exposition
    # Scrapes are not measured: reading the numbers does not change them.
    assert 'route="/metrics"' not in await scrape(client)


async def test_behind_a_path_prefix_requests_keep_their_route_labels(app: FastAPI) -> None:
    """A proxy that serves the app under a prefix sets root_path: routes and labels are
    matched on the path within the app, as the router matches them."""
    transport = ASGITransport(app=app, root_path="/prefix")
    async with AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/prefix/health/live")).status_code == 200
        assert (await client.put("/prefix/health/live")).status_code == 405
        exposition = (await client.get("/prefix/metrics")).text
    samples = metric_series(exposition)
    assert samples[series(DURATION_COUNT, method="GET", route="/health/live", status_code="200")]
    assert samples[series(DURATION_COUNT, method="PUT", route="/health/live", status_code="405")]
    assert 'route="<unmatched>"' not in exposition


def random_request(number: int) -> tuple[str, str]:
    """A method and a path no client has sent before; some hit a real route template."""
    method = f"X{secrets.token_hex(3).upper()}" if number % 7 == 0 else "GET"
    if number % 10 == 0:
        return method, f"/api/v1/users/{uuid.uuid4()}"
    if number % 10 == 1:
        return method, f"/api/v1/users/{uuid.uuid4()}/{secrets.token_hex(4)}"
    return method, f"/{secrets.token_hex(8)}"


async def test_random_paths_and_methods_add_no_series(client: AsyncClient) -> None:
    async def send(count: int) -> None:
        for number in range(count):
            method, path = random_request(number)
            assert (await client.request(method, path)).status_code in {401, 404, 405}

    await send(70)  # every kind of request below, once at least
    before = metric_series(await scrape(client)).keys()
    started = time.perf_counter()
    await send(RANDOM_PATHS)
    elapsed = time.perf_counter() - started
    after = metric_series(await scrape(client))
    assert after.keys() == before
    measured = sum(value for (name, _), value in after.items() if name == DURATION_COUNT)
    assert measured >= RANDOM_PATHS
    print(f"{RANDOM_PATHS} random requests in {elapsed:.1f} s")  # shown with pytest -s


async def test_metrics_can_be_switched_off(app_client: AppClient) -> None:
    async with app_client(metrics_enabled=False) as client:
        assert (await client.get("/health/live")).status_code == 200
        assert (await client.get("/metrics")).status_code == 404


async def test_a_metrics_token_is_required_when_set(app_client: AppClient) -> None:
    token = secrets.token_urlsafe(32)
    async with app_client(metrics_token=SecretStr(token)) as client:
        missing = await client.get("/metrics")
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
        other_scheme = await client.get("/metrics", headers={"Authorization": f"Basic {token}"})
        right = await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    for refused in (missing, wrong, other_scheme):
        assert_problem(refused, 401)
        assert refused.headers["www-authenticate"] == "Bearer"
    assert right.status_code == 200
    assert "http_request_duration_seconds" in right.text


def test_a_blank_metrics_token_means_no_token(settings: Settings) -> None:
    values = settings.model_dump() | {"metrics_token": ""}
    assert Settings(_env_file=None, **values).metrics_token is None


@pytest.mark.skipif(
    answers.RATE_LIMIT_STORE == "memory", reason="the memory store refuses several workers"
)
def test_several_workers_need_the_multiprocess_directory(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    values = settings.model_dump() | {"web_concurrency": 2}
    monkeypatch.delenv(MULTIPROCESS_DIRECTORY_VARIABLE, raising=False)
    with pytest.raises(ValidationError, match=MULTIPROCESS_DIRECTORY_VARIABLE):
        Settings(_env_file=None, **values)
    assert Settings(_env_file=None, **(values | {"metrics_enabled": False}))
    monkeypatch.setenv(MULTIPROCESS_DIRECTORY_VARIABLE, str(tmp_path))
    assert Settings(_env_file=None, **values)


# A worker: its own process with its own app, answering three requests.
WORKER = """
import asyncio
from httpx import ASGITransport, AsyncClient
from app.main import create_app

async def serve() -> None:
    app = create_app()
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        for _ in range(3):
            assert (await client.get("/health/live")).status_code == 200

asyncio.run(serve())
"""


def test_a_scrape_adds_up_every_worker(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    environment = {
        **os.environ,
        MULTIPROCESS_DIRECTORY_VARIABLE: str(tmp_path),
        "DATABASE_URL": settings.database_url,
        "SECRET_KEY": settings.secret_key.get_secret_value(),
        "ENV": "dev",  # the test database may be SQLite; unset would mean production
    }
    workers = [
        subprocess.Popen(  # noqa: S603 - a fixed command line
            [sys.executable, "-c", WORKER],
            cwd=PROJECT_ROOT,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
        )
        for _ in range(2)
    ]
    assert [worker.wait(timeout=60) for worker in workers] == [0, 0]
    monkeypatch.setenv(MULTIPROCESS_DIRECTORY_VARIABLE, str(tmp_path))
    samples = metric_series(HttpMetrics().exposition().decode())
    labels = {"method": "GET", "route": "/health/live", "status_code": "200"}
    assert samples[series(DURATION_COUNT, **labels)] == 6
