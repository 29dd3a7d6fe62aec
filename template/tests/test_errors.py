"""One problem+json body for every error, declared in OpenAPI, and no false 2xx."""

import uuid
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.db.session import Database, create_session_factory
from app.main import create_app
from app.models import User
from tests.assertions import PROBLEM_MEDIA_TYPE, assert_problem


async def test_unknown_route_is_a_problem(client: AsyncClient) -> None:
    response = await client.get("/no/such/route")
    assert_problem(response, 404)


async def test_wrong_method_is_a_problem(client: AsyncClient) -> None:
    response = await client.put("/api/v1/users/me")
    assert_problem(response, 405)


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/api/v1/users", "GET, POST"),
        ("/api/v1/users/me", "GET, PATCH"),
        (f"/api/v1/users/{uuid.uuid4()}", "DELETE, GET, PATCH"),
        ("/api/v1/auth/token", "POST"),
    ],
)
async def test_a_405_allows_every_method_of_the_path(
    client: AsyncClient, path: str, allowed: str
) -> None:
    """The path's methods may sit in several routes; Allow names them all (RFC 9110 15.5.6)."""
    for method in ("OPTIONS", "PUT", "DELETE"):
        if method not in allowed:
            response = await client.request(method, path)
            assert response.status_code == 405, (method, response.text)
            assert response.headers["allow"] == allowed


async def test_validation_errors_list_fields_without_echoing_input(client: AsyncClient) -> None:
    response = await client.post(
        "/api/v1/users", json={"email": "not-an-email", "password": "short-secret"}
    )
    body = assert_problem(response, 422)
    assert {tuple(error["loc"]) for error in body["errors"]} >= {("body", "email")}
    assert "short-secret" not in response.text


async def test_the_request_id_is_echoed_on_every_response(client: AsyncClient) -> None:
    ok = await client.get("/health/live", headers={"X-Request-ID": "trace-123"})
    assert ok.headers["x-request-id"] == "trace-123"
    problem = await client.get("/nope", headers={"X-Request-ID": "trace-456"})
    assert problem.headers["x-request-id"] == "trace-456"
    assert problem.json()["request_id"] == "trace-456"


@pytest.mark.parametrize(
    "incoming", ["x" * 65, "has space", "new\nline", "trailing-newline\n", "ünïcode", ""]
)
async def test_an_unsafe_request_id_is_replaced(client: AsyncClient, incoming: str) -> None:
    response = await client.get(
        "/health/live", headers=[(b"X-Request-ID", incoming.encode("utf-8"))]
    )
    echoed = response.headers["x-request-id"]
    assert echoed != incoming
    assert len(echoed) == 36  # a fresh UUID


async def test_every_route_declares_its_problems_in_openapi(client: AsyncClient) -> None:
    """Each status an operation can answer is declared, every error as a problem with an
    example. Schemathesis checks the same against the running service (make contract)."""
    document = (await client.get("/openapi.json")).json()
    assert {"Problem", "OAuthProblem"} <= set(document["components"]["schemas"])
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            where = (method, path)
            declared = operation["responses"]
            assert {"413", "500"} <= set(declared), where
            for status, response in declared.items():
                if status.startswith(("4", "5")) and (path, status) != ("/health", "503"):
                    assert list(response["content"]) == [PROBLEM_MEDIA_TYPE], (*where, status)
                    example = response["content"][PROBLEM_MEDIA_TYPE]["example"]
                    assert example["status"] == int(status), (*where, status)
            invalid = "400" if path == "/api/v1/auth/token" else "422"
            if "requestBody" in operation or operation.get("parameters"):
                assert invalid in declared, where
            if "requestBody" in operation:
                assert "400" in declared, where
            if operation.get("security"):
                assert "401" in declared, where
            if path.startswith("/api/"):
                assert "503" in declared, where


class FailingCommitSession(Session):
    """A real session whose commit fails, as a lost connection or a deferred constraint would."""


@event.listens_for(FailingCommitSession, "before_commit")
def _fail_commit(session: Session) -> None:
    # Only the unit of work's own commit fails; the services' SAVEPOINTs release normally.
    if not session.in_nested_transaction():
        raise RuntimeError("the commit failed")


@pytest.fixture
async def failing_commit_app(
    settings: Settings, engine: AsyncEngine, connection: AsyncConnection
) -> AsyncIterator[FastAPI]:
    sessions = create_session_factory(
        connection,
        join_transaction_mode="create_savepoint",
        sync_session_class=FailingCommitSession,
    )
    app = create_app(settings, Database(engine=engine, sessions=sessions))
    async with app.router.lifespan_context(app):
        yield app


async def test_a_failed_commit_never_answers_2xx(
    failing_commit_app: FastAPI, connection: AsyncConnection, caplog: pytest.LogCaptureFixture
) -> None:
    transport = ASGITransport(app=failing_commit_app)
    async with AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post(
            "/api/v1/users", json={"email": "lost@example.com", "password": "correct horse"}
        )
    assert_problem(response, 500)
    assert "the commit failed" not in response.text  # no internals in the body...
    assert "the commit failed" in caplog.text  # ...but the log has the traceback
    count = await connection.scalar(
        select(func.count()).select_from(User).where(User.email == "lost@example.com")
    )
    assert count == 0


async def test_a_failed_statement_does_not_show_its_values(engine: AsyncEngine) -> None:
    """Errors name the SQL, never the values bound to it: they may be hashes or tokens."""
    secret = "$bcrypt-sha256$2b$12$not-for-the-logs"  # a stand-in value
    with pytest.raises(DBAPIError) as failure:
        async with engine.connect() as connection:
            await connection.execute(
                text("SELECT * FROM no_such_table WHERE hash = :hash"), {"hash": secret}
            )
    assert "no_such_table" in str(failure.value)
    assert secret not in str(failure.value)
