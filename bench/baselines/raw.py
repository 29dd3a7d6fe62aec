"""Baseline: the same authenticated GET /api/v1/users/me, with nothing but what it needs.

The same bearer JWT decoded with python-jose and the same checks (pinned algorithm, required
claims, token type, an active user, `iat` after `tokens_valid_after`), the same row fetched
with one query on a raw asyncpg pool, into the same response model. No ORM, no session, no
middleware: the limit the rendered service is measured against.
"""

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.security import OAuth2PasswordBearer
from jose import jwt
from pydantic import BaseModel

SECRET_KEY = os.environ["SECRET_KEY"]
DATABASE_URL = os.environ["DATABASE_URL"]
# As many connections as the service's pool: bench/run.py decides, for both.
POOL_SIZE = int(os.environ["POOL_SIZE"])
QUERY = (
    "SELECT id, email, full_name, is_active, is_superuser, created_at, tokens_valid_after "
    "FROM user_account WHERE id = $1"
)


class UserRead(BaseModel):
    id: uuid.UUID
    email: str
    full_name: str | None
    is_active: bool
    is_superuser: bool
    created_at: datetime


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.pool = await asyncpg.create_pool(DATABASE_URL, min_size=POOL_SIZE, max_size=POOL_SIZE)
    yield
    await app.state.pool.close()


app = FastAPI(lifespan=lifespan)
bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token")
UNAUTHORIZED = HTTPException(401, "Not authenticated.", headers={"WWW-Authenticate": "Bearer"})


@app.get("/api/v1/users/me", response_model=UserRead)
async def me(request: Request, token: Annotated[str, Depends(bearer)]) -> Any:
    try:
        claims = jwt.decode(
            token,
            SECRET_KEY,
            algorithms=["HS256"],
            options={f"require_{claim}": True for claim in ("exp", "iat", "sub", "jti")},
        )
    except Exception:
        raise UNAUTHORIZED from None
    if claims.get("type") != "access":
        raise UNAUTHORIZED
    row = await request.app.state.pool.fetchrow(QUERY, uuid.UUID(claims["sub"]))
    if row is None or not row["is_active"]:
        raise UNAUTHORIZED
    if float(claims["iat"]) < row["tokens_valid_after"].timestamp():
        raise UNAUTHORIZED
    return UserRead.model_validate(dict(row))
