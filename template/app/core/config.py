"""Settings, read once from the environment and `.env`."""

import math
import os
import sys
from collections import Counter
from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network
from typing import Annotated, Literal

from limits import parse_many
from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url

from app.core import answers
from app.core.http_metrics import MULTIPROCESS_DIRECTORY_VARIABLE

# Values that appear in examples and must never sign production tokens.
PLACEHOLDER_SECRETS = frozenset(
    {"change-me", "changeme", "secret", "your-secret-key", "dev-secret"}
)
MIN_PRODUCTION_SECRET_LENGTH = 32
# A floor that catches keys nobody drew at random (a word repeated, a few characters), by
# estimated_entropy_bits. Not a measure of strength: the estimate of a random key of 32 hex
# characters (128 real bits) can fall to about 95, so the floor stays below that.
MIN_PRODUCTION_SECRET_BITS = 90
# Below this bcrypt cost a stolen hash is cheap to crack; tests use 4, production never.
MIN_PRODUCTION_BCRYPT_ROUNDS = 10
MIN_METRICS_TOKEN_LENGTH = 32
GENERATE_SECRET = 'python -c "import secrets; print(secrets.token_urlsafe(48))"'  # noqa: S105
# A mail relay on the service's own host: the one place SMTP_TLS=none is allowed outside dev.
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
# Set by Railway in the environment of every replica of a deployment, one or several.
RAILWAY_REPLICA_VARIABLE = "RAILWAY_REPLICA_ID"


def estimated_entropy_bits(secret: str) -> float:
    """A rough estimate of the secret's entropy: its length times the Shannon entropy of
    its characters' frequencies. A random key of 64 URL-safe characters scores about 350;
    32 identical characters score 0, "abab..." one bit a character, "changeme" four times
    88: long, but weak."""
    counts = Counter(secret)
    per_character = -sum(
        count / len(secret) * math.log2(count / len(secret)) for count in counts.values()
    )
    return len(secret) * per_character


def normalize_database_url(url: str) -> str:
    """Give plain PostgreSQL URLs, as hosting platforms hand out, the asyncpg driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            url = "postgresql+asyncpg://" + url.removeprefix(prefix)
            break
    # libpq spells TLS as `sslmode`; asyncpg takes the same values as `ssl`.
    return url.replace("?sslmode=", "?ssl=").replace("&sslmode=", "&ssl=")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    # Unset means production: a deploy that forgets ENV gets the strict rules, never the
    # lenient ones. Only ENV=dev (the rendered .env says so) relaxes them.
    env: Literal["dev", "staging", "production"] = "production"
    debug: bool = False
    project_name: str = answers.PROJECT_NAME
    # /docs, /redoc and /openapi.json. Unset: served with ENV=dev only.
    docs_enabled: bool | None = None

    # repr=False here and on every URL below: they carry passwords, and a settings object
    # printed in a log line or a traceback must not show them.
    database_url: str = Field(repr=False)
    # The role migrations run as (python -m app.db.migrate): the schema's owner, so that the
    # service's DATABASE_URL can name a role that reads and writes rows but cannot alter or
    # drop a table. Unset: DATABASE_URL. repr=False: the URL carries a password.
    migration_database_url: str | None = Field(default=None, repr=False)
    db_connect_timeout: float = Field(default=5, gt=0, le=60)
    # Connections per worker: as many as it may serve requests at once (see docs/operations.md,
    # "Performance and tuning"); more waits up to DB_CONNECT_TIMEOUT for one to come back.
    db_pool_size: int = Field(default=20, ge=1, le=500)
    # Largest request body read, in bytes; a larger one is refused with a 413.
    max_request_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=1024**3)

    secret_key: SecretStr
    algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    access_token_expire_minutes: int = Field(default=30, ge=1, le=24 * 60)
    refresh_token_expire_days: int = Field(default=7, ge=1, le=365)
    # A refresh-token family (one login) dies after this, however often it rotates.
    refresh_token_family_max_days: int = Field(default=30, ge=1, le=365)
    bcrypt_rounds: int = Field(default=12, ge=4, le=31)
    # The `iss` and `aud` of every access token, both required when one is read. Unset:
    # the project's slug, and the slug with ENV, so that a staging token is refused in
    # production even when the two share a SECRET_KEY.
    jwt_issuer: str | None = None
    jwt_audience: str | None = None

    # NoDecode: the variable is a comma-separated list, not JSON.
    cors_origins: Annotated[tuple[str, ...], NoDecode] = tuple(answers.CORS_ORIGINS)
    # auto: readable lines with ENV=dev, JSON lines (for a log collector) everywhere else.
    log_format: Literal["auto", "json", "console"] = "auto"
    metrics_enabled: bool = True
    # When set, GET /metrics needs `Authorization: Bearer <token>`; required outside dev.
    metrics_token: SecretStr | None = None

    rate_limit_store: answers.RateLimitStore = answers.RATE_LIMIT_STORE
    redis_url: str = Field(default="redis://localhost:6379/0", repr=False)
    # Requests per client address, in the `limits` notation ("5/minute", "100/hour");
    # several limits apply together when separated by ";" ("5/minute;20/hour").
    rate_limit_login: str = "5/minute"
    # Failed logins per account, from every address and replica together. While it is
    # reached, every login of the account answers 429, the right password's included.
    rate_limit_login_account: str = "5/minute;20/hour"
    rate_limit_logout: str = "30/minute"
    rate_limit_refresh: str = "30/minute"
    rate_limit_signup: str = "10/minute"
    # Password checks outside login (password and e-mail changes), per address and per user.
    rate_limit_password_check: str = "5/minute"  # noqa: S105 - a rate, not a password
    # Requests that send an account e-mail (password reset, a new verification link), per
    # address; and the e-mails of those flows per target address, from every client
    # together, so no one floods a mailbox. Sign-up and e-mail changes count there too.
    rate_limit_email_request: str = "5/minute"
    rate_limit_email_per_account: str = "3/10minutes;10/day"
    # Redeeming a token from an e-mail (reset, verification, e-mail change), per address.
    rate_limit_token: str = "10/minute"  # noqa: S105 - a rate, not a token
    # Listing and ending one's sessions, per address and per user.
    rate_limit_sessions: str = "30/minute"
    # Namespaces this service's counters in a Redis shared with others.
    rate_limit_key_prefix: str = f"{answers.PROJECT_SLUG}:rate-limit"
    # An IPv6 client is counted by its network of this prefix length: one subscriber gets
    # a whole /64, and each of its addresses must not be a new budget. IPv4: by address.
    rate_limit_ipv6_prefix: int = Field(default=64, ge=32, le=128)
    # Worker processes (uvicorn --workers): the memory store cannot be shared between them.
    web_concurrency: int = Field(default=1, ge=1, le=64)
    # The operator's word that the service runs as one replica, which the memory store needs
    # on a platform that does not say how many replicas there are (Railway).
    single_replica: bool = False
    # Proxies whose X-Forwarded-For/-Proto are believed (comma-separated IPs or CIDR ranges).
    forwarded_allow_ips: Annotated[tuple[IPv4Network | IPv6Network, ...], NoDecode] = (
        IPv4Network("127.0.0.1/32"),
    )

    # A project that traces continues an incoming `traceparent` only from a trusted proxy
    # (FORWARDED_ALLOW_IPS); true continues anyone's, for a service reached only by others
    # of one's own. Read only by a project rendered with tracing.
    trace_context_from_any_peer: bool = False

    # E-mail (app/mail). Unset EMAIL_BACKEND: console with ENV=dev (each message whole in
    # the log, nothing sent), smtp everywhere else. off sends nothing and says so in the log.
    email_backend: Literal["smtp", "console", "off"] | None = None
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    # starttls: the connection is upgraded before anything is sent (port 587), and a server
    # that offers no STARTTLS is an error, never a plain-text fallback; tls: TLS from the
    # first byte (port 465); none: plain text, outside dev for a relay on the host only.
    smtp_tls: Literal["starttls", "tls", "none"] = "starttls"
    mail_from: str | None = None
    # The front end that the links in e-mails open (the token rides in the URL fragment).
    frontend_url: str = "http://localhost:3000"

    # required: a new account logs in only once its address is verified, and sign-up
    # answers alike whether or not the address has an account. optional: accounts log in
    # at once, and sign-up answers 409 for a taken address; the verified state is kept.
    email_verification: Literal["required", "optional"] = "required"
    # How long the links in account e-mails work. A reset link is short-lived: whoever
    # reads the mailbox later (a shared screen, a breached inbox) gets nothing from it.
    password_reset_token_expire_minutes: int = Field(default=30, ge=5, le=24 * 60)
    email_verification_token_expire_hours: int = Field(default=48, ge=1, le=30 * 24)
    email_change_token_expire_hours: int = Field(default=24, ge=1, le=7 * 24)

    # The worker (python -m app.worker). Its /health and /metrics listen here.
    worker_host: str = "0.0.0.0"  # noqa: S104 - its platform probes it from outside the container
    worker_port: int = Field(default=8001, ge=1, le=65535)
    # A failed job (an SMTP error) is tried again after JOB_RETRY_DELAY_SECONDS, then
    # twice as long each time (at most 10 minutes apart), JOB_MAX_ATTEMPTS times in all;
    # then it is held with status 'failed'. The defaults span about 20 minutes.
    job_max_attempts: int = Field(default=8, ge=1, le=100)
    job_retry_delay_seconds: float = Field(default=10, gt=0, le=3600)
    # A job whose worker stopped beating its heart for this long (killed, cut off from the
    # database) is taken again, by another worker or by the same one after a restart.
    job_heartbeat_timeout_seconds: float = Field(default=30, ge=1, le=3600)

    @field_validator("database_url")
    @classmethod
    def _normalize_database_url(cls, value: str) -> str:
        return normalize_database_url(value)

    @field_validator("migration_database_url")
    @classmethod
    def _normalize_migration_database_url(cls, value: str | None) -> str | None:
        # Empty (a platform's reference to a variable that is not there) means unset.
        return normalize_database_url(value) if value else None

    @field_validator("debug")
    @classmethod
    def _no_debug_in_production(cls, value: bool, info: ValidationInfo) -> bool:
        return value and info.data.get("env") == "dev"

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(origin.strip() for origin in value.split(",") if origin.strip())
        return value

    @field_validator("cors_origins")
    @classmethod
    def _refuse_wildcard(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if "*" in value:
            raise ValueError('"*" is not allowed with credentials; list each origin')
        return value

    @field_validator("forwarded_allow_ips", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            value = tuple(entry.strip() for entry in value.split(",") if entry.strip())
        if isinstance(value, tuple | list) and "*" in value:
            # Trusting every peer lets any client write its own X-Forwarded-For, and so
            # choose its own address: its own rate-limit budget, its own log lines.
            raise ValueError(
                '"*" would let any client choose its own address; list the proxies\' '
                "addresses or ranges, for example 10.0.0.0/8"
            )
        return value

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _no_network_of_everyone(
        cls, value: tuple[IPv4Network | IPv6Network, ...]
    ) -> tuple[IPv4Network | IPv6Network, ...]:
        # 0.0.0.0/0 and ::/0 are "*" spelled otherwise.
        if everyone := [str(network) for network in value if network.prefixlen == 0]:
            raise ValueError(
                f"{', '.join(everyone)} would let any client choose its own address; "
                "list the proxies' addresses or ranges"
            )
        return value

    @field_validator(
        "rate_limit_login",
        "rate_limit_login_account",
        "rate_limit_logout",
        "rate_limit_refresh",
        "rate_limit_signup",
        "rate_limit_password_check",
        "rate_limit_email_request",
        "rate_limit_email_per_account",
        "rate_limit_token",
        "rate_limit_sessions",
    )
    @classmethod
    def _parse_limit(cls, value: str) -> str:
        try:
            if not parse_many(value):
                raise ValueError
        except ValueError:
            raise ValueError(
                f'"{value}" is not a rate limit such as "5/minute" or "5/minute;20/hour"'
            ) from None
        return value

    @model_validator(mode="after")
    def _one_process_per_memory_store(self) -> "Settings":
        if self.rate_limit_store == "memory" and self.web_concurrency > 1:
            raise ValueError(
                f"RATE_LIMIT_STORE=memory keeps counters per process, so {self.web_concurrency} "
                "workers would each allow the full limit: use the Redis store (rendered with "
                "rate_limit_store=redis, RATE_LIMIT_STORE=redis) or WEB_CONCURRENCY=1"
            )
        return self

    @model_validator(mode="after")
    def _one_replica_per_memory_store(self) -> "Settings":
        # Railway names each replica (RAILWAY_REPLICA_ID) but tells none of them how many
        # there are: one replica and five look the same from inside. Each would keep its own
        # counters and allow the full limit, so on Railway the memory store starts only on
        # the operator's word. Read from the process environment, where Railway puts it.
        on_railway = bool(os.environ.get(RAILWAY_REPLICA_VARIABLE))
        if self.rate_limit_store == "memory" and on_railway and not self.single_replica:
            raise ValueError(
                f"RATE_LIMIT_STORE=memory keeps counters per replica and Railway "
                f"({RAILWAY_REPLICA_VARIABLE}) may run several, each allowing the full limit: "
                "use the Redis store, or set SINGLE_REPLICA=true if the service runs one replica"
            )
        return self

    @model_validator(mode="after")
    def _verification_needs_mail(self) -> "Settings":
        # In every environment: with no e-mail, no account could ever log in.
        if self.email_verification == "required" and self.mail_delivery == "off":
            raise ValueError(
                "EMAIL_VERIFICATION=required sends each new account a link it must follow "
                "before it logs in, and EMAIL_BACKEND=off sends nothing: set "
                "EMAIL_VERIFICATION=optional or an e-mail backend"
            )
        return self

    @field_validator("metrics_token")
    @classmethod
    def _blank_token_is_no_token(cls, value: SecretStr | None) -> SecretStr | None:
        # An empty METRICS_TOKEN= must not become a token that an empty header matches.
        return value if value and value.get_secret_value() else None

    @model_validator(mode="after")
    def _metrics_of_every_worker(self) -> "Settings":
        # Read from the process environment, where prometheus_client reads it too.
        shared_directory = os.environ.get(MULTIPROCESS_DIRECTORY_VARIABLE)
        if self.metrics_enabled and self.web_concurrency > 1 and not shared_directory:
            raise ValueError(
                f"{self.web_concurrency} workers need {MULTIPROCESS_DIRECTORY_VARIABLE} "
                "(scripts/start.sh sets it) so that /metrics adds up all of them, "
                "or METRICS_ENABLED=false"
            )
        return self

    @model_validator(mode="after")
    def _production_rules(self) -> "Settings":
        # Staging holds real data and faces real networks: it gets the same rules. Each
        # rule is one line at start-up (load_settings), naming the variable to change.
        if self.env == "dev":
            return self
        relax = "(ENV=dev relaxes this)"
        secret = self.secret_key.get_secret_value()
        if secret.lower() in PLACEHOLDER_SECRETS or len(secret) < MIN_PRODUCTION_SECRET_LENGTH:
            raise ValueError(
                f"SECRET_KEY must be a random value of at least {MIN_PRODUCTION_SECRET_LENGTH} "
                f"characters with ENV={self.env}: {GENERATE_SECRET} {relax}"
            )
        if estimated_entropy_bits(secret) < MIN_PRODUCTION_SECRET_BITS:
            raise ValueError(
                f"SECRET_KEY is too predictable (too few distinct characters) with "
                f"ENV={self.env}: {GENERATE_SECRET} {relax}"
            )
        if self.bcrypt_rounds < MIN_PRODUCTION_BCRYPT_ROUNDS:
            raise ValueError(
                f"BCRYPT_ROUNDS must be at least {MIN_PRODUCTION_BCRYPT_ROUNDS} with "
                f"ENV={self.env} (12 is the default) {relax}"
            )
        if make_url(self.database_url).get_backend_name() != "postgresql":
            raise ValueError(f"DATABASE_URL must point at PostgreSQL with ENV={self.env}")
        if self.metrics_enabled and self.metrics_token is None:
            raise ValueError(
                f"/metrics would be public with ENV={self.env}: set METRICS_TOKEN "
                "(Prometheus sends it as a bearer token) or METRICS_ENABLED=false"
            )
        if self.metrics_token and len(self.metrics_token) < MIN_METRICS_TOKEN_LENGTH:
            raise ValueError(
                f"METRICS_TOKEN must be at least {MIN_METRICS_TOKEN_LENGTH} characters with "
                f"ENV={self.env}: {GENERATE_SECRET} {relax}"
            )
        self._production_mail_rules(relax)
        # A page served from "null" (a sandboxed frame, a file) or over plain http could be
        # anyone's; with credentials allowed, it would read the users' data.
        if insecure := [
            origin for origin in self.cors_origins if not origin.startswith("https://")
        ]:
            raise ValueError(
                f"CORS_ORIGINS must be https:// origins with ENV={self.env}, not "
                f"{', '.join(insecure)}: list the front ends' https origins, or leave it "
                f"empty for none {relax}"
            )
        return self

    def _production_mail_rules(self, relax: str) -> None:
        env = f"ENV={self.env}"
        if self.mail_delivery == "console":
            raise ValueError(
                f"EMAIL_BACKEND=console writes every message, its links' tokens included, to "
                f"the log: with {env} use smtp (SMTP_HOST, MAIL_FROM) or off {relax}"
            )
        if self.mail_delivery != "smtp":
            return
        if missing := [
            name
            for name, value in (("SMTP_HOST", self.smtp_host), ("MAIL_FROM", self.mail_from))
            if not value
        ]:
            raise ValueError(
                f"EMAIL_BACKEND=smtp (the default with {env}) needs {' and '.join(missing)}: "
                "the provider's host and the sender's address, or EMAIL_BACKEND=off"
            )
        if self.smtp_tls == "none" and self.smtp_host not in LOCAL_HOSTS:
            raise ValueError(
                f"SMTP_TLS=none would send every message, its links' tokens included, in "
                f"plain text to {self.smtp_host} with {env}: use starttls or tls {relax}"
            )
        if not self.frontend_url.startswith("https://"):
            raise ValueError(
                f"FRONTEND_URL must be an https:// URL with {env}: the links in e-mails "
                f"carry tokens {relax}"
            )

    @property
    def mail_delivery(self) -> Literal["smtp", "console", "off"]:
        """EMAIL_BACKEND, or when unset: console with ENV=dev, smtp everywhere else."""
        if self.email_backend is not None:
            return self.email_backend
        return "console" if self.env == "dev" else "smtp"

    @property
    def token_issuer(self) -> str:
        return self.jwt_issuer or answers.PROJECT_SLUG

    @property
    def token_audience(self) -> str:
        return self.jwt_audience or f"{answers.PROJECT_SLUG}:{self.env}"

    @property
    def is_sqlite(self) -> bool:
        return make_url(self.database_url).get_backend_name() == "sqlite"

    @property
    def serves_docs(self) -> bool:
        """Whether /docs, /redoc and /openapi.json exist: DOCS_ENABLED, else ENV=dev."""
        return self.env == "dev" if self.docs_enabled is None else self.docs_enabled


def load_settings() -> Settings:
    """Read the settings, or stop the process with one line that says what is wrong."""
    try:
        return Settings()  # required values come from the environment
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']).upper() or 'settings'}: {error['msg']}"
            for error in exc.errors()
        )
        print(f"Configuration error: {problems}", file=sys.stderr)
        raise SystemExit(1) from None


@lru_cache
def get_settings() -> Settings:
    return load_settings()
