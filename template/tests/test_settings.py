"""Settings: everywhere but ENV=dev, weak secrets, SQLite, debug and open metrics are refused."""

from typing import Any

import pytest
from pydantic import ValidationError

from app.core.config import Settings, load_settings

STRONG_SECRET = "s" * 40
POSTGRES = "postgresql+asyncpg://app@db:5432/app"
METRICS_TOKEN = "m" * 40
# Every ENV value with production rules, unset included: a deploy that forgets ENV.
STRICT = [{"env": "production"}, {"env": "staging"}, {}]
STRICT_IDS = ["production", "staging", "unset"]


def make(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)


def production(**values: Any) -> Settings:
    """Settings that pass every production rule, with `values` changed."""
    return make(
        **{"secret_key": STRONG_SECRET, "database_url": POSTGRES, "metrics_token": METRICS_TOKEN}
        | values
    )


def test_env_unset_is_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ENV", raising=False)
    assert production().env == "production"


@pytest.mark.parametrize("env", STRICT, ids=STRICT_IDS)
@pytest.mark.parametrize("secret", ["change-me", "secret", "short-but-random-1234"])
def test_production_refuses_a_weak_secret(env: dict[str, str], secret: str) -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        production(secret_key=secret, **env)


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


@pytest.mark.parametrize("proxies", ["*", "10.0.0.1, *"])
def test_trusting_every_proxy_is_refused(proxies: str) -> None:
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
    settings = production()
    assert settings.cors_origins == ("https://a.example.com", "https://b.example.com")


def test_a_bad_configuration_stops_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: object
) -> None:
    monkeypatch.chdir(str(tmp_path))  # no .env here
    monkeypatch.setenv("ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "change-me")
    monkeypatch.setenv("DATABASE_URL", POSTGRES)
    with pytest.raises(SystemExit) as stopped:
        load_settings()
    assert stopped.value.code == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert error.startswith("Configuration error:")
    assert "SECRET_KEY" in error


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
