"""The answers a project is rendered with, and what they render: the deep variants, compose."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from tests.support.commands import run
from tests.support.environment import TOOLS

# The `render` fixture: answers in, the rendered project's folder out.
Render = Callable[..., Path]

# The variants the deep tests install, by test id: the defaults (no Redis, no tracing, Railway),
# and one that turns every option the other way: Redis, OpenTelemetry, Kubernetes, and CORS
# origins replaced (the rendered suite sends a real preflight for each origin). Two installs
# cover every option's both sides.
DEEP_VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    "everything": {
        "rate_limit_store": "redis",
        "tracing": "opentelemetry",
        "deploy_platform": "kubernetes",
        "cors_origins": ["https://app.example.com", "http://localhost:5173"],
    },
}

# Questions whose other values the deep variants do not install, and why.
NOT_INSTALLED = {
    "python_version": "only Python 3.11 is installed here; the template CI's variant job runs each",
    "ci_provider": "tests/deep/test_ci_jobs.py renders each provider's file around `everything`",
}


def answers(project: Path) -> dict[str, Any]:
    """The answers a rendered project was made with (its .copier-answers.yml)."""
    recorded: dict[str, Any] = yaml.safe_load((project / ".copier-answers.yml").read_text())
    return recorded


def compose_services(project: Path) -> dict[str, Any]:
    """The services of the project's docker-compose.yml, once it validates against the
    Compose specification's schema (check-jsonschema ships it: this works offline)."""
    schema = ["--builtin-schema", "vendor.compose-spec"]
    run([str(TOOLS / "check-jsonschema"), *schema, "docker-compose.yml"], cwd=project, timeout=60)
    services: dict[str, Any] = yaml.safe_load((project / "docker-compose.yml").read_text())[
        "services"
    ]
    return services
