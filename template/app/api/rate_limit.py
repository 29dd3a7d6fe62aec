"""Per-client limits on the endpoints that attackers hammer: login, refresh, sign-up."""

import logging
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request, Response
from limits.errors import StorageError

from app.api.dependencies import SettingsDep
from app.core.config import Settings
from app.core.exceptions import ServiceUnavailable, TooManyRequests
from app.core.rate_limit import RateLimiter

logger = logging.getLogger(__name__)

# How long a client should wait when the counters' store is unreachable.
STORE_DOWN_RETRY_AFTER = "5"


def get_rate_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.rate_limiter
    return limiter


class RateLimit:
    """A route dependency that counts the request against one limit of the settings.

    The key is the client address as the ASGI server reports it: the socket peer, or
    the forwarded client when the peer is a trusted proxy (FORWARDED_ALLOW_IPS).
    """

    def __init__(self, name: str, limit: Callable[[Settings], str]) -> None:
        self.name = name
        self.limit = limit

    async def __call__(
        self,
        request: Request,
        response: Response,
        settings: SettingsDep,
        limiter: Annotated[RateLimiter, Depends(get_rate_limiter)],
    ) -> None:
        client = request.client.host if request.client else "unknown"
        try:
            verdict = await limiter.hit(self.limit(settings), self.name, client)
        except StorageError:
            logger.error("rate-limit store unreachable", extra={"limit": self.name})
            raise ServiceUnavailable(
                "Rate limiting is unavailable right now; try again shortly.",
                headers={"Retry-After": STORE_DOWN_RETRY_AFTER},
            ) from None
        headers = {
            "X-RateLimit-Limit": str(verdict.limit),
            "X-RateLimit-Remaining": str(verdict.remaining),
            "X-RateLimit-Reset": str(verdict.reset_after),
        }
        # Error answers are built afresh by the error handlers, which add these too.
        request.state.rate_limit_headers = headers
        if not verdict.allowed:
            logger.warning("rate limit hit", extra={"limit": self.name, "client_ip": client})
            raise TooManyRequests(
                "Too many requests; retry later.",
                headers={"Retry-After": str(verdict.reset_after)},
            )
        response.headers.update(headers)


LOGIN_LIMIT = Depends(RateLimit("login", lambda settings: settings.rate_limit_login))
REFRESH_LIMIT = Depends(RateLimit("refresh", lambda settings: settings.rate_limit_refresh))
SIGNUP_LIMIT = Depends(RateLimit("signup", lambda settings: settings.rate_limit_signup))
