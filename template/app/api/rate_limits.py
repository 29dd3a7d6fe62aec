"""Limits on the endpoints that attackers hammer: login, refresh, logout, sign-up, password
checks, the account e-mails and their links, sessions; per client address, per user,
failed logins per account, and e-mails per recipient."""

import hashlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from ipaddress import IPv6Address, IPv6Network, ip_address
from typing import Annotated

from fastapi import Depends, Request, Response
from limits.errors import StorageError

from app.api.dependencies import CurrentAccount, SettingsDep
from app.api.problems import declares
from app.core.config import Settings
from app.core.exceptions import InvalidGrant, ServiceUnavailable, TooManyRequests
from app.core.rate_limiter import RateLimiter, Verdict

logger = logging.getLogger(__name__)

TOO_MANY = "Too many requests; retry later."


async def get_rate_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.rate_limiter
    return limiter


RateLimiterDep = Annotated[RateLimiter, Depends(get_rate_limiter)]


def client_address(request: Request) -> str:
    """The socket peer, or the forwarded client when the peer is a trusted proxy
    (ForwardedHeadersMiddleware has already decided which)."""
    return request.client.host if request.client else "unknown"


def address_key(address: str, ipv6_prefix: int) -> str:
    """What a client address is counted as: an IPv4 address itself, an IPv6 address by its
    network of `ipv6_prefix` bits. A subscriber holds a whole /64 (or more), so counting
    its addresses one by one would give it 2**64 budgets."""
    try:
        parsed = ip_address(address)
    except ValueError:  # "unknown", or a test client's name
        return address
    if not isinstance(parsed, IPv6Address):
        return address
    if parsed.ipv4_mapped is not None:  # ::ffff:192.0.2.1 is that IPv4 client
        return str(parsed.ipv4_mapped)
    return str(IPv6Network((parsed, ipv6_prefix), strict=False))


async def _ask(name: str, question: Awaitable[Verdict]) -> Verdict:
    try:
        return await question
    except StorageError:
        logger.error("rate-limit store unreachable", extra={"limit": name})
        raise ServiceUnavailable(
            "Rate limiting is unavailable right now; try again shortly."
        ) from None


def _refuse(name: str, request: Request, verdict: Verdict) -> None:
    logger.warning("rate limit hit", extra={"limit": name, "client_ip": client_address(request)})
    raise TooManyRequests(TOO_MANY, headers={"Retry-After": str(verdict.reset_after)})


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
        key = address_key(client_address(request), settings.rate_limit_ipv6_prefix)
        await self.count(request, response, settings, limiter, key)

    async def count(
        self,
        request: Request,
        response: Response,
        settings: Settings,
        limiter: RateLimiter,
        key: str,
    ) -> None:
        verdict = await _ask(self.name, limiter.hit(self.limit(settings), self.name, key))
        headers = {
            "X-RateLimit-Limit": str(verdict.limit),
            "X-RateLimit-Remaining": str(verdict.remaining),
            "X-RateLimit-Reset": str(verdict.reset_after),
        }
        # Error answers are built afresh by the error handlers, which add these too.
        request.state.rate_limit_headers = headers
        if not verdict.allowed:
            _refuse(self.name, request, verdict)
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


ACCOUNT_LOGIN_LIMIT = "login-account"


class AccountLogins:
    """Failed logins per account (RATE_LIMIT_LOGIN_ACCOUNT), counted across every address
    and, with the Redis store, every replica: a guesser with many addresses still gets one
    budget per account. While the account is throttled, every login answers 429, the right
    password's too; otherwise the answer would tell the guesser when a guess was right.

    Unknown accounts are counted alike, so the throttle says nothing of which exist. The
    key is a digest of the login name: the store never holds e-mail addresses.
    """

    def __init__(self, request: Request, settings: Settings, limiter: RateLimiter) -> None:
        self.request = request
        self.limit = settings.rate_limit_login_account
        self.limiter = limiter

    @asynccontextmanager
    async def attempt(self, login_name: str) -> AsyncIterator[None]:
        """Refuse a throttled account's login; count the login if it fails."""
        key = hashlib.sha256(login_name.encode()).hexdigest()
        keys = (ACCOUNT_LOGIN_LIMIT, key)
        verdict = await _ask(ACCOUNT_LOGIN_LIMIT, self.limiter.test(self.limit, *keys))
        if not verdict.allowed:
            _refuse(ACCOUNT_LOGIN_LIMIT, self.request, verdict)
        try:
            yield
        except InvalidGrant:
            # Failures racing past the test all count, so a burst can overshoot the limit
            # by the logins in flight; the per-address limit bounds those.
            await _ask(ACCOUNT_LOGIN_LIMIT, self.limiter.hit(self.limit, *keys))
            raise


async def get_account_logins(
    request: Request, settings: SettingsDep, limiter: RateLimiterDep
) -> AccountLogins:
    return AccountLogins(request, settings, limiter)


AccountLoginsDep = Annotated[AccountLogins, Depends(get_account_logins)]

RECIPIENT_LIMIT = "email-account"


class Recipients:
    """Account e-mails per recipient address (RATE_LIMIT_EMAIL_PER_ACCOUNT), counted from
    every client address and replica together: no one floods a mailbox, or an account's
    owner with reset links, by asking from many addresses. Every address counts, with an
    account or not, so the answer says nothing of which have one; the store holds digests."""

    def __init__(self, request: Request, settings: Settings, limiter: RateLimiter) -> None:
        self.request = request
        self.limit = settings.rate_limit_email_per_account
        self.limiter = limiter

    async def count(self, address: str) -> None:
        key = hashlib.sha256(address.encode()).hexdigest()
        verdict = await _ask(RECIPIENT_LIMIT, self.limiter.hit(self.limit, RECIPIENT_LIMIT, key))
        if not verdict.allowed:
            _refuse(RECIPIENT_LIMIT, self.request, verdict)


async def get_recipients(
    request: Request, settings: SettingsDep, limiter: RateLimiterDep
) -> Recipients:
    return Recipients(request, settings, limiter)


declares(429, 503)(get_recipients)
RecipientsDep = Annotated[Recipients, Depends(get_recipients)]

LOGIN_LIMIT = Depends(RateLimit("login", lambda settings: settings.rate_limit_login))
REFRESH_LIMIT = Depends(RateLimit("refresh", lambda settings: settings.rate_limit_refresh))
LOGOUT_LIMIT = Depends(RateLimit("logout", lambda settings: settings.rate_limit_logout))
SIGNUP_LIMIT = Depends(RateLimit("signup", lambda settings: settings.rate_limit_signup))


def _password_check_limit(settings: Settings) -> str:
    return settings.rate_limit_password_check


# Every check of a password outside login (changing the password or the e-mail) costs a
# bcrypt hash and answers whether a guess was right: limited per address and per user.
PASSWORD_CHECK_LIMITS = [
    Depends(RateLimit("password-check-address", _password_check_limit)),
    Depends(UserRateLimit("password-check-user", _password_check_limit)),
]

EMAIL_REQUEST_LIMIT = Depends(
    RateLimit("email-request", lambda settings: settings.rate_limit_email_request)
)
TOKEN_LIMIT = Depends(RateLimit("token", lambda settings: settings.rate_limit_token))


def _sessions_limit(settings: Settings) -> str:
    return settings.rate_limit_sessions


SESSION_LIMITS = [
    Depends(RateLimit("sessions-address", _sessions_limit)),
    Depends(UserRateLimit("sessions-user", _sessions_limit)),
]
