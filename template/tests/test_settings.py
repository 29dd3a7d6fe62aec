"""Settings: production refuses weak secrets and non-PostgreSQL databases."""

from typing import Any

import pytest
from pydantic import ValidationError

from app.core.config import Settings, load_settings

STRONG_SECRET = "s" * 40
POSTGRES = "postgresql+asyncpg://app@db:5432/app"


def make(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)


@pytest.mark.parametrize("secret", ["change-me", "secret", "short-but-random-1234"])
def test_production_refuses_a_weak_secret(secret: str) -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        make(env="production", secret_key=secret, database_url=POSTGRES)


def test_production_refuses_sqlite() -> None:
    with pytest.raises(ValidationError, match="PostgreSQL"):
        make(env="production", secret_key=STRONG_SECRET, database_url="sqlite+aiosqlite:///x.db")


def test_production_forces_debug_off() -> None:
    settings = make(env="production", secret_key=STRONG_SECRET, database_url=POSTGRES, debug=True)
    assert settings.debug is False


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
    assert make(secret_key=STRONG_SECRET, database_url=given).database_url == expected


def test_cors_origins_come_from_a_comma_separated_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example.com, https://b.example.com")
    settings = make(secret_key=STRONG_SECRET, database_url=POSTGRES)
    assert settings.cors_origins == ("https://a.example.com", "https://b.example.com")


def test_cors_wildcard_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ORIGINS", "*")
    with pytest.raises(ValidationError, match="not allowed"):
        make(secret_key=STRONG_SECRET, database_url=POSTGRES)


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
