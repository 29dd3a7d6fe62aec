"""Values derived from the answers, computed once for every template file."""

import json
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
            context["cors_origins_tuple"] = python_tuple(
                context["cors_origins_list"], CORS_ORIGINS_ASSIGNMENT
            )


# The line of app/core/defaults.py.jinja that receives the tuple literal.
CORS_ORIGINS_ASSIGNMENT = "CORS_ORIGINS: Final[tuple[str, ...]] = "
LINE_LENGTH = 100  # the rendered project's ruff line-length


def python_tuple(values: list[str], assignment: str) -> str:
    """A tuple literal laid out exactly as ruff format would lay it out after `assignment`."""
    items = [json.dumps(value) for value in values]
    one_line = "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if len(assignment) + len(one_line) <= LINE_LENGTH:
        return one_line
    return "(\n" + "".join(f"    {item},\n" for item in items) + ")"
