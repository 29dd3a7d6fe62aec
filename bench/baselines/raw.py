"""Baseline: the same authenticated GET /api/v1/users/me and POST /api/v1/auth/refresh,
with nothing but what they need.

/users/me: the same bearer JWT decoded with python-jose and the same checks (pinned
algorithm, required claims, issuer and audience, token type, an active user whose session
still has an unrevoked refresh token), the same row fetched with one query on a raw asyncpg
pool, into the same response model.

/auth/refresh: the same transaction on raw asyncpg (lock the presented token, insert the
new one with its session's start and the client's address and user agent, mark the old
one used, commit) and the same answer (a signed access token and a new refresh token).

No ORM, no session, no middleware: the limit the rendered service is measured against.
"""

import hashlib
import os
import secrets
import time
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
ISSUER = os.environ["JWT_ISSUER"]
AUDIENCE = os.environ["JWT_AUDIENCE"]
# As many connections as the service's pool: bench/run.py decides, for both.
POOL_SIZE = int(os.environ["POOL_SIZE"])
ACCOUNT = (
    "SELECT id, email, full_name, is_active, is_superuser, email_verified_at, created_at"
    " FROM user_account u"
    " WHERE id = $1 AND EXISTS (SELECT 1 FROM refresh_token t"
    " WHERE t.family_id = $2 AND t.user_id = u.id AND t.revoked_at IS NULL)"
)
LOCK_TOKEN = (
    "SELECT id, user_id, family_id, family_created_at, family_expires_at FROM refresh_token"
    " WHERE token_digest = $1 AND used_at IS NULL AND revoked_at IS NULL"
    " AND expires_at > now() AND family_expires_at > now() FOR UPDATE"
)
INSERT_TOKEN = (
    "INSERT INTO refresh_token (id, user_id, family_id, token_digest, created_at, expires_at,"
    " family_created_at, family_expires_at, client_address, user_agent)"
    " VALUES ($1, $2, $3, $4, now(), least(now() + interval '7 days', $6), $5, $6, $7, $8)"
)
MAX_USER_AGENT = 256  # the column's length, to which the service cuts it too
MARK_USED = "UPDATE refresh_token SET used_at = now() WHERE id = $1"


class UserRead(BaseModel):
    id: uuid.UUID
    email: str
    full_name: str | None
    is_active: bool
    is_superuser: bool
    email_verified_at: datetime | None
    created_at: datetime


class RefreshRequest(BaseModel):
    refresh_token: str


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.pool = await asyncpg.create_pool(DATABASE_URL, min_size=POOL_SIZE, max_size=POOL_SIZE)
    yield
    await app.state.pool.close()


app = FastAPI(lifespan=lifespan)
bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token")
UNAUTHORIZED = HTTPException(401, "Not authenticated.", headers={"WWW-Authenticate": "Bearer"})
REQUIRED = ("exp", "iat", "sub", "jti", "iss", "aud")


@app.get("/api/v1/users/me", response_model=UserRead)
async def me(request: Request, token: Annotated[str, Depends(bearer)]) -> Any:
    try:
        claims = jwt.decode(
            token,
            SECRET_KEY,
            algorithms=["HS256"],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={f"require_{claim}": True for claim in REQUIRED},
        )
    except Exception:
        raise UNAUTHORIZED from None
    if claims.get("type") != "access" or not claims.get("sid"):
        raise UNAUTHORIZED
    session = uuid.UUID(claims["sid"])
    row = await request.app.state.pool.fetchrow(ACCOUNT, uuid.UUID(claims["sub"]), session)
    if row is None or not row["is_active"]:
        raise UNAUTHORIZED
    return UserRead.model_validate(dict(row))


@app.post("/api/v1/auth/refresh", response_model=TokenPair)
async def refresh(request: Request, body: RefreshRequest) -> Any:
    digest = hashlib.sha256(body.refresh_token.encode()).hexdigest()
    new_token = secrets.token_urlsafe(32)
    async with request.app.state.pool.acquire() as connection, connection.transaction():
        old = await connection.fetchrow(LOCK_TOKEN, digest)
        if old is None:
            raise UNAUTHORIZED
        new_digest = hashlib.sha256(new_token.encode()).hexdigest()
        user_agent = request.headers.get("user-agent")
        await connection.execute(
            INSERT_TOKEN,
            uuid.uuid4(),
            old["user_id"],
            old["family_id"],
            new_digest,
            old["family_created_at"],
            old["family_expires_at"],
            request.client.host if request.client else None,
            user_agent[:MAX_USER_AGENT] if user_agent else None,
        )
        await connection.execute(MARK_USED, old["id"])
    now = int(time.time())
    claims = {
        "sub": str(old["user_id"]),
        "sid": str(old["family_id"]),
        "iat": now,
        "exp": now + 1800,
        "jti": uuid.uuid4().hex,
        "type": "access",
        "iss": ISSUER,
        "aud": AUDIENCE,
    }
    access = jwt.encode(claims, SECRET_KEY, algorithm="HS256")
    return TokenPair(access_token=access, refresh_token=new_token, expires_in=1800)
