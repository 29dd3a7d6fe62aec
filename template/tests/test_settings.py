"""Settings: everywhere but ENV=dev, weak secrets and costs, SQLite, debug, open metrics and
insecure origins are refused; secrets never show in a printed settings object."""

from typing import Any

import pytest
from pydantic import ValidationError

from app.core.config import Settings, load_settings

# Random once (secrets.token_urlsafe(30)); fixed so that a failure can be replayed.
STRONG_SECRET = "Xq7vK2pL9sRt4wZb8nMc3yHd6fJg1aUe5iOo0QrT"
POSTGRES = "postgresql+asyncpg://app@db:5432/app"
METRICS_TOKEN = "vW3kP8qN2xL7rT5mB9sJ4dH6fG1cY0aZ"
# What production() passes besides the values a test sets.
PRODUCTION = {
    "secret_key": STRONG_SECRET,
    "database_url": POSTGRES,
    "metrics_token": METRICS_TOKEN,
    "cors_origins": ("https://app.example.com",),
    "smtp_host": "smtp.example.com",
    "mail_from": "service@example.com",
    "frontend_url": "https://app.example.com",
}
# Every ENV value with production rules, unset included: a deploy that forgets ENV.
STRICT = [{"env": "production"}, {"env": "staging"}, {}]
STRICT_IDS = ["production", "staging", "unset"]


def make(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)


def production(**values: Any) -> Settings:
    """Settings that pass every production rule, with `values` changed."""
    return make(**PRODUCTION | values)


def test_env_unset_is_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ENV", raising=False)
    assert production().env == "production"


@pytest.mark.parametrize("env", STRICT, ids=STRICT_IDS)
@pytest.mark.parametrize("secret", ["change-me", "secret", "short-but-random-1234"])
def test_production_refuses_a_weak_secret(env: dict[str, str], secret: str) -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        production(secret_key=secret, **env)


@pytest.mark.parametrize("env", STRICT, ids=STRICT_IDS)
@pytest.mark.parametrize(
    "secret",
    [
        pytest.param("s" * 40, id="one-character"),
        pytest.param("ab" * 32, id="two-characters"),
        pytest.param("passwordpasswordpasswordpassword", id="a-word-repeated"),
        pytest.param("changeme" * 4, id="a-placeholder-repeated"),
    ],
)
def test_production_refuses_a_predictable_secret(env: dict[str, str], secret: str) -> None:
    """Long enough is not enough: a key of few distinct characters is guessable."""
    with pytest.raises(ValidationError, match="SECRET_KEY is too predictable"):
        production(secret_key=secret, **env)


@pytest.mark.parametrize("env", STRICT, ids=STRICT_IDS)
def test_production_refuses_a_cheap_password_hash(env: dict[str, str]) -> None:
    with pytest.raises(ValidationError, match="BCRYPT_ROUNDS must be at least 10"):
        production(bcrypt_rounds=9, **env)
    assert production(bcrypt_rounds=10, **env).bcrypt_rounds == 10


@pytest.mark.parametrize("env", STRICT, ids=STRICT_IDS)
def test_production_refuses_a_short_metrics_token(env: dict[str, str]) -> None:
    with pytest.raises(ValidationError, match="METRICS_TOKEN must be at least 32"):
        production(metrics_token="m", **env)
    with pytest.raises(ValidationError, match="METRICS_TOKEN must be at least 32"):
        production(metrics_token=METRICS_TOKEN[:31], **env)


@pytest.mark.parametrize("env", STRICT, ids=STRICT_IDS)
@pytest.mark.parametrize("origin", ["null", "http://app.example.com", "http://localhost:3000"])
def test_production_refuses_insecure_cors_origins(env: dict[str, str], origin: str) -> None:
    """A page served from "null" (a sandboxed frame, a file) or over plain http could be
    anyone's; with credentials allowed, it would read the users' data."""
    with pytest.raises(ValidationError, match="CORS_ORIGINS must be https"):
        production(cors_origins=("https://app.example.com", origin), **env)
    assert make(env="dev", secret_key="dev", database_url=POSTGRES, cors_origins=(origin,))
    assert production(cors_origins=(), **env).cors_origins == ()


@pytest.mark.parametrize("env", STRICT, ids=STRICT_IDS)
def test_production_refuses_sqlite(env: dict[str, str]) -> None:
    with pytest.raises(ValidationError, match="PostgreSQL"):
        production(database_url="sqlite+aiosqlite:///x.db", **env)


@pytest.mark.parametrize("env", STRICT, ids=STRICT_IDS)
def test_production_forces_debug_off(env: dict[str, str]) -> None:
    assert production(debug=True, **env).debug is False


@pytest.mark.parametrize("env", STRICT, ids=STRICT_IDS)
def test_production_refuses_public_metrics(env: dict[str, str]) -> None:
    with pytest.raises(ValidationError, match="METRICS_TOKEN"):
        production(metrics_token=None, **env)
    assert production(metrics_token=None, metrics_enabled=False, **env)


@pytest.mark.parametrize(
    ("values", "served"),
    [
        ({"env": "dev"}, True),
        ({"env": "production"}, False),
        ({"env": "staging"}, False),
        ({"env": "production", "docs_enabled": True}, True),
        ({"env": "dev", "docs_enabled": False}, False),
    ],
)
def test_the_docs_are_served_in_development_unless_told(
    values: dict[str, Any], served: bool
) -> None:
    assert production(**values).serves_docs is served


@pytest.mark.parametrize(
    "proxies", ["*", "10.0.0.1, *", "0.0.0.0/0", "::/0", "10.0.0.0/8, 0.0.0.0/0", "0.0.0.0/0,::/0"]
)
def test_trusting_every_proxy_is_refused(proxies: str) -> None:
    """ "*" and the networks of prefix length 0, which are "*" spelled otherwise."""
    with pytest.raises(ValidationError, match="choose its own address"):
        production(forwarded_allow_ips=proxies)


def test_proxies_are_addresses_or_ranges() -> None:
    settings = production(forwarded_allow_ips="10.0.0.0/8, 192.0.2.7,fd00::/8")
    assert [str(network) for network in settings.forwarded_allow_ips] == [
        "10.0.0.0/8",
        "192.0.2.7/32",
        "fd00::/8",
    ]
    with pytest.raises(ValidationError):
        production(forwarded_allow_ips="proxy.internal")


def test_dev_allows_sqlite_and_debug() -> None:
    settings = make(
        env="dev", secret_key="dev", database_url="sqlite+aiosqlite:///x.db", debug=True
    )
    assert settings.debug is True
    assert settings.is_sqlite


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u:p@host:5432/db", "postgresql+asyncpg://u:p@host:5432/db"),
        ("postgres://u:p@host/db", "postgresql+asyncpg://u:p@host/db"),
        ("postgresql://u@host/db?sslmode=require", "postgresql+asyncpg://u@host/db?ssl=require"),
        (POSTGRES, POSTGRES),
    ],
)
def test_platform_postgres_urls_get_the_asyncpg_driver(given: str, expected: str) -> None:
    assert production(database_url=given).database_url == expected


def test_cors_origins_come_from_a_comma_separated_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example.com, https://b.example.com")
    settings = make(**{name: value for name, value in PRODUCTION.items() if name != "cors_origins"})
    assert settings.cors_origins == ("https://a.example.com", "https://b.example.com")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SECRET_KEY", "change-me"),
        ("SECRET_KEY", "x" * 64),
        ("BCRYPT_ROUNDS", "4"),
        ("METRICS_TOKEN", "short"),
        ("CORS_ORIGINS", "null"),
        ("CORS_ORIGINS", "http://app.example.com"),
        ("FORWARDED_ALLOW_IPS", "0.0.0.0/0"),
        ("EMAIL_BACKEND", "console"),
        ("SMTP_HOST", ""),
        ("MAIL_FROM", ""),
        ("SMTP_TLS", "none"),
        ("FRONTEND_URL", "http://app.example.com"),
    ],
)
def test_a_bad_configuration_stops_with_one_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: object,
    variable: str,
    value: str,
) -> None:
    """Each refusal at start is one line naming the variable, and never echoes a secret."""
    monkeypatch.chdir(str(tmp_path))  # no .env here
    environment = {
        "ENV": "production",
        "SECRET_KEY": STRONG_SECRET,
        "DATABASE_URL": POSTGRES,
        "METRICS_TOKEN": METRICS_TOKEN,
        "CORS_ORIGINS": "https://app.example.com",
        "SMTP_HOST": "smtp.example.com",
        "MAIL_FROM": "service@example.com",
        "FRONTEND_URL": "https://app.example.com",
    }
    for name, setting in (environment | {variable: value}).items():
        monkeypatch.setenv(name, setting)
    with pytest.raises(SystemExit) as stopped:
        load_settings()
    assert stopped.value.code == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert error.startswith("Configuration error:")
    assert variable in error
    if variable in ("SECRET_KEY", "METRICS_TOKEN"):
        assert value not in error


@pytest.mark.parametrize("env", STRICT, ids=STRICT_IDS)
def test_production_mails_over_smtp_to_a_configured_host(env: dict[str, str]) -> None:
    assert production(**env).mail_delivery == "smtp"
    with pytest.raises(ValidationError, match="EMAIL_BACKEND=console writes every message"):
        production(email_backend="console", **env)
    with pytest.raises(ValidationError, match="needs SMTP_HOST and MAIL_FROM"):
        production(smtp_host=None, mail_from=None, **env)
    with pytest.raises(ValidationError, match="SMTP_TLS=none would send every message"):
        production(smtp_tls="none", **env)
    with pytest.raises(ValidationError, match="FRONTEND_URL must be an https:// URL"):
        production(frontend_url="http://app.example.com", **env)
    # A relay on the host itself may take plain text; off needs nothing at all, except
    # that no account would ever verify its address.
    assert production(smtp_tls="none", smtp_host="127.0.0.1", **env).smtp_tls == "none"
    mailless = {"email_backend": "off", "smtp_host": None, "mail_from": None}
    with pytest.raises(ValidationError, match="EMAIL_VERIFICATION=required sends each new"):
        production(**mailless, **env)
    assert production(**mailless, email_verification="optional", **env).mail_delivery == "off"


def test_verification_needs_mail_in_every_environment() -> None:
    with pytest.raises(ValidationError, match="EMAIL_VERIFICATION=required sends each new"):
        make(env="dev", database_url=POSTGRES, secret_key="x", email_backend="off")
    relaxed = make(
        env="dev",
        database_url=POSTGRES,
        secret_key="x",
        email_backend="off",
        email_verification="optional",
    )
    assert relaxed.email_verification == "optional"
    assert make(env="dev", database_url=POSTGRES, secret_key="x").email_verification == "required"


def test_development_writes_mail_to_the_log_unless_told() -> None:
    assert make(env="dev", database_url=POSTGRES, secret_key="x").mail_delivery == "console"
    told = make(env="dev", database_url=POSTGRES, secret_key="x", email_backend="smtp")
    assert told.mail_delivery == "smtp"


def test_secrets_and_urls_with_passwords_never_print() -> None:
    """A settings object in a log line or a traceback shows no secret: SECRET_KEY and
    METRICS_TOKEN are SecretStr, and the URLs, which carry passwords, are left out of repr."""
    settings = production(
        database_url="postgresql://app:database-password@db/app",
        migration_database_url="postgresql://owner:migration-password@db/app",
        redis_url="redis://:redis-password@cache:6379/0",
        smtp_password="smtp-password",
    )
    hidden = ("database-password", "migration-password", "redis-password", "smtp-password")
    for shown in (repr(settings), str(settings)):
        for secret in (STRONG_SECRET, METRICS_TOKEN, *hidden):
            assert secret not in shown


@pytest.mark.parametrize("single_replica", [False, True])
def test_the_memory_store_on_railway_needs_the_word_of_one_replica(
    monkeypatch: pytest.MonkeyPatch, single_replica: bool
) -> None:
    """Railway sets RAILWAY_REPLICA_ID in every replica but no count: each replica's memory
    store would allow the full limit, so it starts only with SINGLE_REPLICA=true."""
    monkeypatch.setenv("RAILWAY_REPLICA_ID", "9f8b2c1e-replica")
    if single_replica:
        assert production(rate_limit_store="memory", single_replica=True)
    else:
        with pytest.raises(ValidationError, match="SINGLE_REPLICA=true"):
            production(rate_limit_store="memory")
    # Off Railway, one process per store is the only rule (WEB_CONCURRENCY=1 here).
    monkeypatch.delenv("RAILWAY_REPLICA_ID")
    assert production(rate_limit_store="memory")
