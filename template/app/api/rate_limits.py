"""Limits on the endpoints that attackers hammer: login, refresh, sign-up, password checks."""

import logging
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request, Response
from limits.errors import StorageError

from app.api.dependencies import CurrentAccount, SettingsDep
from app.api.problems import declares
from app.core.config import Settings
from app.core.exceptions import ServiceUnavailable, TooManyRequests
from app.core.rate_limiter import RateLimiter

logger = logging.getLogger(__name__)


async def get_rate_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.rate_limiter
    return limiter


RateLimiterDep = Annotated[RateLimiter, Depends(get_rate_limiter)]


def client_address(request: Request) -> str:
    """The socket peer, or the forwarded client when the peer is a trusted proxy
    (ForwardedHeadersMiddleware has already decided which)."""
    return request.client.host if request.client else "unknown"


class RateLimit:
    """A route dependency that counts the request against one limit of the settings,
    per client address."""

    def __init__(self, name: str, limit: Callable[[Settings], str]) -> None:
        self.name = name
        self.limit = limit
        declares(429, 503)(self)  # over the limit; the counters' store unreachable

    async def __call__(
        self,
        request: Request,
        response: Response,
        settings: SettingsDep,
        limiter: RateLimiterDep,
    ) -> None:
        await self.count(request, response, settings, limiter, client_address(request))

    async def count(
        self,
        request: Request,
        response: Response,
        settings: Settings,
        limiter: RateLimiter,
        key: str,
    ) -> None:
        try:
            verdict = await limiter.hit(self.limit(settings), self.name, key)
        except StorageError:
            logger.error("rate-limit store unreachable", extra={"limit": self.name})
            raise ServiceUnavailable(
                "Rate limiting is unavailable right now; try again shortly."
            ) from None
        headers = {
            "X-RateLimit-Limit": str(verdict.limit),
            "X-RateLimit-Remaining": str(verdict.remaining),
            "X-RateLimit-Reset": str(verdict.reset_after),
        }
        # Error answers are built afresh by the error handlers, which add these too.
        request.state.rate_limit_headers = headers
        if not verdict.allowed:
            logger.warning(
                "rate limit hit",
                extra={"limit": self.name, "client_ip": client_address(request)},
            )
            raise TooManyRequests(
                "Too many requests; retry later.",
                headers={"Retry-After": str(verdict.reset_after)},
            )
        response.headers.update(headers)


class UserRateLimit(RateLimit):
    """The same, per authenticated user: a stolen access token used from many addresses
    still gets one budget."""

    async def __call__(  # type: ignore[override]
        self,
        request: Request,
        response: Response,
        settings: SettingsDep,
        limiter: RateLimiterDep,
        user: CurrentAccount,
    ) -> None:
        await self.count(request, response, settings, limiter, str(user.id))


LOGIN_LIMIT = Depends(RateLimit("login", lambda settings: settings.rate_limit_login))
REFRESH_LIMIT = Depends(RateLimit("refresh", lambda settings: settings.rate_limit_refresh))
SIGNUP_LIMIT = Depends(RateLimit("signup", lambda settings: settings.rate_limit_signup))


def _password_check_limit(settings: Settings) -> str:
    return settings.rate_limit_password_check


# Every check of a password outside login (changing the password or the e-mail) costs a
# bcrypt hash and answers whether a guess was right: limited per address and per user.
PASSWORD_CHECK_LIMITS = [
    Depends(RateLimit("password-check-address", _password_check_limit)),
    Depends(UserRateLimit("password-check-user", _password_check_limit)),
]
