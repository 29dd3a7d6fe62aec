"""Jinja functions used by copier.yml and the template files."""

import json
import re
import secrets
from typing import Any

from jinja2 import Environment
from jinja2.ext import Extension

# An origin is scheme://host[:port]: no path, no trailing slash, no wildcard.
ORIGIN_PATTERN = re.compile(r"^https?://[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,5})?$")


def cors_origins_error(value: Any) -> str:
    """The validator message for the cors_origins answer, or "" when it is valid."""
    accepted = 'a YAML list of origins such as ["https://app.example.com", "http://localhost:3000"]'
    if not isinstance(value, list):
        return f"cors_origins must be {accepted}"
    for origin in value:
        if origin == "*":
            return 'cors_origins must not contain "*": credentials are allowed, so list each origin'
        if not isinstance(origin, str) or not ORIGIN_PATTERN.match(origin):
            problem = "is not an origin (scheme://host[:port], no path)"
            return f"cors_origins: {origin!r} {problem}; expected {accepted}"
    return ""


def random_secret(nbytes: int = 48) -> str:
    """A fresh secret; used only for the untracked .env, which copier renders once."""
    return secrets.token_urlsafe(nbytes)


def toml_string(value: str) -> str:
    """A TOML basic string: JSON's escapes are all valid TOML escapes."""
    return json.dumps(value, ensure_ascii=False)


def python_string(value: str) -> str:
    """A Python string literal quoted the way ruff format quotes it.

    Double quotes, unless the text holds more double quotes than single ones.
    """
    double_quoted = json.dumps(value, ensure_ascii=False)
    if value.count('"') <= value.count("'"):
        return double_quoted
    inner = double_quoted[1:-1].replace('\\"', '"').replace("'", "\\'")
    return f"'{inner}'"


class TemplateFunctions(Extension):
    """Registers the functions above as Jinja globals and filters."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.globals["cors_origins_error"] = cors_origins_error
        environment.globals["random_secret"] = random_secret
        environment.filters["python_string"] = python_string
        environment.filters["toml_string"] = toml_string
