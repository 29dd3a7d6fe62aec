"""Only the tracing render has OpenTelemetry files and dependencies, and a trace viewer."""

import re

import pytest

from tests.support.variants import Render, compose_services

OPENTELEMETRY_FILES = ("app/core/tracing.py", "tests/test_tracing.py")


@pytest.mark.parametrize("store", ["memory", "redis"])
def test_only_the_tracing_render_depends_on_opentelemetry(store: str, render: Render) -> None:
    plain = render(rate_limit_store=store)
    traced = render(rate_limit_store=store, tracing="opentelemetry")
    for name in ("pyproject.toml", "app/main.py"):
        assert "opentelemetry" not in (plain / name).read_text().lower(), name
    assert not [name for name in OPENTELEMETRY_FILES if (plain / name).exists()]
    # FastAPI itself requires opentelemetry-api (its calls are no-ops without an SDK);
    # nothing that records or exports a span is installed.
    locked = re.findall(r'^name = "(opentelemetry-[^"]+)"$', (plain / "uv.lock").read_text(), re.M)
    assert set(locked) <= {"opentelemetry-api"}, locked
    assert all((traced / name).is_file() for name in OPENTELEMETRY_FILES)
    dependencies = (traced / "pyproject.toml").read_text()
    assert "opentelemetry-exporter-otlp-proto-http" in dependencies
    assert ("opentelemetry-instrumentation-redis" in dependencies) == (store == "redis")
    assert (traced / "app/core/redis_tracing.py").is_file() == (store == "redis")


@pytest.mark.parametrize("tracing", ["none", "opentelemetry"])
def test_compose_offers_a_trace_viewer_behind_a_profile(tracing: str, render: Render) -> None:
    project = render(tracing=tracing)
    services = compose_services(project)
    environment = services["app"]["environment"]
    if tracing == "none":
        assert "jaeger" not in services
        assert "OTEL_EXPORTER_OTLP_ENDPOINT" not in environment
        return
    # Off unless asked for: a plain `docker compose up` starts no viewer and exports nothing.
    assert services["jaeger"]["profiles"] == ["tracing"]
    assert environment["OTEL_EXPORTER_OTLP_ENDPOINT"] == "${OTEL_EXPORTER_OTLP_ENDPOINT:-}"
    assert "127.0.0.1:16686:16686" in services["jaeger"]["ports"]
