"""Values derived from the answers, computed once for every template file."""

from typing import Any

from copier_template_extensions import ContextHook


class DerivedValues(ContextHook):
    """Adds names and flags that several rendered files need to agree on."""

    def hook(self, context: dict[str, Any]) -> None:
        # The hook also runs while question defaults are rendered, before later
        # answers exist: derive only what the present answers allow.
        slug = context.get("project_slug")
        if isinstance(slug, str) and slug:
            identifier = slug.replace("-", "_")
            context["database_name"] = identifier
            context["image_name"] = slug
        store = context.get("rate_limit_store")
        if store is not None:
            context["use_redis"] = store == "redis"
        tracing = context.get("tracing")
        if tracing is not None:
            context["use_tracing"] = tracing == "opentelemetry"
        origins = context.get("cors_origins")
        if isinstance(origins, list):
            context["cors_origins_list"] = [str(origin) for origin in origins]
