"""One problem+json body for every error, declared in OpenAPI, and no false 2xx."""

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.db.session import Database, create_session_factory
from app.main import create_app
from app.models import User

PROBLEM = "application/problem+json"


def assert_problem(response_json: dict[str, object], status: int) -> None:
    assert response_json["status"] == status
    assert response_json["type"] == "about:blank"
    assert isinstance(response_json["title"], str)
    assert isinstance(response_json["detail"], str)
    assert response_json["request_id"]


async def test_unknown_route_is_a_problem(client: AsyncClient) -> None:
    response = await client.get("/no/such/route")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert_problem(response.json(), 404)


async def test_wrong_method_is_a_problem(client: AsyncClient) -> None:
    response = await client.put("/api/v1/users/me")
    assert response.status_code == 405
    assert response.headers["content-type"] == PROBLEM


async def test_validation_errors_list_fields_without_echoing_input(client: AsyncClient) -> None:
    response = await client.post(
        "/api/v1/users", json={"email": "not-an-email", "password": "short-secret"}
    )
    assert response.status_code == 422
    body = response.json()
    assert_problem(body, 422)
    assert {tuple(error["loc"]) for error in body["errors"]} >= {("body", "email")}
    assert "short-secret" not in response.text


async def test_the_request_id_is_echoed_on_every_response(client: AsyncClient) -> None:
    ok = await client.get("/health/live", headers={"X-Request-ID": "trace-123"})
    assert ok.headers["x-request-id"] == "trace-123"
    problem = await client.get("/nope", headers={"X-Request-ID": "trace-456"})
    assert problem.headers["x-request-id"] == "trace-456"
    assert problem.json()["request_id"] == "trace-456"


@pytest.mark.parametrize("incoming", ["x" * 65, "has space", "new\nline", "ünïcode"])
async def test_an_unsafe_request_id_is_replaced(client: AsyncClient, incoming: str) -> None:
    response = await client.get(
        "/health/live", headers=[(b"X-Request-ID", incoming.encode("utf-8"))]
    )
    echoed = response.headers["x-request-id"]
    assert echoed != incoming
    assert len(echoed) == 36  # a fresh UUID


async def test_every_route_declares_its_problems_in_openapi(client: AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    assert "Problem" in document["components"]["schemas"]
    for path, operations in document["paths"].items():
        if path.startswith("/health"):
            continue
        for method, operation in operations.items():
            declared = operation["responses"]
            assert "500" in declared, (method, path)
            for status, response in declared.items():
                if status.startswith(("4", "5")):
                    assert PROBLEM in response["content"], (method, path, status)
            takes_input = "requestBody" in operation or operation.get("parameters")
            if takes_input:
                assert "422" in declared, (method, path)
            if operation.get("security") or path.startswith("/api/v1/users/"):
                assert "401" in declared, (method, path)


async def test_swagger_authorize_uses_the_token_endpoint(client: AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    flows = document["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]
    assert flows["password"]["tokenUrl"] == "/api/v1/auth/token"


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
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM
    assert_problem(response.json(), 500)
    assert "the commit failed" not in response.text  # no internals in the body...
    assert "the commit failed" in caplog.text  # ...but the log has the traceback
    count = await connection.scalar(
        select(func.count()).select_from(User).where(User.email == "lost@example.com")
    )
    assert count == 0
