""".env.example against Settings: every setting documented with its default, nothing stale."""

import re
from pathlib import Path

import pytest

from app.core.config import Settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENV_EXAMPLE = PROJECT_ROOT / ".env.example"
# `NAME=value` as a line of its own, or commented out as `# NAME=value` with a value that
# is one word or quoted: a comment that mentions `ENV=dev (or ...)` is prose, not a setting.
ACTIVE = re.compile(r"^([A-Z][A-Z0-9_]*)=(.*)$")
COMMENTED = re.compile(r'^#\s*([A-Z][A-Z0-9_]*)=("(?:[^"\\]|\\.)*"|\S*)$')
SETTINGS = {name.upper(): field for name, field in Settings.model_fields.items()}


def documented() -> dict[str, str | None]:
    """Each variable .env.example names: its value when the line is active, else None."""
    variables: dict[str, str | None] = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if active := ACTIVE.match(line):
            variables[active[1]] = active[2]
        elif (commented := COMMENTED.match(line)) and commented[1] not in variables:
            variables[commented[1]] = None
    return variables


def test_every_setting_is_documented() -> None:
    assert sorted(SETTINGS.keys() - documented().keys()) == []


def test_every_other_variable_is_read_by_the_service() -> None:
    """A variable that is no setting must be read elsewhere: by the code, the start script,
    or (OTEL_*) by the OpenTelemetry SDK of a traced project."""
    code = "\n".join(
        path.read_text()
        for path in [*(PROJECT_ROOT / "app").rglob("*.py"), PROJECT_ROOT / "scripts/start.sh"]
    )
    traced = (PROJECT_ROOT / "app/core/tracing.py").exists()
    stale = [
        name
        for name in documented().keys() - SETTINGS.keys()
        if name not in code and not (traced and name.startswith("OTEL_"))
    ]
    assert stale == []


def test_active_values_are_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    """Copying .env.example to .env changes nothing but the values that have no default."""
    variables = documented()
    for name in variables:
        monkeypatch.delenv(name, raising=False)
    # ENV=dev only so that the example's placeholder SECRET_KEY is accepted.
    example = Settings(_env_file=ENV_EXAMPLE, env="dev")
    assert variables["ENV"] == SETTINGS["ENV"].default
    for name, field in SETTINGS.items():
        if variables.get(name) is not None and not field.is_required() and name != "ENV":
            assert getattr(example, name.lower()) == field.default, name
