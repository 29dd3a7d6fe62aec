"""Where the template and its tools are, and environments that keep rendered projects apart."""

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.support.commands import run

TEMPLATE_ROOT = Path(__file__).resolve().parents[2]
# The template's own environment: the command-line tools the tests run (hadolint,
# check-jsonschema, kubernetes-validate, zizmor) are installed there.
TOOLS = Path(sys.executable).parent
# What copier reads from this repository: a release of the template is these paths.
TEMPLATE_FILES = ("copier.yml", "extensions", "upgrades", "template")

# `uv lock`, the template's task, asks the index about every package each time: ~6 s of
# waiting on the network per render for 0.3 s of work. Once one render of the test run has
# locked every package any answers can ask for, the run's other renders lock from the
# cache with this (tests/conftest.py, `locks_from_the_cache`). Installs stay online.
OFFLINE_LOCK = {"UV_OFFLINE": "1"}

# Variables that would make a rendered project use this repository's environment, or that
# the rendered service and its tests read: each subprocess gets them only when a test says so.
_LEAKING_VARIABLES = (
    "VIRTUAL_ENV",
    "PYTHONHOME",
    "PYTHONPATH",
    "UV_PROJECT_ENVIRONMENT",
    "UV_RUN_RECURSION_DEPTH",
    "PYTEST_ADDOPTS",
    "PYTEST_CURRENT_TEST",
    "TEST_DATABASE_URL",
    "TEST_REDIS_URL",
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "ENV",
    "PORT",
)


def project_env(uv_cache_dir: Path, **extra: str) -> dict[str, str]:
    """An environment for commands run inside a rendered project, isolated from this one."""
    env = {key: value for key, value in os.environ.items() if key not in _LEAKING_VARIABLES}
    own_bin = str(Path(sys.prefix) / "bin")
    env["PATH"] = os.pathsep.join(
        entry for entry in env.get("PATH", "").split(os.pathsep) if entry and entry != own_bin
    )
    env["UV_CACHE_DIR"] = str(uv_cache_dir)
    # Only PyPI is reachable: fail at once instead of trying to download an interpreter.
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env.update(extra)
    return env


@dataclass(frozen=True)
class InstalledProject:
    """A rendered project with its own .venv, and how to run commands inside it."""

    path: Path
    uv_cache_dir: Path

    def env(self, **extra: str) -> dict[str, str]:
        # Its own TMPDIR keeps the project's pytest runs from rotating this run's basetemps.
        tmp = self.path.parent / "tmp"
        tmp.mkdir(exist_ok=True)
        # Its own pre-commit home too, for the hooks' cache and logs.
        pre_commit_home = str(self.path.parent / "pre-commit")
        return project_env(
            self.uv_cache_dir, TMPDIR=str(tmp), PRE_COMMIT_HOME=pre_commit_home, **extra
        )

    def run(self, *command: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
        __tracebackhide__ = True
        return run(command, cwd=self.path, env=self.env(**extra_env))
