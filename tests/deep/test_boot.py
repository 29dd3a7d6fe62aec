"""Boot the rendered service with its real start command and walk the auth flow over HTTP."""

import http.client
import secrets
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.support.environment import InstalledProject
from tests.support.service_processes import Service, serving_a_fresh_database

pytestmark = pytest.mark.deep

PASSWORD = "Boot-test-passphrase-42!"
# Longer than uvicorn's default keep-alive (5 s), shorter than the service's (75 s).
IDLE_SECONDS = 6


@pytest.fixture(scope="module")
def service(
    installed_project: Callable[[str], InstalledProject],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Service]:
    """The default variant serving on a free port against its own fresh database."""
    log = tmp_path_factory.mktemp("boot") / "service.log"
    with serving_a_fresh_database(installed_project("default"), log) as running:
        yield running


def assert_token_pair(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["token_type"] == "bearer"
    assert body["access_token"] and body["refresh_token"]
    assert isinstance(body["expires_in"], int) and body["expires_in"] > 0
    return body


def log_in(client: httpx.Client, email: str) -> dict[str, Any]:
    response = client.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
    return assert_token_pair(response)


def refresh(client: httpx.Client, refresh_token: str) -> httpx.Response:
    return client.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token})


def test_health_reports_database(service: Service) -> None:
    with service.client() as client:
        response = client.get("/health")
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["status"], body["database"]) == ("ok", "ok"), body


def test_auth_flow(service: Service) -> None:
    email = f"boot-{secrets.token_hex(4)}@example.com"
    with service.client() as client:
        created = client.post(
            "/api/v1/users", json={"email": email, "password": PASSWORD, "full_name": "Boot Test"}
        )
        assert created.status_code == 201, created.text

        first = log_in(client, email)
        bearer = {"Authorization": f"Bearer {first['access_token']}"}
        me = client.get("/api/v1/users/me", headers=bearer)
        assert me.status_code == 200, me.text
        assert me.json()["email"] == email

        second = assert_token_pair(refresh(client, first["refresh_token"]))
        assert second["refresh_token"] != first["refresh_token"]
        # Replaying a rotated token means it leaked: the whole family is revoked.
        assert refresh(client, first["refresh_token"]).status_code == 401
        assert refresh(client, second["refresh_token"]).status_code == 401

        third = log_in(client, email)
        logged_out = client.post(
            "/api/v1/auth/logout",
            json={"refresh_token": third["refresh_token"]},
            headers={"Authorization": f"Bearer {third['access_token']}"},
        )
        assert logged_out.status_code == 204, logged_out.text
        assert refresh(client, third["refresh_token"]).status_code == 401


def test_an_idle_connection_outlives_a_proxys_reuse(service: Service) -> None:
    """A connection idle for longer than uvicorn's default keep-alive (5 s) still serves:
    a proxy in front reusing it must not meet a connection the server is closing."""
    host, port = service.url.removeprefix("http://").split(":")
    # http.client reuses its one socket and never reconnects on its own: a connection the
    # server closed meanwhile raises RemoteDisconnected.
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        for pause in (0, IDLE_SECONDS):
            time.sleep(pause)
            connection.request("GET", "/health/live")
            answer = connection.getresponse()
            assert answer.status == 200, f"after {pause} s idle: {answer.status}"
            answer.read()  # the whole body, so the next answer starts clean
    finally:
        connection.close()
