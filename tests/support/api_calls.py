"""One valid request for every operation of the rendered API, for tests that call them all."""

import secrets
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

PASSWORD = "Fault-test passphrase 9"


@dataclass(frozen=True)
class Accounts:
    """A user and a superuser of a running service, and one more user for the admin to act on."""

    user_token: str
    refresh_token: str
    admin_token: str
    other_user_id: str


def call_kwargs(accounts: Accounts) -> dict[str, dict[str, Any]]:
    """httpx keyword arguments of a valid request, by "METHOD /path" as the document names it."""
    user = {"Authorization": f"Bearer {accounts.user_token}"}
    admin = {"Authorization": f"Bearer {accounts.admin_token}"}
    new_email = f"fault-{secrets.token_hex(4)}@example.com"
    other = accounts.other_user_id
    # Well formed, unknown: a 400 with the database up, after the lookup that an outage fails.
    token = {"token": secrets.token_urlsafe(32)}
    return {
        "POST /api/v1/auth/password-reset": {"json": {"email": new_email}},
        "POST /api/v1/auth/password-reset/confirm": {"json": token | {"password": PASSWORD}},
        "POST /api/v1/auth/verify-email": {"json": token},
        "POST /api/v1/auth/verify-email/resend": {"json": {"email": new_email}},
        "POST /api/v1/auth/email-change/confirm": {"json": token},
        "GET /api/v1/users/me/sessions": {"headers": user},
        "DELETE /api/v1/users/me/sessions/{session_id}": {
            "headers": user,
            "url": f"/api/v1/users/me/sessions/{uuid.uuid4()}",
        },
        "DELETE /api/v1/users/me/sessions": {"headers": user},
        "POST /api/v1/auth/token": {"data": {"username": new_email, "password": PASSWORD}},
        "POST /api/v1/auth/refresh": {"json": {"refresh_token": accounts.refresh_token}},
        "POST /api/v1/auth/logout": {"json": {"refresh_token": accounts.refresh_token}},
        "POST /api/v1/users": {"json": {"email": new_email, "password": PASSWORD}},
        "GET /api/v1/users": {"headers": admin},
        "GET /api/v1/users/me": {"headers": user},
        "PATCH /api/v1/users/me": {"headers": user, "json": {"full_name": "Ada"}},
        "PUT /api/v1/users/me/password": {
            "headers": user,
            "json": {"current_password": PASSWORD, "new_password": PASSWORD},
        },
        "PUT /api/v1/users/me/email": {
            "headers": user,
            "json": {"email": new_email, "current_password": PASSWORD},
        },
        "GET /api/v1/users/{user_id}": {"headers": admin, "url": f"/api/v1/users/{other}"},
        "PATCH /api/v1/users/{user_id}": {
            "headers": admin,
            "url": f"/api/v1/users/{other}",
            "json": {"full_name": "Grace"},
        },
        "DELETE /api/v1/users/{user_id}": {"headers": admin, "url": f"/api/v1/users/{other}"},
    }


def api_operations(client: httpx.Client) -> list[str]:
    """Every operation under /api/ in the service's OpenAPI document, as "METHOD /path"."""
    paths = client.get("/openapi.json").raise_for_status().json()["paths"]
    return sorted(
        f"{method.upper()} {path}"
        for path, operations in paths.items()
        if path.startswith("/api/")
        for method in operations
    )


def sign_up(client: httpx.Client, email: str | None = None) -> tuple[str, str]:
    """A new user's e-mail and id."""
    email = email or f"fault-{secrets.token_hex(4)}@example.com"
    response = client.post("/api/v1/users", json={"email": email, "password": PASSWORD})
    assert response.status_code == 201, response.text
    return email, response.json()["id"]


def log_in(client: httpx.Client, email: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    tokens: dict[str, str] = response.json()
    return tokens
