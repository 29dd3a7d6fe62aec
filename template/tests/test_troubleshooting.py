"""docs/troubleshooting.md shows every refusal the settings print at start, as printed:
each line is produced here by load_settings(), and every validator has its case."""

import ast
import re
from pathlib import Path

import pytest

from app.core import answers
from app.core.config import Settings, load_settings
from tests.conftest import PROJECT_ROOT

PAGE = PROJECT_ROOT / "docs/troubleshooting.md"
CONFIG = PROJECT_ROOT / "app/core/config.py"
# Variables read from the process environment besides the settings' own.
OTHER_VARIABLES = ("RAILWAY_REPLICA_ID", "PROMETHEUS_MULTIPROC_DIR")

# A production environment that starts; each case changes it (None: the variable unset).
STARTS = {
    "ENV": "production",
    "SECRET_KEY": "Xq7vK2pL9sRt4wZb8nMc3yHd6fJg1aUe5iOo0QrT",
    "DATABASE_URL": "postgresql+asyncpg://app@db:5432/app",
    "METRICS_TOKEN": "vW3kP8qN2xL7rT5mB9sJ4dH6fG1cY0aZ",
    "CORS_ORIGINS": "https://app.example.com",
    "SMTP_HOST": "smtp.example.com",
    "MAIL_FROM": "service@example.com",
    "FRONTEND_URL": "https://app.example.com",
}
MISSING: dict[str, dict[str, str | None]] = {
    "secret-missing": {"SECRET_KEY": None},
    "database-missing": {"DATABASE_URL": None},
}
# One case per `raise ValueError(...)` of app/core/config.py, in its order.
REFUSED: dict[str, dict[str, str | None]] = {
    "cors-wildcard": {"CORS_ORIGINS": "*"},
    "proxies-wildcard": {"FORWARDED_ALLOW_IPS": "*"},
    "proxies-everyone": {"FORWARDED_ALLOW_IPS": "0.0.0.0/0"},
    "rate-limit": {"RATE_LIMIT_LOGIN": "often"},
    "memory-store-workers": {"RATE_LIMIT_STORE": "memory", "WEB_CONCURRENCY": "4"},
    "memory-store-railway": {"RATE_LIMIT_STORE": "memory", "RAILWAY_REPLICA_ID": "a1b2"},
    "verification-without-mail": {"EMAIL_VERIFICATION": "required", "EMAIL_BACKEND": "off"},
    # With the memory store, the rule above refuses several workers first.
    "metrics-workers": {"RATE_LIMIT_STORE": answers.RATE_LIMIT_STORE, "WEB_CONCURRENCY": "4"},
    "secret-short": {"SECRET_KEY": "change-me"},
    "secret-predictable": {"SECRET_KEY": "ab" * 32},
    "bcrypt-rounds": {"BCRYPT_ROUNDS": "4"},
    "sqlite": {"DATABASE_URL": "sqlite+aiosqlite:///./service.db"},
    "metrics-public": {"METRICS_TOKEN": None},
    "metrics-token-short": {"METRICS_TOKEN": "short"},
    "cors-http": {"CORS_ORIGINS": "http://app.example.com"},
    "console-mail": {"EMAIL_BACKEND": "console"},
    "smtp-host-missing": {"SMTP_HOST": None},
    "smtp-plain-text": {"SMTP_TLS": "none"},
    "frontend-http": {"FRONTEND_URL": "http://app.example.com"},
}
CASES = MISSING | REFUSED


def set_environment(
    change: dict[str, str | None], monkeypatch: pytest.MonkeyPatch, folder: Path
) -> None:
    """STARTS changed by `change`, in a folder with no .env and an environment holding
    nothing else the settings read."""
    monkeypatch.chdir(folder)
    for name in [*Settings.model_fields, *OTHER_VARIABLES]:
        monkeypatch.delenv(name.upper(), raising=False)
    for name, value in (STARTS | change).items():
        if value is not None:
            monkeypatch.setenv(name, value)


def printed_at_start(
    change: dict[str, str | None],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    folder: Path,
) -> str:
    """The line load_settings() prints, and stops with, in that environment."""
    set_environment(change, monkeypatch, folder)
    with pytest.raises(SystemExit):
        load_settings()
    return capsys.readouterr().err.strip()


def page_lines() -> list[str]:
    """The lines of the page's ```text blocks that start with "Configuration error"."""
    blocks = re.findall(r"^```text\n(.*?)^```$", PAGE.read_text(), re.S | re.M)
    return [
        line for block in blocks for line in block.splitlines() if line.startswith("Configuration")
    ]


def test_the_starting_environment_starts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    set_environment({}, monkeypatch, tmp_path)
    assert load_settings().env == "production"


@pytest.mark.parametrize("case", CASES)
def test_each_refusal_is_on_the_page_as_printed(
    case: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    line = printed_at_start(CASES[case], monkeypatch, capsys, tmp_path)
    assert line.startswith("Configuration error: "), line
    assert line in page_lines(), f"docs/troubleshooting.md does not show: {line}"


def test_the_page_shows_nothing_that_is_no_longer_printed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    printed = {printed_at_start(change, monkeypatch, capsys, tmp_path) for change in CASES.values()}
    assert [line for line in page_lines() if line not in printed] == []


def test_every_refusal_of_the_settings_has_its_case() -> None:
    refusals = [
        node
        for node in ast.walk(ast.parse(CONFIG.read_text()))
        if isinstance(node, ast.Raise)
        and isinstance(node.exc, ast.Call)
        and getattr(node.exc.func, "id", None) == "ValueError"
        and node.exc.args
    ]
    assert len(refusals) == len(REFUSED)
