"""Password hashing and token primitives. No I/O, no HTTP."""

import asyncio
import base64
import hashlib
import hmac
import logging
import os
import secrets
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, TypeVar

import bcrypt
from jose import jwt

from app.core.config import Settings

logger = logging.getLogger(__name__)
T = TypeVar("T")

BCRYPT_MAX_BYTES = 72
# Longer than any passphrase a person types; a longer one is refused before any hashing.
MAX_PASSWORD_LENGTH = 256
# bcrypt reads at most 72 bytes. The password is first condensed by HMAC-SHA-256 into 44
# base64 characters, so every character of a long passphrase counts and none is refused
# for its length in bytes. The key only keeps these digests apart from plain SHA-256
# digests of the same password elsewhere; it is not a secret.
PREHASH_KEY = b"password-prehash-v1"
PREHASHED_PREFIX = "$bcrypt-sha256$"
# Longer than any JWT this service issues; a larger header is refused before decoding.
MAX_ACCESS_TOKEN_LENGTH = 2048
MAX_REFRESH_TOKEN_LENGTH = 128
ACCESS_TOKEN_TYPE = "access"  # noqa: S105 - a claim value, not a secret
REQUIRED_CLAIMS = ("sub", "sid", "exp", "iat", "jti", "type", "iss", "aud")


def _prehash(password: str) -> bytes:
    return base64.b64encode(hmac.new(PREHASH_KEY, password.encode(), hashlib.sha256).digest())


def _hash_password_sync(password: str, rounds: int) -> str:
    return PREHASHED_PREFIX + bcrypt.hashpw(_prehash(password), bcrypt.gensalt(rounds)).decode()


def _verify_password_sync(password: str, stored: str) -> bool:
    if stored.startswith(PREHASHED_PREFIX):
        candidate, hashed = _prehash(password), stored.removeprefix(PREHASHED_PREFIX)
    else:
        # A hash stored before passwords were pre-hashed: bcrypt of the password itself,
        # which was at most 72 bytes (bcrypt 5 raises on a longer one).
        candidate, hashed = password.encode(), stored
        if len(candidate) > BCRYPT_MAX_BYTES:
            # It cannot match, but answering at once would tell this account apart from
            # one with a current hash: spend the time of a real check, then refuse.
            _checkpw(candidate[:BCRYPT_MAX_BYTES], hashed)
            return False
    return _checkpw(candidate, hashed)


def _checkpw(candidate: bytes, hashed: str) -> bool:
    try:
        return bcrypt.checkpw(candidate, hashed.encode())
    except ValueError:
        logger.error("stored password hash is not a valid bcrypt hash")
        return False


def needs_rehash(stored: str, rounds: int) -> bool:
    """Whether a stored hash is of another format or cost than a new one would be: then
    the next successful login stores a new hash. Otherwise an old, cheaper hash would stay
    cheap to crack, and its wrong-password answer faster than an unknown account's."""
    if not stored.startswith(PREHASHED_PREFIX):
        return True
    # $bcrypt-sha256$$2b$12$<salt and digest>: the cost is the fourth field.
    parts = stored.removeprefix(PREHASHED_PREFIX).split("$")
    return len(parts) < 4 or parts[2] != f"{rounds:02d}"


# bcrypt takes ~250 ms at cost 12 and releases the GIL: it runs in these threads, off the
# event loop, and not in the thread pool that other blocking work shares. One per core:
# more would only share the same cores and take more of them from the event loop (two
# threads on two cores left /users/me's median 1.2x its quiet one while 8 logins ran;
# the shared pool's 40 threads made it 6x).
_CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
_HASHING = ThreadPoolExecutor(max_workers=_CORES or 1, thread_name_prefix="bcrypt")


async def _off_the_loop(function: Callable[..., T], *arguments: Any) -> T:
    return await asyncio.get_running_loop().run_in_executor(_HASHING, function, *arguments)


async def hash_password(password: str, rounds: int) -> str:
    return await _off_the_loop(_hash_password_sync, password, rounds)


async def verify_password(password: str, hashed: str) -> bool:
    return await _off_the_loop(_verify_password_sync, password, hashed)


@lru_cache
def _dummy_hash(rounds: int) -> str:
    return _hash_password_sync(secrets.token_urlsafe(16), rounds)


async def burn_password_check(password: str, rounds: int) -> None:
    """Spend the time of a real check, so unknown e-mails cannot be told from wrong passwords."""
    dummy = await _off_the_loop(_dummy_hash, rounds)
    await verify_password(password, dummy)


def create_access_token(
    subject: uuid.UUID, session_id: uuid.UUID, settings: Settings, now: datetime
) -> str:
    claims = {
        "sub": str(subject),
        # The session (the refresh-token family of one login): when it ends, so does this
        # token, on every replica at once (the account's read checks it on each request).
        "sid": str(session_id),
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=settings.access_token_expire_minutes)).timestamp()),
        "jti": uuid.uuid4().hex,
        "type": ACCESS_TOKEN_TYPE,
        # Who issued it and for which deployment: a staging token is refused in
        # production, even where the two share a key.
        "iss": settings.token_issuer,
        "aud": settings.token_audience,
    }
    return jwt.encode(claims, settings.secret_key.get_secret_value(), algorithm=settings.algorithm)


@dataclass(frozen=True)
class AccessClaims:
    subject: uuid.UUID
    session_id: uuid.UUID


def decode_access_token(token: str, settings: Settings, now: datetime) -> AccessClaims | None:
    """The token's claims, or None for anything that is not a valid access token of ours."""
    if not token or len(token) > MAX_ACCESS_TOKEN_LENGTH:
        return None
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            settings.secret_key.get_secret_value(),
            # Pinned: never the header's alg. python-jose up to 3.5.0 trusts the header
            # when no list is given (CVE-2026-85394); tests/test_access_tokens.py proves
            # a token of any other algorithm is refused.
            algorithms=[settings.algorithm],
            audience=settings.token_audience,
            issuer=settings.token_issuer,
            options={
                f"require_{claim}": True for claim in ("exp", "iat", "sub", "jti", "iss", "aud")
            },
        )
        if not all(claims.get(claim) is not None for claim in REQUIRED_CLAIMS):
            return None
        if claims["type"] != ACCESS_TOKEN_TYPE:
            return None
        if float(claims["iat"]) > now.timestamp() + 1:  # one second of clock skew at most
            return None
        return AccessClaims(
            subject=uuid.UUID(str(claims["sub"])), session_id=uuid.UUID(str(claims["sid"]))
        )
    except Exception:  # any malformed token is a 401, never a 500
        return None


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)  # 256 bits


def refresh_token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# The tokens sent by e-mail are made and stored as refresh tokens are: 256 random bits,
# kept only as a SHA-256 digest (a fast hash is enough for a value no one can guess).
new_account_token = new_refresh_token
account_token_digest = refresh_token_digest
