"""The project's commands run as real processes against the test database."""

import os
import subprocess
import sys

from app.core.config import Settings
from tests.conftest import PROJECT_ROOT


def process_env(settings: Settings, **variables: str) -> dict[str, str]:
    """The environment of a project's process on the test database, with `variables`."""
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "SECRET_KEY": settings.secret_key.get_secret_value(),
        "ENV": "dev",  # the test database may be SQLite; unset would mean production
        **variables,
    }
    if "SUPERUSER_PASSWORD" not in variables:  # never the developer's own
        env.pop("SUPERUSER_PASSWORD", None)
    return env


def run_module(
    settings: Settings, module: str, *args: str, **variables: str
) -> subprocess.CompletedProcess[str]:
    """`python -m module args` on the test database, with `variables` added to its
    environment; its output captured, its exit status left to the test."""
    return subprocess.run(  # noqa: S603 - a fixed command line
        [sys.executable, "-m", module, *args],
        cwd=PROJECT_ROOT,
        env=process_env(settings, **variables),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def run_cli(
    settings: Settings, *args: str, password: str | None
) -> subprocess.CompletedProcess[str]:
    """`python -m app.cli args`, with `password` as SUPERUSER_PASSWORD when given."""
    variables = {"BCRYPT_ROUNDS": "4"}
    if password is not None:
        variables["SUPERUSER_PASSWORD"] = password
    return run_module(settings, "app.cli", *args, **variables)
